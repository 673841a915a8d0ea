"""SVG path data: Plotly's marker symbols, polylines, splines (exact quadratic Béziers where the
points sample one) and the runs of points a line is drawn through."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from ctsite.figures.preview.svg import num

Point = tuple[float, float]  # px
DASHES = {"dot": "2,3", "dash": "6,4", "dashdot": "6,3,2,3", "longdash": "10,5"}


def symbol_path(symbol: str, r: float, angle: float = 0.0, cx: float = 0.0, cy: float = 0.0) -> str:
    """The SVG path of a Plotly marker symbol of radius r centred on (cx, cy) (Plotly's shapes,
    turned by `angle` degrees clockwise)."""
    base = symbol.removesuffix("-open").removesuffix("-dot")
    sqrt3 = math.sqrt(3)
    if base == "square":
        points = [(r, r), (-r, r), (-r, -r), (r, -r)]
    elif base == "diamond":
        d = r * 1.3
        points = [(d, 0), (0, d), (-d, 0), (0, -d)]
    elif base == "triangle-up":
        t = r * 2 / sqrt3
        points = [(-t, r / 2), (t, r / 2), (0, -r)]
    elif base == "pentagon":
        points = [
            (r * 0.951, -r * 0.309), (r * 0.588, r * 0.809), (-r * 0.588, r * 0.809),
            (-r * 0.951, -r * 0.309), (0, -r),
        ]  # fmt: skip
    elif base == "arrow":
        head = math.pi / 2.5
        x, y = 2 * r * math.cos(head), 2 * r * math.sin(head)
        points = [(0, 0), (-x, y), (x, y)]
    else:  # circle
        a = f"A{num(r)},{num(r)} 0 "
        return (
            f"M{num(cx + r)},{num(cy)}{a}1,1 {num(cx)},{num(cy - r)}{a}0,1 {num(cx + r)},{num(cy)}Z"
        )
    if angle:
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        points = [(px * c - py * s, px * s + py * c) for px, py in points]
    return polyline([(cx + px, cy + py) for px, py in points]) + "Z"


def polyline(points: Sequence[Point]) -> str:
    """Straight segments through the points."""
    return "M" + "L".join(f"{num(x)},{num(y)}" for x, y in points)


def quadratic(points: list[Point], tolerance: float = 0.5) -> str | None:
    """One quadratic Bézier segment when the points are samples of one at even steps of its
    parameter (the Circos chords are), else None."""
    n = len(points)
    if n < 5 or n % 2 == 0:
        return None
    (x0, y0), (xm, ym), (x2, y2) = points[0], points[n // 2], points[-1]
    cx, cy = 2 * xm - (x0 + x2) / 2, 2 * ym - (y0 + y2) / 2
    for i, (x, y) in enumerate(points):
        t = i / (n - 1)
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        if (
            abs(a * x0 + b * cx + c * x2 - x) > tolerance
            or abs(a * y0 + b * cy + c * y2 - y) > tolerance
        ):
            return None
    return f"M{num(x0)},{num(y0)}Q{num(cx)},{num(cy)} {num(x2)},{num(y2)}"


def spline(points: list[Point]) -> str:
    """A smooth path through the points (Catmull-Rom as cubic Béziers, like Plotly's spline;
    exactly the curve when the points sample one quadratic Bézier)."""
    exact = quadratic(points)
    if exact is not None:
        return exact
    if len(points) < 3:
        return polyline(points)
    parts = [f"M{num(points[0][0])},{num(points[0][1])}"]
    padded = [points[0], *points, points[-1]]
    for i in range(1, len(padded) - 2):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = padded[i - 1 : i + 3]
        c1 = (x1 + (x2 - x0) / 6, y1 + (y2 - y0) / 6)
        c2 = (x2 - (x3 - x1) / 6, y2 - (y3 - y1) / 6)
        parts.append(f"C{num(c1[0])},{num(c1[1])} {num(c2[0])},{num(c2[1])} {num(x2)},{num(y2)}")
    return "".join(parts)


def runs(points: list[Point | None]) -> Iterator[list[Point]]:
    """The polylines of a trace (None points are gaps: connectgaps is off in every figure)."""
    run: list[Point] = []
    for p in points:
        if p is None:
            if len(run) > 1:
                yield run
            run = []
        else:
            run.append(p)
    if len(run) > 1:
        yield run

"""SVG path data: Plotly's marker symbols, polylines, splines (exact quadratic Béziers where the
points sample one), the runs of points a line is drawn through, and layout shapes' paths."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence

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


_SEGMENT = re.compile(r"[MLHVQCTSZ][^MLHVQCTSZ]*")
_PARAM = re.compile(r"[^\s,]+")
_PAIRS = {"M": 1, "L": 1, "T": 1, "Q": 2, "S": 2, "C": 3}
Segment = tuple[str, list[Point]]  # a command letter and its points (px)


def shape_segments(path: str, to_px: Callable[[float, float], Point]) -> list[Segment] | None:
    """A layout shape's path (absolute M, L, H, V, Q, C, T, S and Z, as Plotly takes them) as
    segments with every point mapped by `to_px` (H and V become L); None if it is not such a
    path."""
    if not path or _SEGMENT.sub("", path).strip():
        return None
    out: list[Segment] = []
    x = y = 0.0
    for segment in _SEGMENT.findall(path):
        kind = segment[0]
        try:
            params = [float(p) for p in _PARAM.findall(segment[1:])]
        except ValueError:
            return None
        if not all(math.isfinite(v) for v in params):
            return None
        if kind == "Z":
            out.append(("Z", []))
        elif kind in "HV":
            if len(params) != 1:
                return None
            x, y = (params[0], y) if kind == "H" else (x, params[0])
            out.append(("L", [to_px(x, y)]))
        else:
            if len(params) != 2 * _PAIRS[kind]:
                return None
            pairs = [(params[i], params[i + 1]) for i in range(0, len(params), 2)]
            x, y = pairs[-1]
            out.append((kind, [to_px(px, py) for px, py in pairs]))
    return out


def segments_path(segments: Sequence[Segment]) -> str:
    """Path data of segments (numbers and command letters only)."""
    return "".join(
        kind + " ".join(f"{num(x)},{num(y)}" for x, y in points) for kind, points in segments
    )


def thin_quad(segments: Sequence[Segment], limit: float = 1.5) -> tuple[Point, Point, float] | None:
    """A closed four-corner subpath (M, L, L, L, Z) whose first and third sides are shorter than
    `limit` px (a ring cell thinner than a pixel or so) as the line along its middle and that
    line's width; else None. Drawn so, it is a quarter of the path data."""
    if [kind for kind, _ in segments] != ["M", "L", "L", "L", "Z"]:
        return None
    (p0,), (p1,), (p2,), (p3,) = (points for _, points in segments[:4])
    a, b = math.dist(p0, p1), math.dist(p2, p3)
    if a >= limit or b >= limit:
        return None
    start = ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
    end = ((p2[0] + p3[0]) / 2, (p2[1] + p3[1]) / 2)
    return start, end, (a + b) / 2

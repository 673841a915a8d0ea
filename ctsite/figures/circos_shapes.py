"""The Circos figure's drawn geometry as Plotly layout shapes: SVG paths in paper coordinates.

Why shapes: Plotly draws every gap-separated piece of a line trace, and every bar and marker, as
an SVG element of its own and styles each one (a study-scale view had ~16,000 of them: most of a
redraw's time). A shape is one <path> however many pieces it holds, and its path takes exact
quadratic Béziers (the chords) instead of samples smoothed by Plotly's spline. The figure is laid
out in px for one width class (`circos_labels.CircosLayout`: the circle's centre and radius), so
polar coordinates map to paper ones exactly where Plotly draws the polar subplot's traces.

Numbers are written with 5 decimals (a hundredth of a px) from the integer `rint(value · 10⁵)`,
which the engine (web-assets/engine/circos_shapes.js) computes and writes identically.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ctsite.figures import geometry
from ctsite.figures.circos_labels import CircosLayout

DIGITS = 5


def _rounded(values: np.ndarray) -> np.ndarray:
    """rint(value · 10⁵) / 10⁵: the double nearest to the 5-decimal number written (−0 as 0,
    which the engine's toFixed writes without a sign)."""
    return np.rint(np.asarray(values, float) * 10.0**DIGITS) / 10.0**DIGITS + 0.0


def texts(values: np.ndarray) -> list[str]:
    """Paper coordinates as path numbers: 5 decimals, always written out (the double nearest a
    5-decimal number prints as exactly that number)."""
    return [f"{v:.{DIGITS}f}" for v in _rounded(values).tolist()]


def _paper(layout: CircosLayout, px: np.ndarray, py: np.ndarray) -> list[str]:
    """Points in px (y down) → "x,y" in paper coordinates (y up)."""
    cls = layout.width_class
    xs, ys = _rounded(px / cls.width).tolist(), _rounded(1 - py / cls.height).tolist()
    return [f"{x:.5f},{y:.5f}" for x, y in zip(xs, ys, strict=True)]  # (5 = DIGITS)


def polar_points(layout: CircosLayout, r: np.ndarray, theta: np.ndarray) -> list[str]:
    """Polar points (r in sector-ring radii, theta in degrees clockwise from the top) as
    "x,y" paper coordinates (`CircosLayout.point`)."""
    a = np.radians(np.asarray(theta, float))
    rho = np.asarray(r, float) * layout.radius
    cx, cy = layout.centre
    return _paper(layout, cx + rho * np.sin(a), cy - rho * np.cos(a))


def plane_points(layout: CircosLayout, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Points of the polar plane (x = r·sin θ, y = r·cos θ) as "x,y" paper coordinates."""
    cx, cy = layout.centre
    return _paper(layout, cx + layout.radius * np.asarray(x), cy - layout.radius * np.asarray(y))


def chord_paths(
    layout: CircosLayout, theta_from: np.ndarray, theta_to: np.ndarray, radius: float
) -> list[str]:
    """Each chord's path: one quadratic Bézier (`geometry.chord_beziers`)."""
    x0, y0, cx, cy, x2, y2 = geometry.chord_beziers(theta_from, theta_to, radius)
    start, control, end = (
        plane_points(layout, x0, y0),
        plane_points(layout, cx, cy),
        plane_points(layout, x2, y2),
    )
    return [f"M{a}Q{b} {c}" for a, b, c in zip(start, control, end, strict=True)]


def cell_paths(
    layout: CircosLayout, radii: tuple[float, float], starts: np.ndarray, ends: np.ndarray
) -> list[str]:
    """Each ring cell's closed path: along the outer radius from its start to its end angle,
    back along the inner one (arcs cut into pieces of at most `geometry.ARC_STEP`)."""
    starts, ends = np.asarray(starts, float), np.asarray(ends, float)
    if not len(starts):
        return []
    pieces = geometry.arc_pieces(starts, ends)
    angle = geometry.arc_points(starts, ends, pieces)
    outer = polar_points(layout, np.full(len(angle), radii[1]), angle)
    inner = polar_points(layout, np.full(len(angle), radii[0]), angle)
    bounds = np.append(0, np.cumsum(pieces + 1)).tolist()
    out = []
    for lo, hi in itertools.pairwise(bounds):
        points = outer[lo:hi] + inner[lo:hi][::-1]
        out.append(f"M{points[0]}L{'L'.join(points[1:])}Z")
    return out


def leader_paths(layout: CircosLayout) -> list[str]:
    """Each gene label's leader: radially from just outside the dc1 ring to a knee, then to
    where its text starts."""
    cls = layout.width_class
    start, knee = cls.leader
    end = cls.text - 2.0 / layout.radius
    n = len(layout.labels)
    r = np.tile([start, knee, end], n)
    theta = np.array([[g.theta, g.theta, g.phi] for g in layout.labels], dtype=float).ravel()
    points = polar_points(layout, r, theta)
    return [f"M{points[3 * i]}L{points[3 * i + 1]}L{points[3 * i + 2]}" for i in range(n)]


def path_shape(
    name: str,
    paths: list[str],
    *,
    line: dict[str, Any],
    fillcolor: str | None = None,
    opacity: float | None = None,
) -> dict[str, Any]:
    """One layout shape drawing all `paths` (above the traces, in paper coordinates)."""
    shape: dict[str, Any] = {
        "type": "path",
        "name": name,
        "xref": "paper",
        "yref": "paper",
        "layer": "above",
        "path": "".join(paths),
        "line": line,
    }
    if fillcolor is not None:
        shape["fillcolor"] = fillcolor
    if opacity is not None:
        shape["opacity"] = opacity
    return shape

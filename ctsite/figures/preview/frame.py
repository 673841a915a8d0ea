"""The coordinate frame of a figure (paper, x/y and polar coordinates → px) and what a trace's
data becomes in it: its points and its markers' colours."""

from __future__ import annotations

import math
from typing import Any

from ctsite.figures.preview.paint import checked_color, scale_colors
from ctsite.figures.preview.paths import Point
from ctsite.figures.preview.values import each, number


class Frame:
    """Paper and plot-area geometry of one figure."""

    def __init__(self, layout: dict[str, Any], width: float, height: float) -> None:
        margin = layout.get("margin") or {}
        self.width, self.height = width, height
        self.left = float(margin.get("l", 80))
        self.right = width - float(margin.get("r", 80))
        self.top = float(margin.get("t", 100))
        self.bottom = height - float(margin.get("b", 80))
        xr = (layout.get("xaxis") or {}).get("range") or [0, 1]
        yr = (layout.get("yaxis") or {}).get("range") or [0, 1]
        self.x_range = (float(xr[0]), float(xr[1]))
        self.y_range = (float(yr[0]), float(yr[1]))
        polar = layout.get("polar") or {}
        self.polar = polar
        self.radial_max = float(((polar.get("radialaxis") or {}).get("range") or [0, 1])[1])
        angular = polar.get("angularaxis") or {}
        self.clockwise = angular.get("direction") == "clockwise"
        self.rotation = float(angular.get("rotation", 0))
        self._box: tuple[float, float, float] | None = None

    # plot area (after the margins were pushed by the legend and the colour bars)
    @property
    def plot_width(self) -> float:
        return max(1.0, self.right - self.left)

    @property
    def plot_height(self) -> float:
        return max(1.0, self.bottom - self.top)

    def paper(self, x: float, y: float) -> Point:
        return self.left + x * self.plot_width, self.bottom - y * self.plot_height

    def xy(self, x: float, y: float) -> Point:
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        px = self.left + (x - x0) / (x1 - x0) * self.plot_width
        py = self.bottom - (y - y0) / (y1 - y0) * self.plot_height
        return px, py

    def polar_box(self) -> tuple[float, float, float]:
        """Centre and radius (px) of the polar subplot: a circle as large as its domain allows
        (computed once the margins are final, i.e. at the first point drawn)."""
        if self._box is None:
            self._box = self._polar_box()
        return self._box

    def _polar_box(self) -> tuple[float, float, float]:
        domain = self.polar.get("domain") or {}
        dx, dy = domain.get("x") or [0, 1], domain.get("y") or [0, 1]
        x0, x1 = self.left + dx[0] * self.plot_width, self.left + dx[1] * self.plot_width
        y1, y0 = self.bottom - dy[0] * self.plot_height, self.bottom - dy[1] * self.plot_height
        radius = min(x1 - x0, y1 - y0) / 2
        return (x0 + x1) / 2, (y0 + y1) / 2, radius

    def screen_angle(self, theta: float) -> float:
        """Degrees counter-clockwise from the +x axis, as on screen."""
        return self.rotation - theta if self.clockwise else self.rotation + theta

    def rt(self, r: float, theta: float) -> Point:
        cx, cy, radius = self.polar_box()
        rho = r / self.radial_max * radius
        a = math.radians(self.screen_angle(theta))
        return cx + rho * math.cos(a), cy - rho * math.sin(a)


def trace_points(trace: dict[str, Any], frame: Frame) -> list[Point | None]:
    """A scatter or scatterpolar trace's points in px (None where a coordinate is missing)."""
    out: list[Point | None] = []
    if trace.get("type") == "scatterpolar":
        rs, thetas = trace.get("r") or [], trace.get("theta") or []
        for r, t in zip(rs, thetas, strict=False):
            rv, tv = number(r), number(t)
            out.append(None if rv is None or tv is None else frame.rt(rv, tv))
    else:
        for x, y in zip(trace.get("x") or [], trace.get("y") or [], strict=False):
            xv, yv = number(x), number(y)
            out.append(None if xv is None or yv is None else frame.xy(xv, yv))
    return out


def marker_colors(marker: dict[str, Any], n: int) -> list[str]:
    """The checked colours of n markers: given, or numbers on the marker's colour scale."""
    color = marker.get("color", "#1f77b4")
    scale = marker.get("colorscale")
    values = each(color, n, "#1f77b4")
    if scale and any(number(v) is not None for v in values):
        numbers = [number(v) for v in values]
        finite = [v for v in numbers if v is not None]
        lo = number(marker.get("cmin"))
        hi = number(marker.get("cmax"))
        lo = min(finite) if lo is None else lo
        hi = max(finite) if hi is None else hi
        return scale_colors(scale, numbers, lo, hi)
    return [checked_color(v, "#1f77b4") for v in values]

"""A static SVG picture of a figure, drawn in Python from the same Plotly figure dict.

The figure pages show this picture first (it is part of the HTML, so nothing has to run in the
browser before the figure is seen) and swap in the interactive Plotly figure on the first
interaction. It draws exactly what the figures use: `scatter` and `scatterpolar` lines (straight
or spline), markers (the symbols of the three figures, per-point colours, sizes and opacities,
colour scales) and text, `barpolar` bars, rectangle shapes, annotations, the x axis' tick labels,
colour bars and a horizontal legend, laid out the way Plotly lays them out (margins pushed by the
legend and the colour bars, polar domains kept square). It is a faithful picture, not a pixel copy:
text widths are estimated, and hover, zoom and every other interaction belong to Plotly.

Every string that reaches the SVG is escaped and every colour is checked, so names from the data
can never become markup.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

NOMINAL_WIDTH = 900  # px: the width the picture is laid out for (it scales with its box)
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_COLOR = re.compile(
    r"#[0-9a-fA-F]{3,8}|rgba?\(\s*[\d.]+\s*,\s*[\d.]+\s*,\s*[\d.]+\s*(,\s*[\d.]+\s*)?\)|[a-z]{3,20}"
)
_TAG = re.compile(r"<[^>]*>")


# ------------------------------------------------------------------ small helpers


def _f(value: float) -> str:
    """A coordinate or size, compactly (one decimal: a tenth of a pixel at the nominal width)."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _o(value: float) -> str:
    """An opacity (two decimals)."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _attr(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _color(value: Any, default: str = "#444444") -> str:
    """A colour safe to put in an attribute (anything unexpected becomes `default`)."""
    if isinstance(value, str) and _COLOR.fullmatch(value.strip()):
        return value.strip()
    return default


def _parse_color(color: str) -> tuple[float, float, float, float]:
    color = color.strip()
    if color.startswith("#"):
        digits = color[1:]
        if len(digits) in (3, 4):
            digits = "".join(ch * 2 for ch in digits)
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        a = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return r, g, b, a
    if color.startswith("rgb"):
        parts = [float(p) for p in color[color.index("(") + 1 : -1].split(",")]
        return parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0
    return 0.0, 0.0, 0.0, 1.0


def _hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{max(0, min(255, round(v))):02x}" for v in (r, g, b))


def _scale_color(scale: Sequence[Sequence[Any]], value: float, lo: float, hi: float) -> str:
    """The colour of `value` on a Plotly colour scale over [lo, hi] (linear in RGB, as Plotly)."""
    return _scale_colors(scale, [value], lo, hi)[0]


def _scale_colors(
    scale: Sequence[Sequence[Any]], values: Sequence[float | None], lo: float, hi: float
) -> list[str]:
    """`_scale_color` of many values (the scale's stops parsed once); None → light grey."""
    stops = [(float(s), _parse_color(_color(c))) for s, c in scale]
    return ["#cccccc" if v is None else _on_scale(stops, v, lo, hi) for v in values]


def _on_scale(
    stops: list[tuple[float, tuple[float, float, float, float]]], value: float, lo: float, hi: float
) -> str:
    t = 0.5 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    for (s0, c0), (s1, c1) in itertools.pairwise(stops):
        if t <= s1:
            w = 0.0 if s1 <= s0 else (t - s0) / (s1 - s0)
            return _hex(*(c0[i] + (c1[i] - c0[i]) * w for i in range(3)))
    return _hex(*stops[-1][1][:3])


def _each(value: Any, n: int, default: Any = None) -> list[Any]:
    """A per-point property as a list of n values (a scalar repeated)."""
    if isinstance(value, list | tuple):
        out = list(value)[:n]
        return out + [default] * (n - len(out))
    return [default if value is None else value] * n


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _plain(text: Any) -> tuple[str, bool]:
    """Plotly's text markup (`<b>`, `<br>`, entities) → plain text and whether it is bold."""
    raw = str(text or "")
    bold = "<b>" in raw.lower()
    plain = html.unescape(_TAG.sub(" ", raw.replace("<br>", " ")))
    return " ".join(plain.split()), bold


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An estimate of the rendered width of `text` in a sans-serif font."""
    narrow, wide = set("iljtfrI.,:;'|! "), set("mwMW@%")
    units = sum(0.3 if ch in narrow else 0.88 if ch in wide else 0.6 for ch in text)
    return units * size * (1.12 if bold else 1.0)


def _text(
    x: float, y: float, text: str, size: float, color: str, *, anchor: str = "start",
    bold: bool = False, baseline: str = "middle", halo: bool = False, extra: str = "",
) -> str:  # fmt: skip
    dy = {"middle": size * 0.35, "top": size * 0.8, "bottom": -size * 0.2}[baseline]
    attrs = [
        f'x="{_f(x)}" y="{_f(y + dy)}"',
        f'font-size="{_f(size)}"',
        f'fill="{color}"',
    ]
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if bold:
        attrs.append('font-weight="bold"')
    if halo:
        attrs.append(
            'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
        )
    if extra:
        attrs.append(extra)
    return f"<text {' '.join(attrs)}>{html.escape(text, quote=False)}</text>"


# ------------------------------------------------------------------ marker symbols


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
        a = f"A{_f(r)},{_f(r)} 0 "
        return f"M{_f(cx + r)},{_f(cy)}{a}1,1 {_f(cx)},{_f(cy - r)}{a}0,1 {_f(cx + r)},{_f(cy)}Z"
    if angle:
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        points = [(px * c - py * s, px * s + py * c) for px, py in points]
    return "M" + "L".join(f"{_f(cx + px)},{_f(cy + py)}" for px, py in points) + "Z"


# ------------------------------------------------------------------ lines


def _quadratic(points: list[tuple[float, float]], tolerance: float = 0.5) -> str | None:
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
    return f"M{_f(x0)},{_f(y0)}Q{_f(cx)},{_f(cy)} {_f(x2)},{_f(y2)}"


def _spline(points: list[tuple[float, float]]) -> str:
    """A smooth path through the points (Catmull-Rom as cubic Béziers, like Plotly's spline;
    exactly the curve when the points sample one quadratic Bézier)."""
    exact = _quadratic(points)
    if exact is not None:
        return exact
    if len(points) < 3:
        return "M" + "L".join(f"{_f(x)},{_f(y)}" for x, y in points)
    parts = [f"M{_f(points[0][0])},{_f(points[0][1])}"]
    padded = [points[0], *points, points[-1]]
    for i in range(1, len(padded) - 2):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = padded[i - 1 : i + 3]
        c1 = (x1 + (x2 - x0) / 6, y1 + (y2 - y0) / 6)
        c2 = (x2 - (x3 - x1) / 6, y2 - (y3 - y1) / 6)
        parts.append(f"C{_f(c1[0])},{_f(c1[1])} {_f(c2[0])},{_f(c2[1])} {_f(x2)},{_f(y2)}")
    return "".join(parts)


def _runs(points: list[tuple[float, float] | None]) -> Iterator[list[tuple[float, float]]]:
    """The polylines of a trace (None points are gaps: connectgaps is off in every figure)."""
    run: list[tuple[float, float]] = []
    for p in points:
        if p is None:
            if len(run) > 1:
                yield run
            run = []
        else:
            run.append(p)
    if len(run) > 1:
        yield run


DASHES = {"dot": "2,3", "dash": "6,4", "dashdot": "6,3,2,3", "longdash": "10,5"}


# ------------------------------------------------------------------ the renderer


class _Frame:
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

    def paper(self, x: float, y: float) -> tuple[float, float]:
        return self.left + x * self.plot_width, self.bottom - y * self.plot_height

    def xy(self, x: float, y: float) -> tuple[float, float]:
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

    def rt(self, r: float, theta: float) -> tuple[float, float]:
        cx, cy, radius = self.polar_box()
        rho = r / self.radial_max * radius
        a = math.radians(self.screen_angle(theta))
        return cx + rho * math.cos(a), cy - rho * math.sin(a)


def _points(trace: dict[str, Any], frame: _Frame) -> list[tuple[float, float] | None]:
    out: list[tuple[float, float] | None] = []
    if trace.get("type") == "scatterpolar":
        rs, thetas = trace.get("r") or [], trace.get("theta") or []
        for r, t in zip(rs, thetas, strict=False):
            rv, tv = _number(r), _number(t)
            out.append(None if rv is None or tv is None else frame.rt(rv, tv))
    else:
        for x, y in zip(trace.get("x") or [], trace.get("y") or [], strict=False):
            xv, yv = _number(x), _number(y)
            out.append(None if xv is None or yv is None else frame.xy(xv, yv))
    return out


def _marker_colors(marker: dict[str, Any], n: int) -> list[str]:
    color = marker.get("color", "#1f77b4")
    scale = marker.get("colorscale")
    values = _each(color, n, "#1f77b4")
    if scale and any(_number(v) is not None for v in values):
        numbers = [_number(v) for v in values]
        finite = [v for v in numbers if v is not None]
        lo = _number(marker.get("cmin"))
        hi = _number(marker.get("cmax"))
        lo = min(finite) if lo is None else lo
        hi = max(finite) if hi is None else hi
        return _scale_colors(scale, numbers, lo, hi)
    return [_color(v, "#1f77b4") for v in values]


class _Renderer:
    def __init__(self, figure: dict[str, Any], width: float) -> None:
        self.data: list[dict[str, Any]] = [
            t for t in figure.get("data") or [] if t.get("visible", True) is True
        ]
        self.layout: dict[str, Any] = figure.get("layout") or {}
        self.width = width
        self.height = float(self.layout.get("height") or 600)
        self.font_size = float((self.layout.get("font") or {}).get("size", 12))
        self.ink = _color((self.layout.get("font") or {}).get("color"), "#222222")
        self.frame = _Frame(self.layout, width, self.height)
        self.gradients: list[str] = []
        self.legend_columns = self._legend_columns()
        self._push_margins()

    # --------------------------------------------------------- layout: margins

    def _colorbars(self) -> list[dict[str, Any]]:
        bars = []
        for trace in self.data:
            marker = trace.get("marker") or {}
            if marker.get("showscale") and marker.get("colorscale"):
                bars.append(marker)
        return bars

    def _push_margins(self) -> None:
        """Plotly's automargin: the legend below and the colour bars to the right take room
        from the plot area."""
        frame = self.frame
        if self.legend_columns:
            frame.bottom -= self._legend_height() + 4
        bars = self._colorbars()
        if bars:
            extent = max(self._colorbar_extent(m) for m in bars)
            x = max(float((m.get("colorbar") or {}).get("x", 1.02)) for m in bars)
            # the bar starts at paper x (a fraction of the plot width) and must fit the figure
            fit = frame.left + (self.width - extent - frame.left) / max(x, 0.1)
            frame.right = min(frame.right, fit)

    def _colorbar_extent(self, marker: dict[str, Any]) -> float:
        bar = marker.get("colorbar") or {}
        ticks = self._ticks(marker)
        label = max((text_width(t, self.font_size) for _, t in ticks), default=20)
        return 10 + float(bar.get("thickness", 30)) + 4 + label + 6 + self.font_size + 10

    # --------------------------------------------------------- legend

    def _legend_items(self) -> list[tuple[str, list[dict[str, Any]]]]:
        groups: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for trace in self.data:
            if not trace.get("showlegend"):
                continue
            key = str(trace.get("legendgroup", ""))
            title = _plain((trace.get("legendgrouptitle") or {}).get("text", ""))[0]
            groups.setdefault(key, (title, []))[1].append(trace)
        return list(groups.values())

    def _legend_font(self) -> float:
        return float(((self.layout.get("legend") or {}).get("font") or {}).get("size", 12))

    def _legend_columns(self) -> list[tuple[float, float, list[tuple[str, Any]]]]:
        """Plotly's horizontal legend with groups: one column per group (its title, then its
        entries), the columns side by side and wrapped to the width: (x, y, cells) each."""
        if self.layout.get("showlegend") is False:
            return []
        size = self._legend_font()
        row_height = size + 8
        columns: list[tuple[float, float, list[tuple[str, Any]]]] = []
        x = y = tallest = 0.0
        limit = self.width - self.frame.left - 10
        for title, traces in self._legend_items():
            cells: list[tuple[str, Any]] = [("title", title)] if title else []
            cells += [("item", trace) for trace in traces]
            widths = [text_width(title, size, True) + 10] if title else []
            widths += [40 + text_width(_plain(t.get("name", ""))[0], size) + 10 for t in traces]
            width = max(widths, default=0)
            if columns and x + width > limit:
                x, y, tallest = 0.0, y + tallest, 0.0
            columns.append((x, y, cells))
            x += width
            tallest = max(tallest, len(cells) * row_height)
        return columns

    def _legend_font(self) -> float:
        return float(((self.layout.get("legend") or {}).get("font") or {}).get("size", 12))

    def _legend_height(self) -> float:
        row_height = self._legend_font() + 8
        return (
            max((y + len(cells) * row_height for _, y, cells in self.legend_columns), default=0)
            + 10
        )

    def _draw_legend(self, out: list[str]) -> None:
        if not self.legend_columns:
            return
        size = self._legend_font()
        legend = self.layout.get("legend") or {}
        x0, _ = self.frame.paper(float(legend.get("x", 0)), 0)
        y0 = self.frame.bottom + 0.02 * self.frame.plot_height + 6 + size / 2 + 4
        out.append('<g class="legend">')
        for x, y, cells in self.legend_columns:
            for i, (kind, item) in enumerate(cells):
                cy = y0 + y + i * (size + 8)
                if kind == "title":
                    out.append(_text(x0 + x + 2, cy, item, size, self.ink))
                else:
                    self._legend_entry(out, item, x0 + x + 2, cy, size)
        out.append("</g>")

    def _legend_entry(
        self, out: list[str], trace: dict[str, Any], x: float, y: float, size: float
    ) -> None:
        mode = str(trace.get("mode", "lines"))
        name = _plain(trace.get("name", ""))[0]
        if trace.get("type") == "barpolar":
            color = _marker_colors(trace.get("marker") or {}, 1)[0]
            out.append(f'<path d="{symbol_path("square", 6, 0, x + 20, y)}" fill="{color}"/>')
        elif "markers" in mode:
            marker = trace.get("marker") or {}
            symbol = str(marker.get("symbol", "circle"))
            color = _marker_colors(marker, 1)[0]
            line = marker.get("line") or {}
            stroke = _color(line.get("color"), "#444444")
            r = min(float(_number(marker.get("size")) or 12), 16) / 2
            fill = "none" if symbol.endswith("-open") else color
            out.append(
                f'<path d="{symbol_path(symbol, r, 0, x + 20, y)}" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="{_f(_number(line.get("width")) or 1)}"/>'
            )
            if symbol.endswith("-dot"):
                out.append(f'<circle cx="{_f(x + 20)}" cy="{_f(y)}" r="1.5" fill="{stroke}"/>')
        else:
            line = trace.get("line") or {}
            out.append(
                f'<path d="M{_f(x + 5)},{_f(y)}h30" stroke="{_color(line.get("color"))}" '
                f'stroke-width="{_f(min(_number(line.get("width")) or 2, 10))}"/>'
            )
        out.append(_text(x + 40, y, name, size, self.ink))

    # --------------------------------------------------------- colour bars

    def _ticks(self, marker: dict[str, Any]) -> list[tuple[float, str]]:
        lo = _number(marker.get("cmin"))
        hi = _number(marker.get("cmax"))
        if lo is None or hi is None:
            values = [_number(v) for v in _each(marker.get("color"), 0)]
            finite = [v for v in values if v is not None] or [0.0, 1.0]
            lo, hi = min(finite), max(finite)
        if hi <= lo:
            hi = lo + 1
        raw = (hi - lo) / 5
        magnitude = 10 ** math.floor(math.log10(raw))
        step = min(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
        fmt = str((marker.get("colorbar") or {}).get("tickformat", ""))
        ticks = []
        v = math.ceil(lo / step - 1e-9) * step
        while v <= hi + 1e-9:
            if fmt.endswith("%"):
                label = f"{v * 100:.0f}%"
            else:
                label = f"{v:.6g}".replace("-", "−")
            ticks.append((v, label))
            v += step
        return ticks

    def _draw_colorbar(self, out: list[str], marker: dict[str, Any]) -> None:
        bar = marker.get("colorbar") or {}
        frame = self.frame
        thickness = float(bar.get("thickness", 30))
        length = float(bar.get("len", 1)) * frame.plot_height
        x_left, _ = frame.paper(float(bar.get("x", 1.02)), 0)
        if bar.get("xanchor", "left") != "left":
            x_left -= thickness / 2 if bar.get("xanchor") == "center" else thickness
        x_left += 10
        _, y_ref = frame.paper(0, float(bar.get("y", 0.5)))
        anchor = bar.get("yanchor", "middle")
        top = y_ref - (length if anchor == "bottom" else length / 2 if anchor == "middle" else 0)
        top += 10 if anchor == "top" else 0
        length -= 20 if anchor != "middle" else 0
        lo_hi = self._ticks(marker)
        lo = _number(marker.get("cmin"))
        hi = _number(marker.get("cmax"))
        lo = lo_hi[0][0] if lo is None else lo
        hi = lo_hi[-1][0] if hi is None else hi
        gid = f"cb{len(self.gradients)}"
        stops = "".join(
            f'<stop offset="{_f(1 - float(s))}" stop-color="{_color(c)}"/>'
            for s, c in reversed(marker.get("colorscale") or [])
        )
        self.gradients.append(
            f'<linearGradient id="{gid}" x1="0" y1="0" x2="0" y2="1">{stops}</linearGradient>'
        )
        out.append(
            f'<rect x="{_f(x_left)}" y="{_f(top)}" width="{_f(thickness)}" height="{_f(length)}" '
            f'fill="url(#{gid})"/>'
        )
        size = self.font_size
        label_x = x_left + thickness + 4
        widest = 0.0
        for value, label in lo_hi:
            t = (value - lo) / (hi - lo) if hi > lo else 0.5
            y = top + (1 - t) * length
            out.append(_text(label_x, y, label, size, self.ink))
            widest = max(widest, text_width(label, size))
        title = _plain((bar.get("title") or {}).get("text", ""))[0]
        if title:
            tx, ty = label_x + widest + 4 + size / 2, top + length / 2
            out.append(
                _text(0, 0, title, size, self.ink, anchor="middle",
                      extra=f'transform="translate({_f(tx)},{_f(ty)}) rotate(-90)"')
            )  # fmt: skip

    # --------------------------------------------------------- traces

    def _draw_barpolar(self, out: list[str], trace: dict[str, Any]) -> None:
        frame = self.frame
        thetas = trace.get("theta") or []
        n = len(thetas)
        rs = _each(trace.get("r"), n)
        widths = _each(trace.get("width"), n, 360 / max(n, 1))
        bases = _each(trace.get("base", 0), n, 0)
        marker = trace.get("marker") or {}
        colors = _marker_colors(marker, n)
        opacity = _number(marker.get("opacity"))
        by_color: dict[str, list[str]] = {}
        thin: dict[tuple[str, str], list[str]] = {}  # (colour, stroke width) → radial lines
        _, _, radius = frame.polar_box()
        for theta, r, width, base, color in zip(thetas, rs, widths, bases, colors, strict=True):
            t, rv, w, b = _number(theta), _number(r), _number(width), _number(base) or 0.0
            if t is None or rv is None or w is None:
                continue
            r0, r1 = b, b + rv
            outer = r1 / frame.radial_max * radius
            inner = r0 / frame.radial_max * radius
            across = math.radians(w) * (outer + inner) / 2  # the bar's width in px
            if across < 1.5:  # a bar thinner than a pixel or so: one radial line as wide
                q0, q1 = frame.rt(r0, t), frame.rt(r1, t)
                key = (color, f"{across:.2f}".rstrip("0").rstrip(".") or "0.01")
                thin.setdefault(key, []).append(f"M{_f(q0[0])},{_f(q0[1])}L{_f(q1[0])},{_f(q1[1])}")
                continue
            a0, a1 = t - w / 2, t + w / 2
            p0, p1 = frame.rt(r1, a0), frame.rt(r1, a1)
            p2, p3 = frame.rt(r0, a1), frame.rt(r0, a0)
            large = 1 if w > 180 else 0
            sweep = 1 if frame.clockwise else 0
            d = (
                f"M{_f(p0[0])},{_f(p0[1])}A{_f(outer)},{_f(outer)} 0 {large},{sweep} "
                f"{_f(p1[0])},{_f(p1[1])}L{_f(p2[0])},{_f(p2[1])}"
            )
            if inner > 0.01:
                d += f"A{_f(inner)},{_f(inner)} 0 {large},{1 - sweep} {_f(p3[0])},{_f(p3[1])}"
            by_color.setdefault(color, []).append(d + "Z")
        extra = f' fill-opacity="{_o(opacity)}"' if opacity is not None else ""
        for color, paths in by_color.items():
            out.append(f'<path fill="{color}"{extra} d="{"".join(paths)}"/>')
        extra = extra.replace("fill-", "stroke-")
        for (color, width), lines in thin.items():
            out.append(
                f'<path fill="none" stroke="{color}" stroke-width="{width}"{extra} '
                f'd="{"".join(lines)}"/>'
            )

    def _draw_lines(
        self, out: list[str], trace: dict[str, Any], points: list[tuple[float, float] | None]
    ) -> None:
        line = trace.get("line") or {}
        width = _number(line.get("width"))
        width = 2.0 if width is None else width
        color = _color(line.get("color"), "#1f77b4")
        if width <= 0 or _parse_color(color)[3] == 0:
            return  # an invisible line carrying hover text
        smooth = line.get("shape") == "spline"
        if (
            "markers" in str(trace.get("mode"))
            and (trace.get("marker") or {}).get("symbol") == "arrow"
        ):
            points = self._shorten_for_arrow(trace, points)
        d = "".join(
            _spline(run) if smooth else "M" + "L".join(f"{_f(x)},{_f(y)}" for x, y in run)
            for run in _runs(points)
        )
        if not d:
            return
        dash = DASHES.get(str(line.get("dash", "")))
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<path fill="none" stroke="{color}" stroke-width="{_f(width)}"{extra} d="{d}"/>'
        )

    def _shorten_for_arrow(
        self, trace: dict[str, Any], points: list[tuple[float, float] | None]
    ) -> list[tuple[float, float] | None]:
        """The line stops inside the arrowhead (Plotly's `backoff`), not at its tip."""
        sizes = _each((trace.get("marker") or {}).get("size"), len(points), 0)
        out = list(points)
        for i in range(1, len(out)):
            a, b, size = out[i - 1], out[i], _number(sizes[i]) or 0
            if a is None or b is None or size <= 0:
                continue
            dx, dy = b[0] - a[0], b[1] - a[1]
            length = math.hypot(dx, dy)
            back = min(0.9 * size, length)
            if length > 0:
                out[i] = (b[0] - dx / length * back, b[1] - dy / length * back)
        return out

    def _draw_markers(
        self, out: list[str], trace: dict[str, Any], points: list[tuple[float, float] | None]
    ) -> None:
        marker = trace.get("marker") or {}
        n = len(points)
        sizes = _each(marker.get("size", 6), n, 6)
        symbols = _each(marker.get("symbol", "circle"), n, "circle")
        colors = _marker_colors(marker, n)
        # Plotly's default for markers sized per point ("bubbles") is 0.7 opaque
        bubble = isinstance(marker.get("size"), list)
        opacities = _each(marker.get("opacity", 0.7 if bubble else None), n)
        line = marker.get("line") or {}
        line_widths = _each(line.get("width", 0), n, 0)
        stroke = _color(line.get("color"), "#444444")
        groups: dict[tuple[str, str, str, str], list[str]] = {}
        dots: list[str] = []
        for i, p in enumerate(points):
            size = _number(sizes[i])
            if p is None or not size:
                continue
            symbol = str(symbols[i] or "circle")
            angle = 0.0
            if symbol == "arrow":
                previous = points[i - 1] if i > 0 else None
                if previous is None:
                    continue
                angle = math.degrees(math.atan2(p[0] - previous[0], -(p[1] - previous[1])))
            r = size / 2
            opacity = _number(opacities[i])
            lw = _number(line_widths[i]) or 0.0
            fill = colors[i]
            if symbol.endswith("-open"):
                fill, lw = "none", max(lw, 1)
            key = (fill, _f(lw), "" if opacity is None else _o(opacity), colors[i])
            groups.setdefault(key, []).append(symbol_path(symbol, r, angle, p[0], p[1]))
            if symbol.endswith("-dot"):
                dots.append(f"M{_f(p[0] + 1.5)},{_f(p[1])}a1.5,1.5 0 1,1 -3,0a1.5,1.5 0 1,1 3,0Z")
        for (fill, lw, opacity, color), paths in groups.items():
            attrs = f'fill="{fill}"'
            if lw != "0":
                attrs += f' stroke="{color if fill == "none" else stroke}" stroke-width="{lw}"'
            if opacity:
                attrs += f' opacity="{opacity}"'
            out.append(f'<path {attrs} d="{"".join(paths)}"/>')
        if dots:
            out.append(f'<path fill="{stroke}" d="{"".join(dots)}"/>')

    def _draw_text(
        self, out: list[str], trace: dict[str, Any], points: list[tuple[float, float] | None]
    ) -> None:
        n = len(points)
        texts = _each(trace.get("text"), n, "")
        positions = _each(trace.get("textposition", "middle center"), n, "middle center")
        font = trace.get("textfont") or {}
        sizes = _each(font.get("size", self.font_size), n, self.font_size)
        colors = [_color(c, self.ink) for c in _each(font.get("color", self.ink), n, self.ink)]
        halo = bool(font.get("shadow"))
        marker_sizes = _each((trace.get("marker") or {}).get("size", 6), n, 6)
        with_markers = "markers" in str(trace.get("mode"))
        # one <text> per font (size, colour, weight) holding a <tspan> per label: a browser lays
        # out a few text elements much faster than hundreds
        groups: dict[tuple[float, str, bool], list[str]] = {}
        for i, p in enumerate(points):
            text, bold = _plain(texts[i])
            if p is None or not text:
                continue
            size = float(_number(sizes[i]) or self.font_size)
            gap = (float(_number(marker_sizes[i]) or 0) / 2 if with_markers else 0) + 2
            vertical, _, horizontal = str(positions[i] or "middle center").partition(" ")
            x, y = p
            anchor = {"left": "end", "right": "start"}.get(horizontal, "middle")
            x += {"left": -gap, "right": gap}.get(horizontal, 0)
            baseline = "middle"
            if vertical == "top":
                y, baseline = y - gap, "bottom"
            elif vertical == "bottom":
                y, baseline = y + gap, "top"
            dy = {"middle": size * 0.35, "top": size * 0.8, "bottom": -size * 0.2}[baseline]
            span = f'<tspan x="{_f(x)}" y="{_f(y + dy)}"'
            if anchor != "start":
                span += f' text-anchor="{anchor}"'
            groups.setdefault((size, colors[i], bold), []).append(
                f"{span}>{html.escape(text, quote=False)}</tspan>"
            )
        for (size, color, bold), spans in groups.items():
            attrs = f'font-size="{_f(size)}" fill="{color}"'
            if bold:
                attrs += ' font-weight="bold"'
            if halo:
                attrs += ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
            out.append(f"<text {attrs}>{''.join(spans)}</text>")

    # --------------------------------------------------------- layout items

    def _draw_shapes(self, out: list[str]) -> None:
        for shape in self.layout.get("shapes") or []:
            if shape.get("type") != "rect":
                continue
            x0, y0 = self.frame.xy(float(shape["x0"]), float(shape["y0"]))
            x1, y1 = self.frame.xy(float(shape["x1"]), float(shape["y1"]))
            line = shape.get("line") or {}
            out.append(
                f'<rect x="{_f(min(x0, x1))}" y="{_f(min(y0, y1))}" width="{_f(abs(x1 - x0))}" '
                f'height="{_f(abs(y1 - y0))}" fill="{_color(shape.get("fillcolor"), "none")}" '
                f'stroke="{_color(line.get("color"), "none")}" '
                f'stroke-width="{_f(_number(line.get("width")) or 0)}"/>'
            )

    def _draw_annotations(self, out: list[str]) -> None:
        for note in self.layout.get("annotations") or []:
            text, bold = _plain(note.get("text", ""))
            font = note.get("font") or {}
            size = float(_number(font.get("size")) or self.font_size)
            color = _color(font.get("color"), self.ink)
            x, y = float(note.get("x", 0.5)), float(note.get("y", 0.5))
            if note.get("xref", "x") == "paper" or note.get("yref", "y") == "paper":
                px, py = self.frame.paper(x, y)
            else:
                px, py = self.frame.xy(x, y)
            pad = float(_number(note.get("borderpad")) or 1)
            w = text_width(text, size, bold) + 2 * pad
            h = size * 1.3 + 2 * pad
            yanchor = note.get("yanchor", "middle")
            top = py - h if yanchor == "bottom" else py if yanchor == "top" else py - h / 2
            if note.get("bgcolor"):
                out.append(
                    f'<rect x="{_f(px - w / 2)}" y="{_f(top)}" width="{_f(w)}" height="{_f(h)}" '
                    f'fill="{_color(note.get("bgcolor"), "none")}"/>'
                )
            out.append(_text(px, top + h / 2, text, size, color, anchor="middle", bold=bold))

    def _draw_axes(self, out: list[str]) -> None:
        axis = self.layout.get("xaxis") or {}
        if not axis.get("visible") or not axis.get("showticklabels", True):
            return
        values, labels = axis.get("tickvals") or [], axis.get("ticktext") or []
        top = axis.get("side") == "top"
        y = self.frame.top - 8 if top else self.frame.bottom + 8
        for value, label in zip(values, labels, strict=False):
            v = _number(value)
            if v is None:
                continue
            x, _ = self.frame.xy(v, 0)
            text = _plain(label)[0]
            out.append(
                _text(x, y, text, self.font_size, self.ink, anchor="middle",
                      baseline="bottom" if top else "top")
            )  # fmt: skip

    # --------------------------------------------------------- all of it

    def render(self, title: str) -> str:
        body: list[str] = []
        self._draw_shapes(body)
        for trace in self.data:
            if trace.get("type") == "barpolar":
                self._draw_barpolar(body, trace)
                continue
            if trace.get("type") not in ("scatter", "scatterpolar"):
                continue
            points = _points(trace, self.frame)
            mode = str(trace.get("mode", "lines+markers"))
            opacity = _number(trace.get("opacity"))
            part: list[str] = []
            if "lines" in mode:
                self._draw_lines(part, trace, points)
            if "markers" in mode:
                self._draw_markers(part, trace, points)
            if "text" in mode:
                self._draw_text(part, trace, points)
            if part and opacity is not None and opacity < 1:
                body.append(f'<g opacity="{_o(opacity)}">{"".join(part)}</g>')
            else:
                body.extend(part)
        self._draw_annotations(body)
        self._draw_axes(body)
        for marker in self._colorbars():
            self._draw_colorbar(body, marker)
        self._draw_legend(body)
        defs = f"<defs>{''.join(self.gradients)}</defs>" if self.gradients else ""
        bg = _color(self.layout.get("paper_bgcolor"), "#ffffff")
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="figure-preview" role="img" '
            f'aria-label="{_attr(title)}" viewBox="0 0 {_f(self.width)} {_f(self.height)}" '
            f'preserveAspectRatio="xMidYMid meet" width="100%" height="100%" '
            f'font-family="{_attr(FONT_FAMILY)}">{defs}'
            f'<rect width="100%" height="100%" fill="{bg}"/>{"".join(body)}</svg>'
        )


def figure_svg(figure: dict[str, Any], title: str, width: float = NOMINAL_WIDTH) -> str:
    """The static SVG of a Plotly figure dict (`title` is its accessible name)."""
    return _Renderer(figure, width).render(title)

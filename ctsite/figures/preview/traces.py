"""Drawing the traces: `barpolar` bars, and the lines, markers and text of `scatter` and
`scatterpolar` traces (paths grouped by style, so a figure has few elements)."""

from __future__ import annotations

import math
from typing import Any

from ctsite.figures.preview.frame import Frame, marker_colors, trace_points
from ctsite.figures.preview.paint import checked_color, parse_color
from ctsite.figures.preview.paths import DASHES, Point, polyline, runs, spline, symbol_path
from ctsite.figures.preview.svg import HALO, alpha, baseline_shift, escape_text, num, plain_text
from ctsite.figures.preview.values import each, number


def draw_trace(
    out: list[str], trace: dict[str, Any], frame: Frame, font_size: float, ink: str
) -> None:
    """One trace (types other than barpolar, scatter and scatterpolar are not drawn)."""
    if trace.get("type") == "barpolar":
        draw_barpolar(out, trace, frame)
        return
    if trace.get("type") not in ("scatter", "scatterpolar"):
        return
    points = trace_points(trace, frame)
    mode = str(trace.get("mode", "lines+markers"))
    opacity = number(trace.get("opacity"))
    part: list[str] = []
    if trace.get("fill") == "toself":
        draw_fill(part, trace, points)
    if "lines" in mode:
        draw_lines(part, trace, points)
    if "markers" in mode and opacity != 0:  # (invisible markers only carry hover text)
        draw_markers(part, trace, points)
    if "text" in mode:
        draw_text(part, trace, points, font_size, ink)
    if part and opacity is not None and opacity < 1:
        out.append(f'<g opacity="{alpha(opacity)}">{"".join(part)}</g>')
    else:
        out.extend(part)


def draw_barpolar(out: list[str], trace: dict[str, Any], frame: Frame) -> None:
    """Annular sectors, one path per colour (bars thinner than about a pixel: radial lines)."""
    thetas = trace.get("theta") or []
    n = len(thetas)
    rs = each(trace.get("r"), n)
    widths = each(trace.get("width"), n, 360 / max(n, 1))
    bases = each(trace.get("base", 0), n, 0)
    marker = trace.get("marker") or {}
    colors = marker_colors(marker, n)
    opacity = number(marker.get("opacity"))
    by_color: dict[str, list[str]] = {}
    thin: dict[tuple[str, str], list[str]] = {}  # (colour, stroke width) → radial lines
    _, _, radius = frame.polar_box()
    for theta, r, width, base, color in zip(thetas, rs, widths, bases, colors, strict=True):
        t, rv, w, b = number(theta), number(r), number(width), number(base) or 0.0
        if t is None or rv is None or w is None:
            continue
        r0, r1 = b, b + rv
        outer = r1 / frame.radial_max * radius
        inner = r0 / frame.radial_max * radius
        across = math.radians(w) * (outer + inner) / 2  # the bar's width in px
        if across < 1.5:  # a bar thinner than a pixel or so: one radial line as wide
            q0, q1 = frame.rt(r0, t), frame.rt(r1, t)
            key = (color, f"{across:.2f}".rstrip("0").rstrip(".") or "0.01")
            thin.setdefault(key, []).append(f"M{num(q0[0])},{num(q0[1])}L{num(q1[0])},{num(q1[1])}")
            continue
        a0, a1 = t - w / 2, t + w / 2
        p0, p1 = frame.rt(r1, a0), frame.rt(r1, a1)
        p2, p3 = frame.rt(r0, a1), frame.rt(r0, a0)
        large = 1 if w > 180 else 0
        sweep = 1 if frame.clockwise else 0
        d = (
            f"M{num(p0[0])},{num(p0[1])}A{num(outer)},{num(outer)} 0 {large},{sweep} "
            f"{num(p1[0])},{num(p1[1])}L{num(p2[0])},{num(p2[1])}"
        )
        if inner > 0.01:
            d += f"A{num(inner)},{num(inner)} 0 {large},{1 - sweep} {num(p3[0])},{num(p3[1])}"
        by_color.setdefault(color, []).append(d + "Z")
    extra = f' fill-opacity="{alpha(opacity)}"' if opacity is not None else ""
    for color, paths in by_color.items():
        out.append(f'<path fill="{color}"{extra} d="{"".join(paths)}"/>')
    extra = extra.replace("fill-", "stroke-")
    for (color, width), lines in thin.items():
        out.append(
            f'<path fill="none" stroke="{color}" stroke-width="{width}"{extra} '
            f'd="{"".join(lines)}"/>'
        )


def draw_fill(out: list[str], trace: dict[str, Any], points: list[Point | None]) -> None:
    """The area a `fill: "toself"` trace encloses: each run of points closed on itself."""
    d = "".join(polyline(run) + "Z" for run in runs(points))
    if d:
        color = checked_color(trace.get("fillcolor"), "#1f77b4")
        out.append(f'<path fill="{color}" d="{d}"/>')


def draw_lines(out: list[str], trace: dict[str, Any], points: list[Point | None]) -> None:
    """The trace's line: one path of its runs (straight or spline, maybe dashed)."""
    line = trace.get("line") or {}
    width = number(line.get("width"))
    width = 2.0 if width is None else width
    color = checked_color(line.get("color"), "#1f77b4")
    if width <= 0 or parse_color(color)[3] == 0:
        return  # an invisible line carrying hover text
    smooth = line.get("shape") == "spline"
    if "markers" in str(trace.get("mode")) and (trace.get("marker") or {}).get("symbol") == "arrow":
        points = _shorten_for_arrow(trace, points)
    d = "".join(spline(run) if smooth else polyline(run) for run in runs(points))
    if not d:
        return
    dash = DASHES.get(str(line.get("dash", "")))
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    out.append(f'<path fill="none" stroke="{color}" stroke-width="{num(width)}"{extra} d="{d}"/>')


def _shorten_for_arrow(trace: dict[str, Any], points: list[Point | None]) -> list[Point | None]:
    """The line stops inside the arrowhead (Plotly's `backoff`), not at its tip."""
    sizes = each((trace.get("marker") or {}).get("size"), len(points), 0)
    out = list(points)
    for i in range(1, len(out)):
        a, b, size = out[i - 1], out[i], number(sizes[i]) or 0
        if a is None or b is None or size <= 0:
            continue
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx, dy)
        back = min(0.9 * size, length)
        if length > 0:
            out[i] = (b[0] - dx / length * back, b[1] - dy / length * back)
    return out


def draw_markers(out: list[str], trace: dict[str, Any], points: list[Point | None]) -> None:
    """The trace's markers: one path per (fill, stroke width, opacity, colour)."""
    marker = trace.get("marker") or {}
    n = len(points)
    sizes = each(marker.get("size", 6), n, 6)
    symbols = each(marker.get("symbol", "circle"), n, "circle")
    colors = marker_colors(marker, n)
    # Plotly's default for markers sized per point ("bubbles") is 0.7 opaque
    bubble = isinstance(marker.get("size"), list)
    opacities = each(marker.get("opacity", 0.7 if bubble else None), n)
    line = marker.get("line") or {}
    line_widths = each(line.get("width", 0), n, 0)
    stroke = checked_color(line.get("color"), "#444444")
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    dots: list[str] = []
    for i, p in enumerate(points):
        size = number(sizes[i])
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
        opacity = number(opacities[i])
        lw = number(line_widths[i]) or 0.0
        fill = colors[i]
        if symbol.endswith("-open"):
            fill, lw = "none", max(lw, 1.0)
        key = (fill, num(lw), "" if opacity is None else alpha(opacity), colors[i])
        groups.setdefault(key, []).append(symbol_path(symbol, r, angle, p[0], p[1]))
        if symbol.endswith("-dot"):
            dots.append(f"M{num(p[0] + 1.5)},{num(p[1])}a1.5,1.5 0 1,1 -3,0a1.5,1.5 0 1,1 3,0Z")
    for (fill, width, shown, color), paths in groups.items():
        attrs = f'fill="{fill}"'
        if width != "0":
            attrs += f' stroke="{color if fill == "none" else stroke}" stroke-width="{width}"'
        if shown:
            attrs += f' opacity="{shown}"'
        out.append(f'<path {attrs} d="{"".join(paths)}"/>')
    if dots:
        out.append(f'<path fill="{stroke}" d="{"".join(dots)}"/>')


def draw_text(
    out: list[str], trace: dict[str, Any], points: list[Point | None], font_size: float, ink: str
) -> None:
    """The trace's text labels, placed by `textposition` clear of the markers."""
    n = len(points)
    texts = each(trace.get("text"), n, "")
    positions = each(trace.get("textposition", "middle center"), n, "middle center")
    font = trace.get("textfont") or {}
    sizes = each(font.get("size", font_size), n, font_size)
    colors = [checked_color(c, ink) for c in each(font.get("color", ink), n, ink)]
    halo = bool(font.get("shadow"))
    marker_sizes = each((trace.get("marker") or {}).get("size", 6), n, 6)
    with_markers = "markers" in str(trace.get("mode"))
    # one <text> per font (size, colour, weight) holding a <tspan> per label: a browser lays
    # out a few text elements much faster than hundreds
    groups: dict[tuple[float, str, bool], list[str]] = {}
    for i, p in enumerate(points):
        text, bold = plain_text(texts[i])
        if p is None or not text:
            continue
        size = float(number(sizes[i]) or font_size)
        gap = (float(number(marker_sizes[i]) or 0) / 2 if with_markers else 0) + 2
        vertical, _, horizontal = str(positions[i] or "middle center").partition(" ")
        x, y = p
        anchor = {"left": "end", "right": "start"}.get(horizontal, "middle")
        x += {"left": -gap, "right": gap}.get(horizontal, 0)
        baseline = "middle"
        if vertical == "top":
            y, baseline = y - gap, "bottom"
        elif vertical == "bottom":
            y, baseline = y + gap, "top"
        span = f'<tspan x="{num(x)}" y="{num(y + baseline_shift(size, baseline))}"'
        if anchor != "start":
            span += f' text-anchor="{anchor}"'
        groups.setdefault((size, colors[i], bold), []).append(f"{span}>{escape_text(text)}</tspan>")
    for (size, color, bold), spans in groups.items():
        attrs = f'font-size="{num(size)}" fill="{color}"'
        if bold:
            attrs += ' font-weight="bold"'
        if halo:
            attrs += f" {HALO}"
        out.append(f"<text {attrs}>{''.join(spans)}</text>")

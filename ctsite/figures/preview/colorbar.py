"""Colour bars: the markers that show their colour scale, the room their bars take right of the
plot area, their ticks, and their drawing (a gradient, tick labels and a title)."""

from __future__ import annotations

import math
from typing import Any

from ctsite.figures.preview.frame import Frame
from ctsite.figures.preview.paint import checked_color
from ctsite.figures.preview.svg import num, plain_text, text_element, text_width
from ctsite.figures.preview.values import each, number


class ColorBars:
    """The colour bars of one figure and the gradients (SVG defs) they are filled with."""

    def __init__(self, data: list[dict[str, Any]], font_size: float, ink: str) -> None:
        self.markers: list[dict[str, Any]] = []
        for trace in data:
            marker = trace.get("marker") or {}
            if marker.get("showscale") and marker.get("colorscale"):
                self.markers.append(marker)
        self.font_size, self.ink = font_size, ink
        self.gradients: list[str] = []

    def push_margin(self, frame: Frame, width: float) -> None:
        """Plotly's automargin: the colour bars to the right take room from the plot area."""
        if not self.markers:
            return
        extent = max(self._extent(m) for m in self.markers)
        x = max(float((m.get("colorbar") or {}).get("x", 1.02)) for m in self.markers)
        # the bar starts at paper x (a fraction of the plot width) and must fit the figure
        fit = frame.left + (width - extent - frame.left) / max(x, 0.1)
        frame.right = min(frame.right, fit)

    def _extent(self, marker: dict[str, Any]) -> float:
        bar = marker.get("colorbar") or {}
        label = max((text_width(t, self.font_size) for _, t in ticks(marker)), default=20)
        return 10 + float(bar.get("thickness", 30)) + 4 + label + 6 + self.font_size + 10

    def draw(self, out: list[str], frame: Frame) -> None:
        for marker in self.markers:
            self._draw(out, frame, marker)

    def _draw(self, out: list[str], frame: Frame, marker: dict[str, Any]) -> None:
        bar = marker.get("colorbar") or {}
        thickness = float(bar.get("thickness", 30))
        length = float(bar.get("len", 1))
        if bar.get("lenmode") != "pixels":
            length *= frame.plot_height
        x_left, _ = frame.paper(float(bar.get("x", 1.02)), 0)
        if bar.get("xanchor", "left") != "left":
            x_left -= thickness / 2 if bar.get("xanchor") == "center" else thickness
        x_left += 10
        _, y_ref = frame.paper(0, float(bar.get("y", 0.5)))
        anchor = bar.get("yanchor", "middle")
        top = y_ref - (length if anchor == "bottom" else length / 2 if anchor == "middle" else 0)
        top += 10 if anchor == "top" else 0
        length -= 20 if anchor != "middle" else 0
        lo_hi = ticks(marker)
        lo = number(marker.get("cmin"))
        hi = number(marker.get("cmax"))
        lo = lo_hi[0][0] if lo is None else lo
        hi = lo_hi[-1][0] if hi is None else hi
        gid = f"cb{len(self.gradients)}"
        stops = "".join(
            f'<stop offset="{num(1 - float(s))}" stop-color="{checked_color(c)}"/>'
            for s, c in reversed(marker.get("colorscale") or [])
        )
        self.gradients.append(
            f'<linearGradient id="{gid}" x1="0" y1="0" x2="0" y2="1">{stops}</linearGradient>'
        )
        out.append(
            f'<rect x="{num(x_left)}" y="{num(top)}" width="{num(thickness)}" '
            f'height="{num(length)}" fill="url(#{gid})"/>'
        )
        size = self.font_size
        label_x = x_left + thickness + 4
        widest = 0.0
        for value, label in lo_hi:
            t = (value - lo) / (hi - lo) if hi > lo else 0.5
            y = top + (1 - t) * length
            out.append(text_element(label_x, y, label, size, self.ink))
            widest = max(widest, text_width(label, size))
        title = plain_text((bar.get("title") or {}).get("text", ""))[0]
        if title:
            tx, ty = label_x + widest + 4 + size / 2, top + length / 2
            out.append(
                text_element(0, 0, title, size, self.ink, anchor="middle",
                             extra=f'transform="translate({num(tx)},{num(ty)}) rotate(-90)"')
            )  # fmt: skip


def ticks(marker: dict[str, Any]) -> list[tuple[float, str]]:
    """A colour bar's ticks (value, label): about five round steps over its range."""
    lo = number(marker.get("cmin"))
    hi = number(marker.get("cmax"))
    if lo is None or hi is None:
        values = [number(v) for v in each(marker.get("color"), 0)]
        finite = [v for v in values if v is not None] or [0.0, 1.0]
        lo, hi = min(finite), max(finite)
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    fmt = str((marker.get("colorbar") or {}).get("tickformat", ""))
    out = []
    v = math.ceil(lo / step - 1e-9) * step
    while v <= hi + 1e-9:
        if fmt.endswith("%"):
            label = f"{v * 100:.0f}%"
        else:
            label = f"{v:.6g}".replace("-", "−")
        out.append((v, label))
        v += step
    return out

"""The horizontal legend below the plot: its groups laid out in columns, the room it takes from
the plot area, and its entries (a symbol or line sample, then the trace's name)."""

from __future__ import annotations

from typing import Any, NamedTuple

from ctsite.figures.preview.frame import Frame, marker_colors
from ctsite.figures.preview.paint import checked_color
from ctsite.figures.preview.paths import symbol_path
from ctsite.figures.preview.svg import num, plain_text, text_element, text_width
from ctsite.figures.preview.values import number

Cell = tuple[str, Any]  # ("title", a group's title) or ("item", a trace)


class Column(NamedTuple):
    """One legend group: its offset (px) from the legend's top left corner and its cells."""

    x: float
    y: float
    cells: list[Cell]


class Legend:
    """Plotly's horizontal legend with groups: one column per group (its title, then its
    entries), the columns side by side and wrapped to the width; a vertical legend
    (orientation "v") stacks the groups."""

    def __init__(
        self,
        data: list[dict[str, Any]],
        layout: dict[str, Any],
        width: float,
        frame: Frame,
        ink: str,
    ) -> None:
        self.options = layout.get("legend") or {}  # layout.legend
        self.ink = ink
        hidden = layout.get("showlegend") is False
        self.columns = [] if hidden else self._columns(data, width - frame.left - 10)

    @property
    def font_size(self) -> float:
        return float((self.options.get("font") or {}).get("size", 12))

    def _columns(self, data: list[dict[str, Any]], limit: float) -> list[Column]:
        size = self.font_size
        row_height = size + 8
        columns: list[Column] = []
        x = y = tallest = 0.0
        for title, traces in _groups(data):
            cells: list[Cell] = [("title", title)] if title else []
            cells += [("item", trace) for trace in traces]
            widths = [text_width(title, size, True) + 10] if title else []
            widths += [40 + text_width(plain_text(t.get("name", ""))[0], size) + 10 for t in traces]
            width = max(widths, default=0)
            if columns and (x + width > limit or self.options.get("orientation") == "v"):
                x, y, tallest = 0.0, y + tallest, 0.0
            columns.append(Column(x, y, cells))
            x += width
            tallest = max(tallest, len(cells) * row_height)
        return columns

    def height(self) -> float:
        row_height = self.font_size + 8
        return max((y + len(cells) * row_height for _, y, cells in self.columns), default=0) + 10

    def push_margin(self, frame: Frame) -> None:
        """Plotly's automargin: the legend takes from the plot area the height that the bottom
        margin the figure set does not already hold."""
        if self.columns:
            frame.bottom -= max(0.0, self.height() + 4 - (frame.height - frame.bottom))

    def draw(self, out: list[str], frame: Frame) -> None:
        if not self.columns:
            return
        size = self.font_size
        x0, top = frame.paper(float(self.options.get("x", 0)), float(self.options.get("y", -0.02)))
        if self.options.get("yanchor") == "bottom":
            top -= self.height()
        y0 = top + 6 + size / 2 + 4
        out.append('<g class="legend">')
        for x, y, cells in self.columns:
            for i, (kind, item) in enumerate(cells):
                cy = y0 + y + i * (size + 8)
                if kind == "title":
                    out.append(text_element(x0 + x + 2, cy, item, size, self.ink))
                else:
                    _entry(out, item, x0 + x + 2, cy, size, self.ink)
        out.append("</g>")


def _groups(data: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The traces shown in the legend by legend group, each group with its title."""
    groups: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for trace in data:
        if not trace.get("showlegend"):
            continue
        key = str(trace.get("legendgroup", ""))
        title = plain_text((trace.get("legendgrouptitle") or {}).get("text", ""))[0]
        groups.setdefault(key, (title, []))[1].append(trace)
    return list(groups.values())


def _entry(
    out: list[str], trace: dict[str, Any], x: float, y: float, size: float, ink: str
) -> None:
    mode = str(trace.get("mode", "lines"))
    name = plain_text(trace.get("name", ""))[0]
    if trace.get("type") == "barpolar":
        color = marker_colors(trace.get("marker") or {}, 1)[0]
        out.append(f'<path d="{symbol_path("square", 6, 0, x + 20, y)}" fill="{color}"/>')
    elif "markers" in mode:
        marker = trace.get("marker") or {}
        symbol = str(marker.get("symbol", "circle"))
        color = marker_colors(marker, 1)[0]
        line = marker.get("line") or {}
        stroke = checked_color(line.get("color"), "#444444")
        r = min(float(number(marker.get("size")) or 12), 16) / 2
        fill = "none" if symbol.endswith("-open") else color
        out.append(
            f'<path d="{symbol_path(symbol, r, 0, x + 20, y)}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{num(number(line.get("width")) or 1)}"/>'
        )
        if symbol.endswith("-dot"):
            out.append(f'<circle cx="{num(x + 20)}" cy="{num(y)}" r="1.5" fill="{stroke}"/>')
    else:
        line = trace.get("line") or {}
        out.append(
            f'<path d="M{num(x + 5)},{num(y)}h30" stroke="{checked_color(line.get("color"))}" '
            f'stroke-width="{num(min(number(line.get("width")) or 2, 10))}"/>'
        )
    out.append(text_element(x + 40, y, name, size, ink))

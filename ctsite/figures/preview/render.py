"""The renderer: lays out the frame (margins pushed by the legend and the colour bars), draws the
shapes, the traces, the annotations, the x axis' tick labels, the colour bars and the legend, in
that order, and wraps them in the <svg> element."""

from __future__ import annotations

import itertools
import re
from typing import Any

from ctsite.figures.preview.colorbar import ColorBars
from ctsite.figures.preview.frame import Frame
from ctsite.figures.preview.legend import Legend
from ctsite.figures.preview.paint import checked_color
from ctsite.figures.preview.paths import Segment, segments_path, shape_segments, thin_quad
from ctsite.figures.preview.svg import (
    FONT_FAMILY,
    NOMINAL_WIDTH,
    alpha,
    attr,
    num,
    plain_text,
    text_element,
    text_width,
)
from ctsite.figures.preview.traces import draw_trace
from ctsite.figures.preview.values import number

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


class Renderer:
    """One figure dict drawn at one width."""

    def __init__(self, figure: dict[str, Any], width: float) -> None:
        self.data: list[dict[str, Any]] = [
            t for t in figure.get("data") or [] if t.get("visible", True) is True
        ]
        self.layout: dict[str, Any] = figure.get("layout") or {}
        self.width = width
        self.height = float(self.layout.get("height") or 600)
        self.font_size = float((self.layout.get("font") or {}).get("size", 12))
        self.ink = checked_color((self.layout.get("font") or {}).get("color"), "#222222")
        self.frame = Frame(self.layout, width, self.height)
        self.legend = Legend(self.data, self.layout, width, self.frame, self.ink)
        self.colorbars = ColorBars(self.data, self.font_size, self.ink)
        if (self.layout.get("margin") or {}).get("autoexpand", True) is not False:
            self.legend.push_margin(self.frame)  # Plotly's automargin (unless turned off)
            self.colorbars.push_margin(self.frame, width)

    def _draw_shapes(self, out: list[str], layer: str) -> None:
        """The layout shapes of one layer ("below" the traces or "above" them, Plotly's
        default): rectangles in data coordinates, paths in paper coordinates."""
        for shape in self.layout.get("shapes") or []:
            if shape.get("layer", "above") != layer:
                continue
            if shape.get("type") == "path" and shape.get("xref") == shape.get("yref") == "paper":
                self._draw_path(out, shape)
                continue
            if shape.get("type") != "rect":
                continue
            x0, y0 = self.frame.xy(float(shape["x0"]), float(shape["y0"]))
            x1, y1 = self.frame.xy(float(shape["x1"]), float(shape["y1"]))
            line = shape.get("line") or {}
            out.append(
                f'<rect x="{num(min(x0, x1))}" y="{num(min(y0, y1))}" '
                f'width="{num(abs(x1 - x0))}" height="{num(abs(y1 - y0))}" '
                f'fill="{checked_color(shape.get("fillcolor"), "none")}" '
                f'stroke="{checked_color(line.get("color"), "none")}" '
                f'stroke-width="{num(number(line.get("width")) or 0)}"/>'
            )

    def _draw_path(self, out: list[str], shape: dict[str, Any]) -> None:
        segments = shape_segments(str(shape.get("path") or ""), self.frame.paper)
        if not segments:
            return
        line = shape.get("line") or {}
        width = number(line.get("width"))
        width = 2.0 if width is None else width  # (Plotly's default)
        fill = checked_color(shape.get("fillcolor"), "none")
        opacity = number(shape.get("opacity"))
        extra = f' opacity="{alpha(opacity)}"' if opacity is not None and opacity < 1 else ""
        thin: dict[str, list[str]] = {}  # line width → lines
        if width <= 0 and fill != "none":  # cells thinner than a pixel: lines along them
            kept: list[Segment] = []
            starts = [i for i, (kind, _) in enumerate(segments) if kind == "M"] + [len(segments)]
            for lo, hi in itertools.pairwise(starts):
                quad = thin_quad(segments[lo:hi])
                if quad is None:
                    kept += segments[lo:hi]
                    continue
                (x0, y0), (x1, y1), across = quad
                key = f"{across:.2f}".rstrip("0").rstrip(".")  # (never empty: "0.00" → "0")
                thin.setdefault(key, []).append(f"M{num(x0)},{num(y0)}L{num(x1)},{num(y1)}")
            segments = kept
        color = checked_color(line.get("color"), "#444444")
        stroke = f'stroke="{color}" stroke-width="{num(width)}"' if width > 0 else 'stroke="none"'
        if segments:
            attrs = f'fill="{fill}" {stroke}'
            out.append(f'<path {attrs}{extra} d="{segments_path(segments)}"/>')
        for line_width, lines in thin.items():
            out.append(
                f'<path fill="none" stroke="{fill}" stroke-width="{line_width}"{extra} '
                f'd="{"".join(lines)}"/>'
            )

    def _draw_annotations(self, out: list[str]) -> None:
        notes = self.layout.get("annotations") or []
        if notes:
            out.append('<g class="annotations">')
            self._draw_notes(out, notes)
            out.append("</g>")

    def _draw_notes(self, out: list[str], notes: list[dict[str, Any]]) -> None:
        for note in notes:
            # one text per <br>-separated line, centred in the box as Plotly draws them
            lines = [plain_text(part) for part in _LINE_BREAK.split(str(note.get("text", "")))]
            bold = any(b for _, b in lines)
            font = note.get("font") or {}
            size = float(number(font.get("size")) or self.font_size)
            color = checked_color(font.get("color"), self.ink)
            x, y = float(note.get("x", 0.5)), float(note.get("y", 0.5))
            if note.get("xref", "x") == "paper" or note.get("yref", "y") == "paper":
                px, py = self.frame.paper(x, y)
            else:
                px, py = self.frame.xy(x, y)
            pad = float((number(note.get("borderpad")) or 0) if "borderpad" in note else 1)
            w = max(text_width(text, size, bold) for text, _ in lines) + 2 * pad
            h = size * 1.3 * len(lines) + 2 * pad
            yanchor = note.get("yanchor", "middle")
            top = py - h if yanchor == "bottom" else py if yanchor == "top" else py - h / 2
            xanchor = note.get("xanchor", "center")
            left = px if xanchor == "left" else px - w if xanchor == "right" else px - w / 2
            extra = []
            angle = number(note.get("textangle"))
            if angle:  # Plotly turns the text about its middle (degrees clockwise)
                extra.append(f'transform="rotate({num(angle)} {num(left + w / 2)} '
                             f'{num(top + h / 2)})"')  # fmt: skip
            if font.get("family"):
                extra.append(f'font-family="{attr(font["family"])}"')
            if note.get("bgcolor"):
                out.append(
                    f'<rect x="{num(left)}" y="{num(top)}" '
                    f'width="{num(w)}" height="{num(h)}" '
                    f'fill="{checked_color(note.get("bgcolor"), "none")}"/>'
                )
            for i, (text, _) in enumerate(lines):
                middle = top + pad + size * 1.3 * (i + 0.5)
                out.append(
                    text_element(left + w / 2, middle, text, size, color, anchor="middle",
                                 bold=bold, extra=" ".join(extra))
                )  # fmt: skip

    def _draw_axes(self, out: list[str]) -> None:
        axis = self.layout.get("xaxis") or {}
        if not axis.get("visible") or not axis.get("showticklabels", True):
            return
        values, labels = axis.get("tickvals") or [], axis.get("ticktext") or []
        top = axis.get("side") == "top"
        y = self.frame.top - 8 if top else self.frame.bottom + 8
        for value, label in zip(values, labels, strict=False):
            v = number(value)
            if v is None:
                continue
            x, _ = self.frame.xy(v, 0)
            text = plain_text(label)[0]
            out.append(
                text_element(x, y, text, self.font_size, self.ink, anchor="middle",
                             baseline="bottom" if top else "top")
            )  # fmt: skip

    def render(self, title: str) -> str:
        """The whole picture (`title` is its accessible name)."""
        body: list[str] = []
        self._draw_shapes(body, "below")
        for trace in self.data:
            draw_trace(body, trace, self.frame, self.font_size, self.ink)
        self._draw_shapes(body, "above")
        self._draw_annotations(body)
        self._draw_axes(body)
        self.colorbars.draw(body, self.frame)
        self.legend.draw(body, self.frame)
        gradients = self.colorbars.gradients
        defs = f"<defs>{''.join(gradients)}</defs>" if gradients else ""
        bg = checked_color(self.layout.get("paper_bgcolor"), "#ffffff")
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="figure-preview" role="img" '
            f'aria-label="{attr(title)}" viewBox="0 0 {num(self.width)} {num(self.height)}" '
            f'preserveAspectRatio="xMidYMid meet" width="100%" height="100%" '
            f'font-family="{attr(FONT_FAMILY)}">{defs}'
            f'<rect width="100%" height="100%" fill="{bg}"/>{"".join(body)}</svg>'
        )


def figure_svg(figure: dict[str, Any], title: str, width: float | None = None) -> str:
    """The static SVG of a Plotly figure dict (`title` is its accessible name), laid out at
    `width`, else at the figure's own width (a figure laid out in px has one), else at
    `NOMINAL_WIDTH`."""
    if width is None:
        width = number((figure.get("layout") or {}).get("width")) or NOMINAL_WIDTH
    return Renderer(figure, width).render(title)

"""Label placement for the node-link figures: each node's name goes where it collides with
nothing already placed (other labels, other nodes' markers), preferring the side of the node with
fewer edges, so labels neither sit on top of each other nor under a fan of edges.

Positions are estimated in pixels from the data coordinates and the figure's size, with a text
width of `CHAR_WIDTH` × font size per character (an over-estimate for the sans-serif fonts used).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHAR_WIDTH = 0.62  # average glyph width / font size, generous
LINE_HEIGHT = 1.25  # text box height / font size
GAP = 3.0  # pixels between a marker and its label
POSITIONS = ("middle right", "middle left", "top center", "bottom center")


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in pixels (y grows downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )


@dataclass(frozen=True)
class Frame:
    """Data → pixel mapping of a plot area."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    width: float
    height: float

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return (
            (x - x0) / (x1 - x0) * self.width,
            (y1 - y) / (y1 - y0) * self.height,
        )


def text_size(text: str, font_size: float) -> tuple[float, float]:
    """Estimated (width, height) of a one-line label in pixels (markup tags not counted)."""
    plain = text.replace("<b>", "").replace("</b>", "")
    return len(plain) * CHAR_WIDTH * font_size, LINE_HEIGHT * font_size


def marker_box(cx: float, cy: float, size: float) -> Box:
    r = size / 2
    return Box(cx - r, cy - r, cx + r, cy + r)


def label_box(cx: float, cy: float, size: float, text: str, font_size: float, position: str) -> Box:
    """Where Plotly draws `text` for a marker of diameter `size` at (cx, cy) and `position`."""
    w, h = text_size(text, font_size)
    r = size / 2 + GAP
    vertical, horizontal = position.split()
    if horizontal == "right":
        x0 = cx + r
    elif horizontal == "left":
        x0 = cx - r - w
    else:
        x0 = cx - w / 2
    if vertical == "top":
        y0 = cy - r - h
    elif vertical == "bottom":
        y0 = cy + r
    else:
        y0 = cy - h / 2
    return Box(x0, y0, x0 + w, y0 + h)


def place_labels(
    points: Sequence[tuple[float, float]],
    sizes: Sequence[float],
    texts: Sequence[str],
    preferred: Sequence[str],
    frame: Frame,
    font_size: float,
) -> list[str]:
    """A `textposition` per point: the preferred one unless it collides, else the first of
    `POSITIONS` that does not (the preferred one when every choice collides)."""
    px = [frame.to_px(x, y) for x, y in points]
    markers = [marker_box(cx, cy, s) for (cx, cy), s in zip(px, sizes, strict=True)]
    placed: list[Box] = []
    out: list[str] = []
    for i, ((cx, cy), size, text, first) in enumerate(
        zip(px, sizes, texts, preferred, strict=True)
    ):
        chosen = first
        for position in (first, *(p for p in POSITIONS if p != first)):
            box = label_box(cx, cy, size, text, font_size, position)
            hits = any(box.overlaps(b) for b in placed) or any(
                box.overlaps(m) for j, m in enumerate(markers) if j != i
            )
            if not hits:
                chosen = position
                break
        placed.append(label_box(cx, cy, size, text, font_size, chosen))
        out.append(chosen)
    return out

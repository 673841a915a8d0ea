"""How wide and how tall a label is drawn: one measured font's metrics table.

`data/label_font.json` holds the advance width of every character the figures' labels use, in
the regular and the bold weight of one font (`FAMILY`), as Chromium draws them, and the height
of a line's box; `scripts/measure_label_font.py` measures them and writes the table. The Circos
label layout measures every gene and cell-type name with it and the figures ask for the same
font (`FONT_STACK`), so the boxes the layout keeps apart are the boxes the browser draws.
A character missing from the table counts as wide as "M" (never narrower than drawn).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import NamedTuple

FAMILY = "DejaVu Sans"
# where DejaVu Sans is missing, narrower fonts: labels end short of their reserved box
FONT_STACK = "'DejaVu Sans', Verdana, sans-serif"


class Metrics(NamedTuple):
    size: float  # the font size the table was measured at (px)
    regular: dict[str, float]
    bold: dict[str, float]
    height: float  # a line's box height at `size`
    baseline: float  # the baseline's distance from the box's top at `size`


@cache
def metrics() -> Metrics:
    """The shipped table (read once)."""
    text = resources.files("ctsite.figures").joinpath("data/label_font.json").read_text("utf-8")
    table = json.loads(text)
    if table.get("family") != FAMILY:
        raise ValueError(f"label_font.json measures {table.get('family')!r}, not {FAMILY!r}")
    return Metrics(
        float(table["size"]),
        {k: float(v) for k, v in table["regular"].items()},
        {k: float(v) for k, v in table["bold"].items()},
        float(table["height"]),
        float(table["baseline"]),
    )


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The drawn width (px) of one line of plain `text` at font size `size`."""
    table = metrics()
    widths = table.bold if bold else table.regular
    wide = widths["M"]
    return sum(widths.get(ch, wide) for ch in text) * size / table.size


def line_height(size: float) -> float:
    """The height (px) of a line's box at font size `size` (what separates stacked labels)."""
    table = metrics()
    return table.height * size / table.size


def baseline_offset(size: float) -> float:
    """How far below the middle of its box a line's baseline sits (px)."""
    table = metrics()
    return (table.baseline - table.height / 2) * size / table.size

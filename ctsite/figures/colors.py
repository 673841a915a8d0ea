"""Colour scales of the figures and helpers to map values onto them (pure, no Plotly objects).

Scales are Plotly colourscale lists (`[[0, "#..."], ..., [1, "#..."]]`) so the same definition
drives both the colours computed here (chords, edges, ring cells) and the colourbars Plotly draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Cividis, as in matplotlib/Plotly (10 stops).
CIVIDIS = [
    "#00224e",
    "#123570",
    "#3b496c",
    "#575d6d",
    "#707173",
    "#8a8678",
    "#a59c74",
    "#c3b369",
    "#e1cc55",
    "#fee838",
]
# Diverging red–blue (ColorBrewer RdBu reversed: negative blue, positive red).
RED_BLUE = [
    "#053061",
    "#2166ac",
    "#4393c3",
    "#92c5de",
    "#d1e5f0",
    "#f7f7f7",
    "#fddbc7",
    "#f4a582",
    "#d6604d",
    "#b2182b",
    "#67001f",
]
# Blue–white–red (matplotlib "bwr").
BLUE_WHITE_RED = ["#0000ff", "#ffffff", "#ff0000"]
# White (0 %) to black (100 %).
GREYS = ["#ffffff", "#000000"]

# Value ranges of the spec (values outside are clipped to the end colours).
DC1_RANGE = (-1.0, 1.0)
DA_RANGE = (-0.5, 0.5)
LIGAND_LOG2FC_RANGE = (-0.2, 0.2)
INDUCED_LOG2FC_RANGE = (-0.5, 0.5)
EXPRESSION_RANGE = (0.0, 1.0)


def colorscale(colors: Sequence[str]) -> list[list[float | str]]:
    """Evenly spaced colour stops as a Plotly colourscale."""
    n = len(colors) - 1
    return [[i / n, c] for i, c in enumerate(colors)]


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _hex(r: float, g: float, b: float) -> str:
    return f"#{round(r):02x}{round(g):02x}{round(b):02x}"


def fraction(value: float, lo: float, hi: float) -> float:
    """Position of value in [lo, hi], clipped to [0, 1]; NaN maps to the middle."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.5
    if hi <= lo:
        return 0.5
    return min(1.0, max(0.0, (float(value) - lo) / (hi - lo)))


def sample(colors: Sequence[str], value: float, lo: float, hi: float) -> str:
    """The colour of `value` on an evenly spaced scale over [lo, hi] (linear interpolation)."""
    pos = fraction(value, lo, hi) * (len(colors) - 1)
    i = min(int(pos), len(colors) - 2)
    t = pos - i
    a, b = _rgb(colors[i]), _rgb(colors[i + 1])
    return _hex(*(a[k] + (b[k] - a[k]) * t for k in range(3)))


def bin_index(value: float, lo: float, hi: float, bins: int) -> int:
    """Which of `bins` equal colour bins over [lo, hi] holds `value` (clipped)."""
    return min(bins - 1, int(fraction(value, lo, hi) * bins))


def bin_colors(colors: Sequence[str], lo: float, hi: float, bins: int) -> list[str]:
    """The colour at the centre of each of `bins` equal bins over [lo, hi]."""
    step = (hi - lo) / bins
    return [sample(colors, lo + (i + 0.5) * step, lo, hi) for i in range(bins)]


def with_alpha(color: str, alpha: float) -> str:
    """'#rrggbb' → 'rgba(r,g,b,alpha)'."""
    r, g, b = _rgb(color)
    return f"rgba({r},{g},{b},{alpha:g})"

"""Fitting the Pairwise and Effects figures to any screen, from a phone to a desktop.

The server does not know the screen, and Plotly keeps margins in pixels while it stretches the
plot area to the width it gets. So what must never be cut is reserved in pixels: the margins
beside the outer columns are as wide as their measured labels (`label_margin`), and the colour
bars sit below the plot, under the legend (`scales_below`), instead of beside it where a narrow
plot has no room. Header text on a coloured fill takes black or white, whichever contrasts more
(`readable_ink`, WCAG 2.1 relative luminance: the pair reaches 4.5:1 on any fill).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ctsite.figures.preview.svg import text_width

INK_DARK = "#111111"
INK_LIGHT = "#ffffff"
SCALE_HEIGHT = 120  # px: one vertical colour bar below the plot (bar, ticks, title)
SCALE_GAP = 14  # px between the legend and the colour bars
SCALE_STEP = 0.5  # the second colour bar starts half the plot width further right
PHONE_FIGURE_WIDTH = 360  # px: the narrowest figure a page draws (its phone picture's width)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    """WCAG relative luminance of a `#rrggbb` colour."""
    text = color.lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable_ink(fill: str) -> str:
    """Black or white text, whichever reads better on `fill` (at least 4.5:1 for any fill)."""
    return INK_DARK if contrast(INK_DARK, fill) >= contrast(INK_LIGHT, fill) else INK_LIGHT


def ink_on_white(color: str, ratio: float = 4.5) -> str:
    """`color` darkened (mixed with black, so its hue stays) just enough to read on the white
    page at `ratio` (WCAG AA for text: 4.5); a colour that reads already is kept."""
    text = color.lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    rgb = [int(text[i : i + 2], 16) for i in (0, 2, 4)]
    for step in range(21):  # 5 % darker each step; black (21:1) at the end
        keep = 1 - step / 20
        ink = "#" + "".join(f"{round(c * keep):02x}" for c in rgb)
        if contrast(ink, INK_LIGHT) >= ratio:
            return ink
    return INK_DARK


def label_margin(texts: Iterable[str], size: float, marker: float, bold: bool = False) -> int:
    """Pixels beside a column for its widest label (text beside a marker, plus padding)."""
    widest = max((text_width(t, size, bold) for t in texts), default=0.0)
    return round(widest * 1.1 + marker / 2 + 12)


def wrap_name(name: str, width: float, size: float, bold: bool = True) -> list[str]:
    """`name` in lines of at most `width` px where it can break (after a space, a slash or a
    hyphen), so a column header fits a phone-wide column; a word wider than that stays whole."""
    words = re.findall(r"[^ /-]+(?:[/-]|$| )?|[ /-]", name)
    lines: list[str] = []
    line = ""
    for word in words:
        if line and text_width((line + word).strip(), size, bold) > width:
            lines.append(line.strip())
            line = word.lstrip()
        else:
            line += word
    if line.strip():
        lines.append(line.strip())
    return lines or [name]


def bottom_margin(legend_height: int, bars: bool, beside: float | None) -> int:
    """The bottom margin `scales_below` gives: the legend, and the colour bars beside or under it."""
    scales = SCALE_GAP + SCALE_HEIGHT if bars else 0
    if beside is not None:
        return max(legend_height, scales) + 10
    return legend_height + scales + 10


def scales_below(
    data: list[dict[str, Any]],
    layout: dict[str, Any],
    legend_height: int,
    beside: float | None = None,
    orientation: str = "h",
) -> None:
    """Move every colour bar below the plot: under the legend (`legend_height` px tall, put at
    y = 0 and anchored at its top), side by side from the left; or, with `beside` (a fraction
    of the plot width clear of the legend), right of the legend. The bottom margin takes them
    (on a phone a wrapped legend takes more, which Plotly's automargin gives it)."""
    bars = [
        t["marker"]["colorbar"]
        for t in data
        if (t.get("marker") or {}).get("showscale") and "colorbar" in t["marker"]
    ]
    margin = layout.setdefault("margin", {})
    below, x0 = (SCALE_GAP, beside) if beside is not None else (legend_height + SCALE_GAP, 0.0)
    margin["b"] = max(int(margin.get("b", 0)), bottom_margin(legend_height, bool(bars), beside))
    plot_height = float(layout["height"]) - float(margin.get("t", 0)) - margin["b"]
    for i, bar in enumerate(bars):
        bar.update(
            {
                "x": round(x0 + i * SCALE_STEP, 3),
                "xanchor": "left",
                "y": round(-below / plot_height, 4),
                "yanchor": "top",
                "len": round(SCALE_HEIGHT / plot_height, 4),
                "thickness": 10,
            }
        )
    layout["legend"] = {
        "orientation": orientation,
        "x": 0,
        "xanchor": "left",
        "y": 0,
        "yanchor": "top",
        "tracegroupgap": 6,
    }

"""SVG markup primitives: compact numbers, escaped attributes and text, Plotly's text markup
made plain, and an estimate of how wide a text is drawn."""

from __future__ import annotations

import html
import re
from typing import Any

NOMINAL_WIDTH = 900  # px: the width the picture is laid out for (it scales with its box)
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
# a white outline behind a text (painted first), keeping it readable over lines and bars
HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
_TAG = re.compile(r"<[^>]*>")


def num(value: float) -> str:
    """A coordinate or size, compactly (one decimal: a tenth of a pixel at the nominal width)."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def alpha(value: float) -> str:
    """An opacity (two decimals)."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def attr(value: Any) -> str:
    """A value escaped for a quoted attribute."""
    return html.escape(str(value), quote=True)


def escape_text(text: str) -> str:
    """A text escaped for the content of an element."""
    return html.escape(text, quote=False)


def plain_text(text: Any) -> tuple[str, bool]:
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


def baseline_shift(size: float, baseline: str) -> float:
    """How far below y the text's baseline goes for y to be its "middle", "top" or "bottom"."""
    return {"middle": size * 0.35, "top": size * 0.8, "bottom": -size * 0.2}[baseline]


def text_element(
    x: float, y: float, text: str, size: float, color: str, *, anchor: str = "start",
    bold: bool = False, baseline: str = "middle", halo: bool = False, extra: str = "",
) -> str:  # fmt: skip
    """One <text> (`color` must be checked already, `extra` is trusted markup)."""
    attrs = [
        f'x="{num(x)}" y="{num(y + baseline_shift(size, baseline))}"',
        f'font-size="{num(size)}"',
        f'fill="{color}"',
    ]
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if bold:
        attrs.append('font-weight="bold"')
    if halo:
        attrs.append(HALO)
    if extra:
        attrs.append(extra)
    return f"<text {' '.join(attrs)}>{escape_text(text)}</text>"

"""Colours: checked before they reach an attribute, parsed, written as hex, and read off
Plotly colour scales."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

_COLOR = re.compile(
    r"#[0-9a-fA-F]{3,8}|rgba?\(\s*[\d.]+\s*,\s*[\d.]+\s*,\s*[\d.]+\s*(,\s*[\d.]+\s*)?\)|[a-z]{3,20}"
)

Rgba = tuple[float, float, float, float]


def checked_color(value: Any, default: str = "#444444") -> str:
    """A colour safe to put in an attribute (anything unexpected becomes `default`)."""
    if isinstance(value, str) and _COLOR.fullmatch(value.strip()):
        return value.strip()
    return default


def parse_color(color: str) -> Rgba:
    """A checked colour's red, green, blue (0-255) and alpha (0-1); a name → opaque black."""
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


def hex_color(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{max(0, min(255, round(v))):02x}" for v in (r, g, b))


def scale_colors(
    scale: Sequence[Sequence[Any]], values: Sequence[float | None], lo: float, hi: float
) -> list[str]:
    """The colours of values on a Plotly colour scale over [lo, hi] (linear in RGB, as Plotly;
    the scale's stops parsed once); None → light grey."""
    stops = [(float(s), parse_color(checked_color(c))) for s, c in scale]
    return ["#cccccc" if v is None else _on_scale(stops, v, lo, hi) for v in values]


def _on_scale(stops: list[tuple[float, Rgba]], value: float, lo: float, hi: float) -> str:
    t = 0.5 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    for (s0, c0), (s1, c1) in itertools.pairwise(stops):
        if t <= s1:
            w = 0.0 if s1 <= s0 else (t - s0) / (s1 - s0)
            return hex_color(*(c0[i] + (c1[i] - c0[i]) * w for i in range(3)))
    return hex_color(*stops[-1][1][:3])

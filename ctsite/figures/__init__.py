"""The three figures of the site (pure: compiled-store rows → Plotly figure dict + its table).

`FIGURES` maps a figure's name to its `FigureSpec` (texts, controls, defaults, builder);
`parse_params` validates a query string against a spec. Only pandas/numpy are used, so this
runs in the slim web image.
"""

from __future__ import annotations

from ctsite.figures import circos, effects, pairwise
from ctsite.figures.params import (
    BadParameter,
    Control,
    FigureResult,
    FigureSpec,
    parse_params,
    to_query,
)

FIGURES: dict[str, FigureSpec] = {
    "circos": circos.SPEC,
    "pairwise": pairwise.SPEC,
    "effects": effects.SPEC,
}

__all__ = [
    "FIGURES",
    "BadParameter",
    "Control",
    "FigureResult",
    "FigureSpec",
    "parse_params",
    "to_query",
]

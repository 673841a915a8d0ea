"""Reading values out of a figure dict: finite numbers and per-point properties."""

from __future__ import annotations

import math
from typing import Any


def number(value: Any) -> float | None:
    """A finite number as a float, else None (booleans, strings and NaN are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def each(value: Any, n: int, default: Any = None) -> list[Any]:
    """A per-point property as a list of n values (a scalar repeated)."""
    if isinstance(value, list | tuple):
        out = list(value)[:n]
        return out + [default] * (n - len(out))
    return [default if value is None else value] * n

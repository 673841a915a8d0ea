"""The one difference the engine's Circos figure may show: chord coordinates on a rounding tie.

Shared by tests/engine/test_circos_draw.py (the drawing alone) and the conformance suite on
generated stores (tests/engine/test_generated_stores.py), which meets the same ties.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Ties:
    """The chord curves' coordinates that sit on a rounding tie in the Python figure.

    The curves' points come from sin, cos and atan2, which numpy and the browser compute with
    different libraries (numpy's SIMD atan2 differs from glibc's in the last bit for ~8 % of
    inputs here, V8's sin/cos from glibc's for ~3 %; none is the same on every machine). Equal
    within 1e-9, a value on a tie of the figure's rounding (a chord's end exactly at a slot angle
    like 242.125°, shown to 2 decimals) is then shown one unit apart, and at the centre of a chord
    between opposite points (r ≈ 0) the angle is only ulp noise. Those and only those may differ:
    every other number of the figure is compared at the canonical tolerance."""

    pairs: dict[int, set[tuple[float, float]]]  # digits → {(round down, round up)}
    flips: int = 0


def ties_of(r: np.ndarray, t: np.ndarray) -> Ties:
    pairs: dict[int, set[tuple[float, float]]] = {2: set(), 3: set()}
    for values, digits in ((r, 3), (t, 2)):
        scaled = np.asarray(values, float).ravel() * 10.0**digits
        near = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
        near |= np.abs(scaled - np.rint(scaled)) < 1e-6  # 0 vs 360 below
        for v in scaled[near].tolist():
            pairs[digits].add((math.floor(v) / 10.0**digits, math.ceil(v) / 10.0**digits))
    if (np.abs(np.asarray(t) - 360.0) < 1e-6).any() or (np.asarray(t) < 1e-6).any():
        pairs[2].add((0.0, 360.0))
    return Ties(pairs)


def _tie(pairs: set[tuple[float, float]], e: Any, a: Any) -> bool:
    if not (isinstance(e, float | int) and isinstance(a, float | int)):
        return False
    lo, hi = min(e, a), max(e, a)
    return any(
        math.isclose(lo, p, rel_tol=1e-12, abs_tol=1e-12)
        and math.isclose(hi, q, rel_tol=1e-12, abs_tol=1e-12)
        for p, q in pairs
    )


def forgive_ties(expected: Any, actual: Any, ties: Ties) -> None:
    """Set the engine's chord coordinates that are the other rounding of a Python tie (or the
    angle of a point at the centre) to Python's, counting them in `ties.flips`."""
    if len(expected["data"]) != len(actual["data"]):
        return
    for e_trace, a_trace in zip(expected["data"], actual["data"], strict=True):
        chord_line = e_trace.get("connectgaps") is False
        if not (chord_line or e_trace.get("name") == "chords"):
            continue
        er, ar, et, at = e_trace["r"], a_trace.get("r"), e_trace["theta"], a_trace.get("theta")
        if not (isinstance(ar, list) and isinstance(at, list)):
            continue
        if len(er) != len(ar) or len(et) != len(at):
            continue
        for k, (e, a) in enumerate(zip(er, ar, strict=True)):
            if e != a and _tie(ties.pairs[3], e, a):
                ar[k] = e
                ties.flips += 1
        for k, (e, a) in enumerate(zip(et, at, strict=True)):
            centre = er[k] == 0.0 and ar[k] == 0.0
            if e != a and (centre or _tie(ties.pairs[2], e, a)):
                at[k] = e
                ties.flips += 1

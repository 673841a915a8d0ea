"""Inputs for the engine's conformance tests: hypothesis strategies biased towards the edges
where a JavaScript port drifts from Python (rounding ties, the switch points of `g` formatting,
signed zero, NaN and infinities, huge and tiny magnitudes, unicode and HTML-special text), and
`examples`, which draws a batch of them so one Node process checks them all."""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

T = TypeVar("T")

SPECIAL_FLOATS = [
    0.0, -0.0, float("nan"), float("inf"), float("-inf"), 5e-324, -5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 1e21, 1e22, 1e16, 9999999999999998.0, 1e-4, 1e-5, 9.9995e-5,
    0.00005, 0.00015, 0.0005, 0.005, 0.05, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, -0.125, 2.675,
    1.0005, 9.9995, 99.995, 999.5, 999.95, 1000.0, 999.9995, 999999.5, 1234.5, 0.1, 0.3,
    0.30000001192092896, 1e-7, 123456789.0, -1e-12, 0.045, 1e300, -1e-300,
]  # fmt: skip


def ties() -> st.SearchStrategy[float]:
    """Exact binary values that sit on a decimal rounding tie (n / 2**k)."""
    return st.builds(lambda n, k: n / 2**k, st.integers(-(10**7), 10**7), st.integers(0, 14))


def decimal_fives() -> st.SearchStrategy[float]:
    """Decimal texts ending in 5 (the nearest doubles sit just above or below a tie)."""
    return st.builds(
        lambda m, e: float(f"{m}5e{e}"), st.integers(-(10**8), 10**8), st.integers(-14, 8)
    )


def g_edges() -> st.SearchStrategy[float]:
    """Values next to the points where `g` formatting changes layout or digit count."""
    return st.builds(
        lambda nines, e, sign: sign * float(f"{'9' * nines}5e{e}"),
        st.integers(1, 7),
        st.integers(-12, 4),
        st.sampled_from([1.0, -1.0]),
    )


def edge_floats(min_value: float | None = None, max_value: float | None = None) -> Any:
    """Floats biased towards the edges (all of them if no bounds are given)."""
    options = [
        st.sampled_from(SPECIAL_FLOATS),
        ties(),
        decimal_fives(),
        g_edges(),
        st.floats(),
        st.floats(-1e4, 1e4),
        st.floats(-1.0, 1.0),
    ]
    values = st.one_of(options)
    if min_value is not None or max_value is not None:
        lo = -float("inf") if min_value is None else min_value
        hi = float("inf") if max_value is None else max_value
        values = values.filter(lambda v: lo <= v <= hi)
    return values


def finite_edge_floats(lo: float = -1e6, hi: float = 1e6) -> Any:
    return st.one_of(
        st.sampled_from([v for v in SPECIAL_FLOATS if lo <= v <= hi]),
        ties().filter(lambda v: lo <= v <= hi),
        decimal_fives().filter(lambda v: lo <= v <= hi),
        st.floats(lo, hi),
    )


def texts() -> st.SearchStrategy[str]:
    """Text with HTML specials, entities, whitespace of every kind and astral characters."""
    pieces = st.sampled_from(
        ["&", "<", ">", '"', "'", "&amp;", "&lt", "&notit;", "&#x41;", "&#0;", "&#128;",
         "&#xD800;", "&#1114112;", "&AMP", "&ampx;", "<b>", "</b>", "<br>", "<i>x</i>", " ",
         "\t", "\n", "\x1c", "\x85", "\u00a0", "\u2003", "\ufeff", "😀", "é", "ß", "İ", "M",
         "-", "/", "1_0", "٣", "nan", "Inf", "1e5", "_"]
    )  # fmt: skip
    return st.one_of(
        st.text(max_size=30),
        st.lists(st.one_of(pieces, st.text(max_size=4)), max_size=8).map("".join),
    )


def examples(strategy: st.SearchStrategy[T], n: int = 250) -> list[T]:
    """`n` values drawn by hypothesis (deterministically: the same in every run) from
    `strategy`, for one batch through the engine."""
    seen: list[T] = []

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def record(value: T) -> None:
        seen.append(value)

    record()
    return seen

"""web-assets/engine/colors.js against ctsite/figures/colors.py (scales, value → colour,
colour bins, alpha), on values at and around the bin and interpolation edges."""

from __future__ import annotations

from hypothesis import strategies as st

from ctsite.figures import colors
from tests.support.engine_inputs import edge_floats, examples
from tests.support.node_engine import compare, constant

N = 300
SCALES = [colors.CIVIDIS, colors.RED_BLUE, colors.BLUE_WHITE_RED, colors.GREYS]
RANGES = [
    colors.DC1_RANGE,
    colors.DA_RANGE,
    colors.LIGAND_LOG2FC_RANGE,
    colors.INDUCED_LOG2FC_RANGE,
    colors.EXPRESSION_RANGE,
    (0.0, 0.0),
    (1.0, -1.0),
    (float("nan"), 1.0),
    (-1.0, float("nan")),
    (0.0, float("inf")),
]
NAMES = ["CIVIDIS", "RED_BLUE", "BLUE_WHITE_RED", "GREYS", "DC1_RANGE", "DA_RANGE"]
NAMES += ["LIGAND_LOG2FC_RANGE", "INDUCED_LOG2FC_RANGE", "EXPRESSION_RANGE"]


def _bin_edges(lo: float, hi: float, bins: int) -> list[float]:
    step = (hi - lo) / bins if bins else 0.0
    return [lo + i * step for i in range(bins + 1)]


def test_constants_are_pythons():
    for name in NAMES:
        assert constant("colors", name) == list(getattr(colors, name)), name


def test_colorscale():
    compare("colors", "colorscale", colors.colorscale, [(s,) for s in SCALES] + [(["#fff"],)])


def test_fraction_sample_and_bins():
    inputs = examples(st.tuples(st.sampled_from(SCALES), edge_floats(), st.sampled_from(RANGES)), N)
    edges = [
        (scale, v, rng)
        for scale in SCALES
        for rng in RANGES[:5]
        for v in _bin_edges(*rng, 11) + _bin_edges(*rng, len(scale) - 1)
    ]
    cases = inputs + edges
    compare("colors", "fraction", colors.fraction, [(v, lo, hi) for _, v, (lo, hi) in cases])
    compare("colors", "sample", colors.sample, [(s, v, lo, hi) for s, v, (lo, hi) in cases])
    bins = [(v, lo, hi, n) for _, v, (lo, hi) in cases for n in (1, 5, 11)]
    compare("colors", "binIndex", colors.bin_index, bins)


def test_bin_colors_and_alpha():
    inputs = examples(
        st.tuples(st.sampled_from(SCALES), st.sampled_from(RANGES), st.integers(1, 40)), N
    )
    compare("colors", "binColors", colors.bin_colors, [(s, lo, hi, n) for s, (lo, hi), n in inputs])
    alphas = examples(st.tuples(st.sampled_from(["#a3d106", "#000000"]), edge_floats()), N)
    compare("colors", "withAlpha", colors.with_alpha, alphas)

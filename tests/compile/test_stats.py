"""The vectorized quantities against exact hand values and a naive per-row reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ctsite.compile import stats


def naive_counts(block: np.ndarray) -> np.ndarray:
    out = np.zeros((block.shape[0], len(stats.THRESHOLDS)), dtype=np.int64)
    for i, row in enumerate(block):
        for k, t in enumerate(stats.THRESHOLDS):
            out[i, k] = sum(1 for v in row.tolist() if v < t)  # NaN < t is False
    return out


def test_thresholds_are_the_sites_sliders():
    assert stats.THRESHOLDS[0] == 0.01 and stats.THRESHOLDS[-1] == 0.25
    assert len(stats.THRESHOLDS) == 25
    assert stats.threshold_key(0.05) == "t05"


def test_count_below_exact_boundaries():
    block = np.array([[0.001, 0.009, 0.01, 0.011, 0.2, 0.5], [0.05, 0.049, np.nan, 0.25, 0.0, 1]])
    counts = stats.count_below(block)
    k = {t: i for i, t in enumerate(stats.THRESHOLDS)}
    assert counts[0, k[0.01]] == 2  # 0.01 itself is not < 0.01
    assert counts[0, k[0.02]] == 4
    assert counts[0, k[0.25]] == 5
    assert counts[1, k[0.05]] == 2  # 0.049 and 0.0
    assert counts[1, k[0.06]] == 3
    assert counts[1, k[0.25]] == 3  # NaN and 0.25 never count
    assert stats.count_nan(block) == 1


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 7), st.integers(1, 30)),
        elements=st.one_of(
            st.floats(0, 1, allow_nan=False),
            st.sampled_from([0.01, 0.05, 0.25, 0.1, 0.07, float("nan"), 0.0]),
        ),
    )
)
def test_count_below_matches_naive_reference(block):
    assert np.array_equal(stats.count_below(block), naive_counts(block))


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 5), st.integers(1, 20)),
        elements=st.floats(0, 1, width=32),
    )
)
def test_count_below_float32_layers(block):
    assert np.array_equal(stats.count_below(block), naive_counts(block.astype(np.float64)))


def test_combine_counts_rule():
    a = np.array([0, 3, 5, 7])
    b = np.array([4, 0, 2, 9])
    assert stats.combine_counts([a, b]).tolist() == [0, 0, 5, 9]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=30))
def test_combine_counts_matches_reference(pairs):
    a, b = (np.array(x) for x in zip(*pairs, strict=True))
    expected = [0 if x == 0 or y == 0 else max(x, y) for x, y in pairs]
    assert stats.combine_counts([a, b]).tolist() == expected


def test_combine_mast_rule():
    lfc, fdr = stats.combine_mast(
        [np.array([0.5, 0.2, -0.3, -0.4]), np.array([0.6, 0.1, 0.35, -0.2])],
        [np.array([0.01, 0.02, 0.03, 0.04]), np.array([0.02, 0.01, 0.001, 0.5])],
    )
    assert lfc.tolist() == [0.6, 0.2, 0.0, -0.4]
    assert fdr.tolist() == [0.02, 0.02, 1.0, 0.04]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-3, 3, allow_nan=False), st.floats(-3, 3, allow_nan=False),
            st.floats(0, 1), st.floats(0, 1),
        ),
        min_size=1, max_size=20,
    )
)  # fmt: skip
def test_combine_mast_matches_reference(rows):
    la, lb, fa, fb = (np.array(x) for x in zip(*rows, strict=True))
    lfc, fdr = stats.combine_mast([la, lb], [fa, fb])
    for i, (x, y, p, q) in enumerate(rows):
        if np.sign(x) != np.sign(y):
            assert (lfc[i], fdr[i]) == (0.0, 1.0)
        elif abs(x) >= abs(y):
            assert (lfc[i], fdr[i]) == (x, p)
        else:
            assert (lfc[i], fdr[i]) == (y, q)


def test_expressing_counts_group_by():
    import scipy.sparse as sp

    block = sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 1], [3, 1, 0], [0, 0, 0]], dtype=float))
    codes = np.array([0, 0, 1, -1])
    assert stats.expressing_counts(block, codes, 2).tolist() == [[1, 0, 2], [1, 1, 0]]


def test_count_below_exact_next_to_every_threshold():
    for dtype in (np.float32, np.float64):
        values = []
        for t in stats.THRESHOLDS:
            b = dtype(t)
            values += [b, np.nextafter(b, dtype(1)), np.nextafter(b, dtype(0))]
        values += [dtype(-0.5), dtype(0), dtype(np.nan), dtype(np.inf), dtype(0.2499999)]
        block = np.array(values, dtype=dtype).reshape(1, -1)
        assert np.array_equal(stats.count_below(block), naive_counts(block.astype(np.float64)))

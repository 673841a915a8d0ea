"""The vectorized quantities of SPEC-data.md, as pure functions on arrays.

Thresholds are exact decimals compared in float64: a value v counts at threshold t when v < t.
NaN never counts (it is "not significant").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

THRESHOLDS: tuple[float, ...] = tuple(round(k / 100, 2) for k in range(1, 26))


def threshold_key(t: float) -> str:
    """Column suffix for a threshold: 0.05 → 't05'."""
    return f"t{round(t * 100):02d}"


def count_below(block: np.ndarray, thresholds: tuple[float, ...] = THRESHOLDS) -> np.ndarray:
    """For each row, the number of values < t for every threshold t, in one pass.

    Returns an int32 array (rows, len(thresholds)). Each value is placed in the bin of the first
    threshold above it (searchsorted); a cumulative sum over bins gives all counts at once.
    """
    rows = block.shape[0]
    t = np.asarray(thresholds, dtype=np.float64)
    values = np.asarray(block, dtype=np.float64)
    small = values < t[-1]  # NaN compares False: never counted
    r, _ = np.nonzero(small)
    bins = np.searchsorted(t, values[small], side="right")
    hist = np.bincount(r * len(t) + bins, minlength=rows * len(t)).reshape(rows, len(t))
    return np.cumsum(hist, axis=1, dtype=np.int64).astype(np.int32)


def count_nan(block: np.ndarray) -> int:
    return int(np.isnan(block).sum())


def combine_counts(counts: list[np.ndarray]) -> np.ndarray:
    """Combined-condition rule: the largest count, but 0 when any count is 0."""
    stacked = np.stack(counts)
    return np.where((stacked > 0).all(axis=0), stacked.max(axis=0), 0).astype(np.int32)


def combine_mast(log2fc: list[np.ndarray], fdr: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Combined MAST: take the condition with the largest |log2FC|; signs differ → (0, 1)."""
    lfc = np.stack([np.asarray(x, dtype=np.float64) for x in log2fc])
    fdrs = np.stack([np.asarray(x, dtype=np.float64) for x in fdr])
    pick = np.nanargmax(np.where(np.isnan(lfc), -np.inf, np.abs(lfc)), axis=0)
    cols = np.arange(lfc.shape[1])
    out_lfc = lfc[pick, cols]
    out_fdr = fdrs[pick, cols]
    signs = np.sign(lfc)
    disagree = (signs != signs[0]).any(axis=0)
    out_lfc = np.where(disagree, 0.0, out_lfc)
    out_fdr = np.where(disagree, 1.0, out_fdr)
    return out_lfc, out_fdr


def same_sign(log2fc: list[np.ndarray]) -> np.ndarray:
    signs = np.sign(np.stack(log2fc))
    return ~(signs != signs[0]).any(axis=0)


def group_codes(labels: np.ndarray, groups: list[str]) -> np.ndarray:
    """Index of each label in `groups`, −1 when absent."""
    lookup = {g: i for i, g in enumerate(groups)}
    return np.fromiter((lookup.get(x, -1) for x in labels), dtype=np.int64, count=len(labels))


def expressing_counts(
    block: np.ndarray | sp.spmatrix, codes: np.ndarray, n_groups: int
) -> np.ndarray:
    """Per group, the number of cells with count > 0 for each gene (one sparse group-by)."""
    keep = codes >= 0
    indicator = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float64), (codes[keep], np.nonzero(keep)[0])),
        shape=(n_groups, len(codes)),
    )
    positive = sp.csr_matrix(block) > 0
    return np.asarray((indicator @ positive.astype(np.float64)).todense())

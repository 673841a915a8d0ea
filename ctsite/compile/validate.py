"""Value checks of the ContactTracing inputs: FDRs in [0, 1], finite fold changes, real numbers.

SPEC-data.md allows missing values (NaN: "not significant"), which the compile counts and reports
as warnings. Anything else that cannot be an FDR or a log2 fold change is an `InputError` naming
the file, the layer or column, how many values are wrong and the first one, so a user can find it.
Block checks are two reductions per block (`fmin`/`fmax` skip NaN), cheap next to reading it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ctsite.errors import InputError

FDR_LAYERS = ("fdr", "fdr.i1")
FDR_HINT = "FDRs must lie in [0, 1]; a missing value may be NaN (it counts as not significant)"
LFC_HINT = "log2 fold changes must be finite numbers; a missing value may be NaN"

_KINDS = {"b": "boolean", "c": "complex", "S": "byte-string", "U": "string", "O": "object"}


def check_layer_dtype(dtype: np.dtype, layer: str, path: Path) -> None:
    """A layer must hold real numbers (floats, or integers); booleans, complex, text are errors."""
    kind = np.dtype(dtype).kind
    if kind not in "fiu":
        what = _KINDS.get(kind, str(dtype))
        raise InputError(
            f"{path}: layer {layer} holds {what} values ({dtype}), not real numbers",
            hint=FDR_HINT if layer in FDR_LAYERS else LFC_HINT,
        )


def _first_bad(block: np.ndarray, bad: np.ndarray, first_row: int) -> str:
    row, col = (int(i) for i in np.argwhere(bad)[0])
    return f"{block[row, col]!r} at row {first_row + row}, gene column {col}"


def check_block(block: np.ndarray, layer: str, path: Path, first_row: int = 0) -> None:
    """Raise when a block of `layer` holds a value the SPEC does not allow (NaN is allowed)."""
    values = np.asarray(block)
    if values.size == 0:
        return
    flat = values.reshape(-1)
    lo, hi = np.fmin.reduce(flat), np.fmax.reduce(flat)  # NaN ignored (all-NaN gives NaN)
    if layer in FDR_LAYERS:
        if not (lo < 0 or hi > 1):
            return
        bad = (values < 0) | (values > 1)
        raise InputError(
            f"{path}: layer {layer} has {int(bad.sum())} value(s) outside [0, 1] in rows "
            f"{first_row}–{first_row + len(values) - 1} (first: {_first_bad(values, bad, first_row)})",
            hint=FDR_HINT,
        )
    if not (np.isinf(lo) or np.isinf(hi)):
        return
    bad = np.isinf(values)
    raise InputError(
        f"{path}: layer {layer} has {int(bad.sum())} infinite value(s) in rows "
        f"{first_row}–{first_row + len(values) - 1} (first: {_first_bad(values, bad, first_row)})",
        hint=LFC_HINT,
    )


def numeric_column(obs: pd.DataFrame, column: str, path: Path, *, fdr: bool) -> np.ndarray:
    """An obs column as float64: text or booleans are errors, not silent NaN."""
    series = obs[column]
    if pd.api.types.is_bool_dtype(series):
        raise InputError(f"{path}: obs column {column!r} holds booleans, not numbers")
    values = pd.to_numeric(series, errors="coerce")
    lost = values.isna() & series.notna()
    if lost.any():
        example = series[lost].iloc[0]
        raise InputError(
            f"{path}: obs column {column!r} has {int(lost.sum())} value(s) that are not numbers "
            f"(first: {example!r})",
            hint=FDR_HINT if fdr else LFC_HINT,
        )
    out = values.to_numpy(dtype=float)
    if fdr:
        bad = (out < 0) | (out > 1)
        what, hint = "outside [0, 1]", FDR_HINT
    else:
        bad = np.isinf(out)
        what, hint = "infinite", LFC_HINT
    if bad.any():
        raise InputError(
            f"{path}: obs column {column!r} has {int(bad.sum())} value(s) {what} "
            f"(first: {out[bad][0]!r} in row {int(np.flatnonzero(bad)[0])})",
            hint=hint,
        )
    return out


def check_unique(names: Sequence[str], what: str, path: Path) -> None:
    """Gene names (var) must be unique: a duplicate would make two columns one gene."""
    index = pd.Index(names)
    if index.is_unique:
        return
    dups = index[index.duplicated()].unique()
    shown = ", ".join(map(str, dups[:8])) + (", …" if len(dups) > 8 else "")
    raise InputError(
        f"{path}: {len(dups)} duplicate {what} ({shown})",
        hint="make the names unique (e.g. AnnData's var_names_make_unique()) and re-export",
    )

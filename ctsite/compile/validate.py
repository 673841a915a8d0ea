"""Value checks of the ContactTracing inputs: FDRs in [0, 1], finite fold changes, real numbers.

SPEC-data.md allows missing values (NaN: "not significant"), which the compile counts and reports
as warnings. Anything else that cannot be an FDR or a log2 fold change is an `InputError` naming
the file, the layer or column, how many values are wrong and the first one, so a user can find it.
Block checks are two reductions per block (`fmin`/`fmax` skip NaN), cheap next to reading it.
The obs flags (`ligand`, `receptor`) are read as booleans without `astype(bool)`, which would make
the text "False" and a missing value True; scores (`cell_type_dc1`, `DA_score`) must be numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ctsite.errors import InputError

FDR_LAYERS = ("fdr", "fdr.i1")
FDR_HINT = "FDRs must lie in [0, 1]; a missing value may be NaN (it counts as not significant)"
LFC_HINT = "log2 fold changes must be finite numbers; a missing value may be NaN"
SCORE_HINT = "cell_type_dc1 and DA_score must be finite numbers; a missing value may be NaN"

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


def check_counts_dtype(dtype: np.dtype, matrix: str, path: Path) -> None:
    """Expression counts must be real numbers: text (even b"1.0") or booleans are errors here,
    before any worker reads a block (where numpy would fail with an unreadable error)."""
    kind = np.dtype(dtype).kind
    if kind not in "fiu":
        raise InputError(
            f"{path}: `{matrix}` holds {_KINDS.get(kind, str(dtype))} values ({dtype}), "
            "not counts (numbers)",
            hint="store the counts as integers or floats, as anndata/scanpy write them",
        )


def _first_bad(block: np.ndarray, bad: np.ndarray, first_row: int) -> str:
    row, col = (int(i) for i in np.argwhere(bad)[0])
    return f"{_shown(block[row, col])} at row {first_row + row}, gene column {col}"


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


def numeric_column(
    obs: pd.DataFrame, column: str, path: Path, *, fdr: bool, hint: str | None = None
) -> np.ndarray:
    """An obs column as float64: text or booleans are errors, not silent NaN (or 1.0/0.0).

    Missing values (NaN) are allowed; an FDR must lie in [0, 1], anything else be finite.
    `hint`: the fix to suggest (default: the FDR or the fold-change rule).
    """
    series = obs[column]
    hint = hint or (FDR_HINT if fdr else LFC_HINT)
    booleans = np.flatnonzero(_boolean_rows(series))
    if booleans.size:
        row = int(booleans[0])
        raise InputError(
            f"{path}: obs column {column!r} holds booleans, not numbers "
            f"(first: {_shown(series.iloc[row])} in row {row})",
            hint=hint,
        )
    complex_rows = np.flatnonzero(_complex_rows(series))
    if complex_rows.size:
        row = int(complex_rows[0])
        raise InputError(
            f"{path}: obs column {column!r} holds complex numbers, not real ones "
            f"(first: {_shown(series.iloc[row])} in row {row})",
            hint=hint,
        )
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)  # numbers written as text are read as categories
    values = pd.to_numeric(series, errors="coerce")
    lost = values.isna() & series.notna()
    if lost.any():
        example = series[lost].iloc[0]
        raise InputError(
            f"{path}: obs column {column!r} has {int(lost.sum())} value(s) that are not numbers "
            f"(first: {_shown(example)} in row {int(np.flatnonzero(lost.to_numpy())[0])})",
            hint=hint,
        )
    out = values.to_numpy(dtype=float, na_value=np.nan)
    if fdr:
        bad = (out < 0) | (out > 1)
        what = "outside [0, 1]"
    else:
        bad = np.isinf(out)
        what = "infinite"
    if bad.any():
        raise InputError(
            f"{path}: obs column {column!r} has {int(bad.sum())} value(s) {what} "
            f"(first: {_shown(out[bad][0])} in row {int(np.flatnonzero(bad)[0])})",
            hint=hint,
        )
    return out


def _is_bool(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def _boolean_rows(series: pd.Series) -> np.ndarray:
    """Which rows hold a boolean (a boolean column: all; text or mixed: those that do)."""
    if pd.api.types.is_bool_dtype(series):
        return np.ones(len(series), dtype=bool)
    if series.dtype == object:
        return series.map(_is_bool).to_numpy(dtype=bool)
    return np.zeros(len(series), dtype=bool)


def _complex_rows(series: pd.Series) -> np.ndarray:
    """Which rows hold a complex number (its imaginary part would be lost as a float)."""
    if series.dtype.kind == "c":
        return np.ones(len(series), dtype=bool)
    if series.dtype == object:
        return series.map(lambda v: isinstance(v, complex | np.complexfloating)).to_numpy(bool)
    return np.zeros(len(series), dtype=bool)


def _shown(value: object) -> str:
    """A value as a message shows it: 'up', nan, True (not np.float64(nan))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


FLAG_HINT = (
    "ligand and receptor flags must be booleans (True/False); the text True/False/true/false/"
    "1/0 and the numbers 1/0 are read too; a missing flag is not allowed"
)
_FLAG_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _flag(value: object) -> bool | None:
    """One flag value as a boolean, or None when it is not unambiguously one."""
    if _is_bool(value):
        return bool(value)
    if isinstance(value, str):
        return _FLAG_TEXT.get(value.lower())
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return bool(value)  # NaN is neither 0 nor 1
    return None


def flag_column(obs: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A ligand/receptor flag column as booleans.

    Never `astype(bool)`: it makes the text "False" and a missing value (NaN) True. Booleans,
    the numbers 0/1 and the text True/False/true/false/1/0 are read; anything else (NaN, NA,
    other text) is an error naming the first bad value and its row.
    """
    series = obs[column]
    if series.dtype == bool:
        return series.to_numpy(dtype=bool)
    flags = [_flag(v) for v in series.astype(object)]
    bad = [i for i, f in enumerate(flags) if f is None]
    if bad:
        first = series.iloc[bad[0]]
        raise InputError(
            f"{path}: obs column {column!r} has {len(bad)} value(s) that are not True/False "
            f"(first: {_shown(first)} in row {bad[0]})",
            hint=FLAG_HINT,
        )
    return np.array(flags, dtype=bool)


COUNTS_HINT = (
    "expression counts must be finite numbers ≥ 0 (raw or normalised); a cell expresses a gene "
    "when its count is above 0"
)


def check_counts_block(
    block: np.ndarray | sp.spmatrix, matrix: str, path: Path, first_row: int
) -> None:
    """Raise when a block of expression counts holds a negative, NaN or infinite value (each
    would silently change the expressing fractions). Two reductions per block."""
    if sp.issparse(block):
        csr = sp.csr_matrix(block)  # a CSR block: no copy
        values = np.asarray(csr.data)
    else:
        values = np.asarray(block).reshape(-1)
    if values.size == 0 or values.dtype.kind == "u":
        return
    floats = values.dtype.kind == "f"
    if (not floats or bool(np.isfinite(values).all())) and values.min() >= 0:
        return
    bad = (values < 0) | ~np.isfinite(values) if floats else values < 0
    first = int(np.flatnonzero(bad)[0])
    if sp.issparse(block):
        row = int(np.searchsorted(csr.indptr, first, side="right")) - 1
        col = int(csr.indices[first])
    else:
        row, col = divmod(first, block.shape[1])
    raise InputError(
        f"{path}: `{matrix}` has {int(bad.sum())} count(s) that are negative, NaN or infinite "
        f"in rows {first_row}–{first_row + block.shape[0] - 1} (first: {_shown(values[first])} "
        f"at row {first_row + row}, gene column {col})",
        hint=COUNTS_HINT,
    )


GENE_NAME_HINT = (
    "gene names (the var index) must be the gene symbols, as the ligand–receptor list spells "
    "them; fix them in the file (e.g. adata.var_names = adata.var_names.str.strip()) and re-export"
)


def gene_names(index: Sequence[object], path: Path) -> list[str]:
    """The var index as gene names: every one text, not empty, without surrounding whitespace.

    Numbers (a float index with NaN), an empty name or "Ccl2 " would never match the
    ligand–receptor list, and the gene would silently drop out of the ligand effects.
    """
    names = list(index)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise InputError(
                f"{path}: gene names (var) are not text (first: {_shown(name)} at position {i})",
                hint=GENE_NAME_HINT,
            )
        if not name.strip():
            raise InputError(
                f"{path}: gene name at position {i} (var) is empty", hint=GENE_NAME_HINT
            )
        if name != name.strip():
            raise InputError(
                f"{path}: gene name {_shown(name)} (var, position {i}) has leading or trailing "
                "whitespace",
                hint=GENE_NAME_HINT,
            )
    return [str(n) for n in names]


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

"""Open and validate the three ContactTracing input kinds (SPEC-data.md).

Every problem becomes an `InputError` naming the file, the column or layer, and the fix. Only
metadata is read here (obs, var, layer shapes); layers are streamed later in row blocks.
"""

from __future__ import annotations

import csv
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ctsite.compile import validate
from ctsite.errors import InputError

DEG_OBS_COLUMNS = ("cell type", "target", "ligand", "receptor", "cell_type_dc1", "DA_score")
DEG_LAYERS = ("log2FC", "fdr", "fdr.i1")


def read_interactions(path: Path) -> pd.DataFrame:
    """The ligand–receptor list: a TSV with the header `ligand<TAB>receptor` (any letter case,
    an optional UTF-8 byte-order mark)."""
    _require_file(path, "ligand–receptor list")
    try:  # utf-8-sig: a byte-order mark (spreadsheets write one) is not part of the header
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter="\t")
            try:
                rows = list(reader)
            except csv.Error as exc:  # a field over the csv module's limit, a NUL byte, ...
                raise InputError(
                    f"{path}: line {reader.line_num}: {_csv_problem(exc)}",
                    hint="the ligand–receptor list is a TSV of gene symbols: ligand<TAB>receptor",
                ) from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text (UTF-8) TSV file") from None
    if not rows:
        raise InputError(f"{path}: the ligand–receptor list is empty")
    header = [h.strip().lower() for h in rows[0]]  # "Ligand<TAB>Receptor" is the same header
    if header[:2] != ["ligand", "receptor"]:
        raise InputError(
            f"{path}: the first line must be the header 'ligand<TAB>receptor', got {rows[0][:2]!r}",
            hint="add the header line (tab-separated) at the top of the file",
        )
    pairs = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise InputError(f"{path}:{lineno}: expected two tab-separated gene symbols")
        pairs.append((row[0].strip(), row[1].strip()))
    if not pairs:
        raise InputError(f"{path}: the ligand–receptor list has a header but no pairs")
    return pd.DataFrame(pairs, columns=["ligand", "receptor"]).drop_duplicates(ignore_index=True)


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {csv.field_size_limit()} characters (no gene symbol is)"
    return f"not a tab-separated text line ({text})"


def not_a_file(path: Path) -> str | None:
    """Why `path` cannot be read as an input file, in words; None when it is a regular file.

    "not found" only when nothing is there: a folder, a named pipe (opening it would wait for a
    writer), a link to nothing or a link that loops is said as what it is.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"is a symbolic link to {os.readlink(path)}, which does not exist"
        return "not found"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link that loops (it leads back to itself)"
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file"
    return "is a socket or device, not a file"


def input_error(what: str, path: Path, problem: str) -> InputError:
    """The one line for an input path that is not a readable file (`not_a_file`)."""
    hint = "check the path in ctsite.toml [data]"
    if problem == "not found":
        return InputError(f"{what} not found: {path}", hint=hint)
    return InputError(f"{what} {path} {problem}", hint=hint)


def _require_file(path: Path, what: str) -> None:
    problem = not_a_file(path)
    if problem is not None:
        raise input_error(what, path, problem)


def open_h5(path: Path, what: str) -> h5py.File:
    """Open an .h5ad file read-only with clear errors for missing, non-HDF5 and truncated files."""
    _require_file(path, what)
    if not h5py.is_hdf5(path):
        raise InputError(
            f"{path}: not an HDF5/AnnData (.h5ad) file",
            hint=f"the {what} must be an AnnData file written by anndata/scanpy",
        )
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(
            f"{path}: cannot be read as HDF5 ({_short(exc)}); the file may be truncated",
            hint="copy the file again from its source",
        ) from None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:160]


def _read_frame(f: h5py.File, key: str, path: Path) -> pd.DataFrame:
    from anndata.io import read_elem

    if key not in f:
        raise InputError(f"{path}: no `{key}` group: not an AnnData file")
    try:
        frame = read_elem(f[key])
    except Exception as exc:  # anndata raises many types on malformed groups
        raise InputError(f"{path}: cannot read `{key}` ({_short(exc)})") from None
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{path}: `{key}` is not a data frame")
    return frame


def layer_shape(f: h5py.File, name: str, path: Path) -> tuple[tuple[int, int], str]:
    """(shape, 'dense'|'csr'|'csc') of a layer or X, without reading it."""
    node = f[name]
    if isinstance(node, h5py.Dataset):
        if node.ndim != 2:
            raise InputError(f"{path}: `{name}` is not a 2-D matrix")
        return (int(node.shape[0]), int(node.shape[1])), "dense"
    encoding = node.attrs.get("encoding-type", "")
    encoding = encoding.decode() if isinstance(encoding, bytes) else str(encoding)
    shape = node.attrs.get("shape", node.attrs.get("h5sparse_shape"))
    if encoding not in ("csr_matrix", "csc_matrix") or shape is None:
        raise InputError(f"{path}: `{name}` is neither a dense nor a sparse (CSR/CSC) matrix")
    return (int(shape[0]), int(shape[1])), encoding[:3]


SPARSE_HINT = "the file is damaged or was written by a broken tool; re-export it from the analysis"


def sparse_error(path: Path, name: str, storage: str, problem: str) -> InputError:
    """A sparse layer whose arrays do not form a CSR/CSC matrix, named by file and layer."""
    return InputError(
        f"{path}: `{name}` is a malformed sparse ({storage.upper()}) matrix: {problem}",
        hint=SPARSE_HINT,
    )


def check_sparse_structure(f: h5py.File, name: str, path: Path) -> None:
    """The arrays of a sparse layer fit together: `indptr` has one entry per row (CSR) or column
    (CSC) plus one, starts at 0, never decreases and stays within `indices`, which is as long
    as `data`. Reads `indptr` only (one integer per row); the indices are checked block by block
    as the layer is streamed (`_csr_row_blocks`), or here for CSC (read whole by anndata)."""
    node = f[name]
    if isinstance(node, h5py.Dataset):
        return
    shape, storage = layer_shape(f, name, path)
    arrays = {}
    for key in ("data", "indices", "indptr"):
        array = node.get(key)
        if not isinstance(array, h5py.Dataset) or array.ndim != 1:
            raise sparse_error(path, name, storage, f"no one-dimensional `{key}` array")
        if key != "data" and array.dtype.kind not in "iu":
            raise sparse_error(
                path, name, storage, f"`{key}` holds {array.dtype} values, not integers"
            )
        arrays[key] = array
    major = shape[0] if storage == "csr" else shape[1]
    unit = "rows" if storage == "csr" else "columns"
    if arrays["indptr"].shape[0] != major + 1:
        raise sparse_error(
            path,
            name,
            storage,
            f"indptr has {arrays['indptr'].shape[0]} entries, expected {major + 1} ({unit} + 1)",
        )
    if arrays["data"].shape[0] != arrays["indices"].shape[0]:
        raise sparse_error(
            path,
            name,
            storage,
            f"data has {arrays['data'].shape[0]} values but indices {arrays['indices'].shape[0]}",
        )
    indptr = np.asarray(arrays["indptr"][()], dtype=np.int64)
    if indptr[0] != 0:
        raise sparse_error(path, name, storage, f"indptr starts at {int(indptr[0])}, not 0")
    steps = np.diff(indptr)
    if (steps < 0).any():
        at = int(np.flatnonzero(steps < 0)[0])
        raise sparse_error(path, name, storage, f"indptr decreases after {unit[:-1]} {at}")
    if indptr[-1] > arrays["indices"].shape[0]:
        raise sparse_error(
            path,
            name,
            storage,
            f"indptr points past the end of the data ({int(indptr[-1])} > "
            f"{arrays['indices'].shape[0]} stored values)",
        )
    if storage == "csc":
        for start in range(0, int(indptr[-1]), 1 << 22):
            chunk = np.asarray(arrays["indices"][start : start + (1 << 22)])
            check_indices(chunk, shape[0], path, name, storage)


def check_indices(indices: np.ndarray, bound: int, path: Path, name: str, storage: str) -> None:
    """Every index of (a block of) a sparse layer lies in [0, bound): a column of a CSR matrix,
    a row of a CSC one."""
    if indices.size and (indices.min() < 0 or indices.max() >= bound):
        bad = indices[(indices < 0) | (indices >= bound)][0]
        unit = "column" if storage == "csr" else "row"
        raise sparse_error(
            path, name, storage, f"indices hold {unit} {int(bad)}, outside the {bound} {unit}s"
        )


def layer_dtype(f: h5py.File, name: str) -> np.dtype:
    """The value type of a dense layer, or of a sparse layer's `data` array."""
    node = f[name]
    if isinstance(node, h5py.Dataset):
        return node.dtype
    return node["data"].dtype if "data" in node else np.dtype(np.float64)


@dataclass
class DegFile:
    """Metadata of one DEG result file (one condition)."""

    path: Path
    obs: pd.DataFrame  # columns: cell_type, target, ligand, receptor, cell_type_dc1, DA_score, ...
    genes: list[str]
    log2fc_column: str
    fdr_column: str
    layers: dict[str, str]  # layer name → storage ('dense'|'csr'|'csc')


def _mast_column(obs: pd.DataFrame, prefix: str, configured: str | None, path: Path) -> str:
    if configured:
        if configured not in obs.columns:
            raise InputError(
                f"{path}: obs column {configured!r} not found",
                hint=f"{prefix}* columns present: {_list(c for c in obs.columns if c.startswith(prefix))}",
            )
        return configured
    found = [c for c in obs.columns if str(c).startswith(prefix)]
    if len(found) != 1:
        what = "no" if not found else "several"
        raise InputError(
            f"{path}: {what} obs column(s) {prefix}* ({_list(found) or 'none'})",
            hint="set log2fc_column and fdr_column for this condition in ctsite.toml",
        )
    return str(found[0])


def _list(items: object, limit: int = 12) -> str:
    values = [str(v) for v in items]  # type: ignore[attr-defined]
    more = f", … ({len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


def read_deg_metadata(
    path: Path, log2fc_column: str | None = None, fdr_column: str | None = None
) -> DegFile:
    """Validate a DEG .h5ad: obs columns, MAST columns, the three layers and their shapes."""
    with open_h5(path, "DEG result file") as f:
        obs = _read_frame(f, "obs", path)
        var = _read_frame(f, "var", path)
        missing = [c for c in DEG_OBS_COLUMNS if c not in obs.columns]
        if missing:
            raise InputError(
                f"{path}: obs column(s) missing: {', '.join(repr(m) for m in missing)}",
                hint=f"obs has: {_list(obs.columns)}",
            )
        lfc = _mast_column(obs, "MAST_log2FC_", log2fc_column, path)
        fdr = _mast_column(obs, "MAST_fdr_", fdr_column, path)
        present = list(f["layers"].keys()) if "layers" in f else []
        absent = [name for name in DEG_LAYERS if name not in present]
        if absent:
            raise InputError(
                f"{path}: layer(s) missing: {', '.join(absent)}",
                hint=f"layers present: {_list(present) or 'none'}",
            )
        layers = {}
        for name in DEG_LAYERS:
            shape, storage = layer_shape(f, f"layers/{name}", path)
            validate.check_layer_dtype(layer_dtype(f, f"layers/{name}"), name, path)
            check_sparse_structure(f, f"layers/{name}", path)
            if shape != (len(obs), len(var)):
                raise InputError(
                    f"{path}: layer {name} has shape {shape[0]}×{shape[1]} but obs×var is "
                    f"{len(obs)}×{len(var)}",
                    hint="the file is inconsistent; re-export it from the analysis",
                )
            layers[name] = storage
    if len(obs) == 0 or len(var) == 0:
        raise InputError(f"{path}: empty dataset ({len(obs)} rows × {len(var)} genes)")
    table = pd.DataFrame(
        {
            "cell_type": obs["cell type"].astype(str).to_numpy(),
            "target": obs["target"].astype(str).to_numpy(),
            "ligand": validate.flag_column(obs, "ligand", path),
            "receptor": validate.flag_column(obs, "receptor", path),
            "cell_type_dc1": validate.numeric_column(
                obs, "cell_type_dc1", path, fdr=False, hint=validate.SCORE_HINT
            ),
            "DA_score": validate.numeric_column(
                obs, "DA_score", path, fdr=False, hint=validate.SCORE_HINT
            ),
            "MAST_log2FC": validate.numeric_column(obs, lfc, path, fdr=False),
            "MAST_fdr": validate.numeric_column(obs, fdr, path, fdr=True),
        }
    )
    dup = table.duplicated(["cell_type", "target"], keep=False)
    if dup.any():
        examples = table.loc[dup, ["cell_type", "target"]].drop_duplicates().head(5)
        pairs = "; ".join(f"{r.cell_type}/{r.target}" for r in examples.itertuples())
        raise InputError(
            f"{path}: {int(dup.sum())} rows share a (cell type, target) with another row "
            f"(e.g. {pairs})",
            hint="each (cell type, target) must be tested once per file",
        )
    genes = validate.gene_names(var.index, path)
    validate.check_unique(genes, "gene names (var)", path)
    return DegFile(path, table, genes, lfc, fdr, layers)


def iter_row_blocks(
    f: h5py.File,
    name: str,
    block_rows: int,
    *,
    keep_sparse: bool = False,
    rows: tuple[int, int] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Yield (first_row, block) of a dense or sparse matrix, reading it (or `rows`) once.

    Blocks are dense numpy arrays, or scipy CSR matrices when `keep_sparse` and the storage is sparse.
    """
    node = f[name]
    if isinstance(node, h5py.Dataset):
        first, n = rows or (0, node.shape[0])
        for start in range(first, n, block_rows):
            yield start, np.asarray(node[start : min(n, start + block_rows)])
        return
    if node.attrs.get("encoding-type") == "csr_matrix":
        yield from _csr_row_blocks(node, block_rows, keep_sparse, rows)
        return
    from anndata.io import sparse_dataset

    matrix = sparse_dataset(node)
    first, n = rows or (0, matrix.shape[0])
    for start in range(first, n, block_rows):
        block = matrix[start : min(n, start + block_rows)]
        yield start, (block.tocsr() if keep_sparse else block.toarray())


def _csr_row_blocks(
    node: h5py.Group, block_rows: int, keep_sparse: bool, rows: tuple[int, int] | None
) -> Iterator[tuple[int, Any]]:
    """Row blocks of an AnnData CSR group, sliced straight from its three arrays (no copies of
    the whole matrix, and none of anndata's per-slice checks)."""
    import scipy.sparse as sp

    total, g = (int(x) for x in node.attrs["shape"])
    first, n = rows or (0, total)
    indptr = np.asarray(node["indptr"][first : n + 1], dtype=np.int64)
    data, indices = node["data"], node["indices"]
    path, name = Path(node.file.filename), node.name.lstrip("/")
    for start in range(first, n, block_rows):
        stop = min(n, start + block_rows)
        lo, hi = int(indptr[start - first]), int(indptr[stop - first])
        local = indptr[start - first : stop - first + 1] - lo
        columns = np.asarray(indices[lo:hi])
        _check_csr_block(columns, local, g, path, name, start)
        block = sp.csr_matrix((np.asarray(data[lo:hi]), columns, local), shape=(stop - start, g))
        yield start, (block if keep_sparse else block.toarray())


def _check_csr_block(
    columns: np.ndarray, indptr: np.ndarray, n_cols: int, path: Path, name: str, first_row: int
) -> None:
    """The column indices of a CSR block: each in [0, n_cols) and none twice in a row (a
    duplicate is summed, silently, by every reader). Sorted rows (the usual case) cost one
    comparison per value; unsorted ones are sorted to look for duplicates."""
    check_indices(columns, n_cols, path, name, "csr")
    if columns.size < 2:
        return
    starts = np.zeros(columns.size, dtype=bool)
    starts[indptr[:-1][indptr[:-1] < columns.size]] = True  # first value of each row
    rising = np.diff(columns) > 0
    if rising[~starts[1:]].all():
        return
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.lexsort((columns, rows))
    same = (np.diff(rows[order]) == 0) & (np.diff(columns[order]) == 0)
    if same.any():
        at = order[int(np.flatnonzero(same)[0])]
        raise sparse_error(
            path,
            name,
            "csr",
            f"row {first_row + int(rows[at])} holds column {int(columns[at])} twice",
        )


def read_row(f: h5py.File, name: str, row: int) -> np.ndarray:
    """One row of a dense or sparse matrix, as a dense 1-d array."""
    node = f[name]
    if isinstance(node, h5py.Dataset):
        return np.asarray(node[row])
    from anndata.io import sparse_dataset

    return np.asarray(sparse_dataset(node)[row : row + 1].toarray())[0]


@dataclass
class ExpressionFile:
    path: Path
    cell_types: pd.Series  # per cell
    genes: list[str]
    matrix: str  # 'layers/X' or 'X'


def read_expression_metadata(
    path: Path, cell_type_column: str = "Cell Type", layer: str | None = None
) -> ExpressionFile:
    with open_h5(path, "expression file") as f:
        obs = _read_frame(f, "obs", path)
        var = _read_frame(f, "var", path)
        if cell_type_column not in obs.columns:
            raise InputError(
                f"{path}: obs column {cell_type_column!r} missing",
                hint=f"obs has: {_list(obs.columns)} (set expression_cell_type_column in [data])",
            )
        if layer:
            name = layer if layer == "X" else f"layers/{layer}"
            if name not in f:
                raise InputError(f"{path}: layer {layer!r} not found")
        elif "layers" in f and "X" in f["layers"]:
            name = "layers/X"
        elif "X" in f:
            name = "X"
        else:
            raise InputError(f"{path}: no counts found (neither layers['X'] nor X)")
        shape, _ = layer_shape(f, name, path)
        if shape != (len(obs), len(var)):
            raise InputError(
                f"{path}: `{name}` has shape {shape[0]}×{shape[1]} but obs×var is "
                f"{len(obs)}×{len(var)}"
            )
        validate.check_counts_dtype(layer_dtype(f, name), name, path)
        check_sparse_structure(f, name, path)
    if len(obs) == 0 or len(var) == 0:
        raise InputError(f"{path}: empty expression data ({len(obs)} cells × {len(var)} genes)")
    genes = validate.gene_names(var.index, path)
    validate.check_unique(genes, "gene names (var)", path)
    return ExpressionFile(path, obs[cell_type_column].astype(str), genes, name)

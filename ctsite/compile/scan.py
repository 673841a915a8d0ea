"""Worker processes of the compile: each reads one input's layers exactly once, in row blocks.

A DEG file's three layers are streamed together: every block is counted at all FDR thresholds
(numSigI1, numDEG), and the few values a ligand-effects figure can ever draw are kept as sparse
rows (format.EFFECTS_RULE). The expression
file is reduced to per-cell-type expressing fractions with one sparse group-by per block.
Progress goes through a queue as (phase key, rows done).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import numpy as np

from ctsite.compile import inputs, stats, validate
from ctsite.errors import CtsiteError
from ctsite.lifecycle import die_with_parent, reuse_freed_memory
from ctsite.store import format as fmt
from ctsite.store.format import EFFECT_LAYERS

AdvanceFn = Callable[[str, int], None]

# Automatic block sizes (block_rows = 0). A dense block of about 1 MiB per layer stays in the CPU
# caches through every pass the scan makes over it (at the study's scale a scan of 32-row blocks
# took half the time of one of 512-row blocks). A sparse expression block is cheap per row and
# costs a fixed overhead per block, so it takes many rows.
DENSE_BLOCK_BYTES = 1 << 20
SPARSE_BLOCK_ROWS = 2048
RANGE_ROWS = 64  # the granularity of the row ranges that workers share


def dense_block_rows(n_cols: int, itemsize: int) -> int:
    """Rows per block of a dense matrix: about DENSE_BLOCK_BYTES (at least one row)."""
    return max(1, DENSE_BLOCK_BYTES // max(1, n_cols * itemsize))


def matrix_block_rows(node: Any, block_rows: int = 0) -> int:
    """Rows per block of an HDF5 matrix (a dense dataset or a sparse group): `block_rows`, or
    automatic when 0."""
    import h5py

    if block_rows > 0:
        return block_rows
    if isinstance(node, h5py.Dataset):
        return dense_block_rows(node.shape[1], node.dtype.itemsize)
    return SPARSE_BLOCK_ROWS


def scan_condition(
    path: str,
    rows: tuple[int, int],
    block_rows: int,
    signal_cols: list[int],
    t_max: float,
    queue: Any,
    key: str,
) -> dict[str, Any]:
    """Worker: stream rows [start, stop) of one DEG file's three layers once; counts + the sparse
    effect rows of that range. `block_rows` 0: blocks of about DENSE_BLOCK_BYTES.

    A row keeps the genes at `signal_cols` (ligands and receptors) whose float32 i1.fdr and fdr
    are both < `t_max` (format.EFFECTS_RULE), in gene order; the values are kept as float32,
    exactly as the figures read them.
    """
    import h5py

    cols = np.asarray(signal_cols, dtype=np.int64)
    bound = stats.float32_bound(t_max)
    first, last = rows
    sig = np.zeros((last - first, len(fmt.THRESHOLDS)), dtype=np.int32)
    deg = np.zeros_like(sig)
    per_row = np.zeros(last - first, dtype=np.int64)
    kept: dict[str, list[np.ndarray]] = {e.layer: [] for e in EFFECT_LAYERS}
    gene_parts: list[np.ndarray] = []
    nan_fdr = nan_i1 = 0
    with h5py.File(path, "r") as f:
        nodes = {e.layer: f[f"layers/{e.layer}"] for e in EFFECT_LAYERS}
        step = min(matrix_block_rows(node, block_rows) for node in nodes.values())
        streams = {
            layer: inputs.iter_row_blocks(f, f"layers/{layer}", step, rows=rows) for layer in nodes
        }
        for (start, lfc), (_, fdr), (_, i1) in zip(
            streams["log2FC"], streams["fdr"], streams["fdr.i1"], strict=True
        ):
            a, b = start - first, start - first + lfc.shape[0]
            for name, block in (("log2FC", lfc), ("fdr", fdr), ("fdr.i1", i1)):
                validate.check_block(block, name, Path(path), start)
            sub = {
                name: np.asarray(block[:, cols], dtype="<f4")
                for name, block in (("log2FC", lfc), ("fdr", fdr), ("fdr.i1", i1))
            }
            r, where = np.nonzero((sub["fdr"] < bound) & (sub["fdr.i1"] < bound))
            per_row[a:b] = np.bincount(r, minlength=b - a)
            gene_parts.append(cols[where].astype("<i4"))
            for name, values in sub.items():
                kept[name].append(values[r, where])
            deg[a:b] = stats.count_below(fdr)
            sig[a:b] = stats.count_below(i1)
            nan_fdr += stats.count_nan(fdr)
            nan_i1 += stats.count_nan(i1)
            if queue is not None:
                queue.put((key, b - a))
    return {
        "numSigI1": sig,
        "numDEG": deg,
        "nan_fdr": nan_fdr,
        "nan_i1": nan_i1,
        "per_row": per_row,
        "genes": _joined(gene_parts, "<i4"),
        **{e.layer: _joined(kept[e.layer], "<f4") for e in EFFECT_LAYERS},
    }


def merge_parts(parts: list[dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """Join the row ranges of one condition (in row order) and write its sparse effect files."""
    offsets = np.concatenate([[0], np.cumsum(np.concatenate([p["per_row"] for p in parts]))])
    np.save(out_dir / fmt.EFFECT_OFFSETS, offsets.astype("<i8"))
    np.save(out_dir / fmt.EFFECT_GENES, _joined([p["genes"] for p in parts], "<i4"))
    for e in EFFECT_LAYERS:
        np.save(out_dir / e.file, _joined([p[e.layer] for p in parts], "<f4"))
    return {
        "numSigI1": np.concatenate([p["numSigI1"] for p in parts]),
        "numDEG": np.concatenate([p["numDEG"] for p in parts]),
        "nan_fdr": sum(p["nan_fdr"] for p in parts),
        "nan_i1": sum(p["nan_i1"] for p in parts),
    }


def _joined(parts: list[np.ndarray], dtype: str) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def row_ranges(n: int, pieces: int, block_rows: int) -> list[tuple[int, int]]:
    """`n` rows cut into at most `pieces` ranges of whole blocks (so workers stay balanced)."""
    blocks = max(1, -(-n // block_rows))
    per = -(-blocks // max(1, pieces))
    return [(b * block_rows, min(n, (b + per) * block_rows)) for b in range(0, blocks, per)]


def scan_expression(
    path: str, matrix: str, labels: list[str], groups: list[str], block_rows: int, queue: Any
) -> np.ndarray:
    """Worker: fraction of cells of each group expressing each gene (one sparse group-by)."""
    import h5py

    codes = stats.group_codes(np.asarray(labels, dtype=object), groups)
    counts: np.ndarray | None = None
    with h5py.File(path, "r") as f:
        step = matrix_block_rows(f[matrix], block_rows)
        for start, block in inputs.iter_row_blocks(f, matrix, step, keep_sparse=True):
            validate.check_counts_block(block, matrix, Path(path), start)
            part = stats.expressing_counts(
                block, codes[start : start + block.shape[0]], len(groups)
            )
            counts = part if counts is None else counts + part
            if queue is not None:
                queue.put(("expression", block.shape[0]))
    assert counts is not None
    cells = np.bincount(codes[codes >= 0], minlength=len(groups)).astype(np.float64)
    return counts / np.maximum(cells, 1)[:, None]


class _DirectQueue:
    """The queue interface of the workers, reporting straight to `advance` (no processes)."""

    def __init__(self, advance: AdvanceFn):
        self._advance = advance

    def put(self, item: tuple[str, int]) -> None:
        self._advance(*item)


_worker_queue: Any = None  # set in each worker process by `_init_worker`


def _init_worker(parent: int, queue: Any) -> None:
    """First thing in a worker: die with the compile, and keep the progress queue."""
    global _worker_queue
    # The handlers first: a pool finished before this worker started terminates it, and the
    # CLI's inherited SIGTERM handler would print a traceback under the compile's result.
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the compile to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker: not the CLI's handler
    die_with_parent(parent)
    reuse_freed_memory()
    _worker_queue = queue


class WorkerError(Exception):
    """An unexpected error inside a compile worker, as plain text: the original exception may
    not survive pickling back to the compile (numpy's dtype errors do not), and then the user
    would see a PicklingError instead of what went wrong."""


def _call(fn: Callable[..., Any], args: tuple[Any, ...], key: str) -> Any:
    """Worker: one scan; a condition's row range reports progress under the condition's key."""
    extra = (_worker_queue,) if fn is scan_expression else (_worker_queue, key.split("/")[0])
    try:
        return fn(*args, *extra)
    except CtsiteError:
        raise  # pickles with its message and hint (CtsiteError.__reduce__)
    except Exception as exc:
        raise WorkerError(f"in a compile worker ({key}): {type(exc).__name__}: {exc}") from None


def _run_pool(
    calls: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]], jobs: int, advance: AdvanceFn
) -> dict[str, Any]:
    """Run `calls` in `jobs` worker processes; any error or interrupt terminates them all.

    Workers fork on Linux: they start in milliseconds with every library already imported (a
    spawned interpreter re-imports numpy, pandas and h5py: seconds on a busy machine); only the
    main thread forks, and no HDF5 file is open then. Elsewhere they are spawned.

    The workers die with this process even when it is killed (`die_with_parent`); on an error,
    Ctrl-C or SIGTERM, `Pool.terminate` stops them before the temp directory is removed.
    """
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    queue = ctx.Queue()
    pool = ctx.Pool(min(jobs, len(calls)), _init_worker, (os.getpid(), queue))
    try:
        pending = {
            key: pool.apply_async(_call, (fn, args, key)) for key, (fn, args) in calls.items()
        }
        results: dict[str, Any] = {}
        while pending:
            for key in [k for k, r in pending.items() if r.ready()]:
                results[key] = pending.pop(key).get()  # re-raises a worker's error here
            _drain(queue, advance)
            if pending:
                next(iter(pending.values())).wait(0.05)
        _drain(queue, advance)
        pool.close()
        return results
    finally:
        pool.terminate()
        pool.join()
        queue.close()


def _drain(queue: Any, advance: AdvanceFn) -> None:
    while True:
        try:
            advance(*queue.get_nowait())
        except Empty:
            return


def run_workers(
    tmp: Path,
    degs: dict[str, inputs.DegFile],
    expr: inputs.ExpressionFile,
    groups: list[str],
    cond_ids: dict[str, str],
    signal_genes: set[str],
    t_max: float,
    jobs: int,
    block_rows: int,
    advance: AdvanceFn,
) -> tuple[dict[str, dict[str, Any]], np.ndarray]:
    """Run the expression group-by and every condition scan, in `jobs` processes."""
    calls: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
        "expression": (
            scan_expression,
            (str(expr.path), expr.matrix, list(expr.cell_types), groups, block_rows),
        )
    }
    pieces: dict[str, list[str]] = {}
    for name, deg in degs.items():
        cid = cond_ids[name]
        cols = [i for i, g in enumerate(deg.genes) if g in signal_genes]
        ranges = row_ranges(len(deg.obs), 2 * jobs if jobs > 1 else 1, block_rows or RANGE_ROWS)
        for i, rows in enumerate(ranges):
            calls[f"{cid}/{i}"] = (scan_condition, (str(deg.path), rows, block_rows, cols, t_max))
        pieces[cid] = [f"{cid}/{i}" for i in range(len(ranges))]
    if jobs <= 1:
        results = {}
        for key, (fn, args) in calls.items():
            queue = _DirectQueue(advance)
            extra = (queue,) if fn is scan_expression else (queue, key.split("/")[0])
            results[key] = fn(*args, *extra)
    else:
        results = _run_pool(calls, jobs, advance)
    fractions = results.pop("expression")
    scans = {
        cid: merge_parts([results[k] for k in keys], fmt.condition_dir(tmp, cid))
        for cid, keys in pieces.items()
    }
    return scans, fractions

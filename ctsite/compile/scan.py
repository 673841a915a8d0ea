"""Worker processes of the compile: each reads one input's layers exactly once, in row blocks.

A DEG file's three layers are streamed together: every block is counted at all FDR thresholds
(numSigI1, numDEG) and appended to plain `.npy` files for the ligand-effects view. The expression
file is reduced to per-cell-type expressing fractions with one sparse group-by per block.
Progress goes through a queue as (phase key, rows done).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import numpy as np

from ctsite.compile import inputs, stats, validate
from ctsite.lifecycle import die_with_parent

EFFECT_LAYERS = {"log2FC": "log2FC.npy", "fdr": "fdr.npy", "fdr.i1": "fdr_i1.npy"}
AdvanceFn = Callable[[str, int], None]


def scan_condition(
    path: str, out_dir: str, block_rows: int, queue: Any, key: str
) -> dict[str, Any]:
    """Worker: stream the three layers of one DEG file once; counts + .npy copies."""
    import h5py

    with h5py.File(path, "r") as f, contextlib.ExitStack() as files:
        n, g = inputs.layer_shape(f, "layers/fdr", Path(path))[0]
        out = {}
        for name, fname in EFFECT_LAYERS.items():
            # Plain sequential writes (not a memmap): dirty pages never count against our RSS.
            fh = files.enter_context((Path(out_dir) / fname).open("wb"))
            header = {"descr": "<f4", "fortran_order": False, "shape": (n, g)}
            np.lib.format.write_array_header_1_0(fh, header)
            out[name] = fh
        sig = np.zeros((n, len(stats.THRESHOLDS)), dtype=np.int32)
        deg = np.zeros_like(sig)
        nan_fdr = nan_i1 = 0
        streams = {name: inputs.iter_row_blocks(f, f"layers/{name}", block_rows) for name in out}
        for (start, lfc), (_, fdr), (_, i1) in zip(
            streams["log2FC"], streams["fdr"], streams["fdr.i1"], strict=True
        ):
            stop = start + lfc.shape[0]
            for name, block in (("log2FC", lfc), ("fdr", fdr), ("fdr.i1", i1)):
                validate.check_block(block, name, Path(path), start)
                out[name].write(np.ascontiguousarray(block, dtype="<f4").data)
            deg[start:stop] = stats.count_below(fdr)
            sig[start:stop] = stats.count_below(i1)
            nan_fdr += stats.count_nan(fdr)
            nan_i1 += stats.count_nan(i1)
            if queue is not None:
                queue.put((key, stop - start))
    return {"numSigI1": sig, "numDEG": deg, "nan_fdr": nan_fdr, "nan_i1": nan_i1}


def scan_expression(
    path: str, matrix: str, labels: list[str], groups: list[str], block_rows: int, queue: Any
) -> np.ndarray:
    """Worker: fraction of cells of each group expressing each gene (one sparse group-by)."""
    import h5py

    codes = stats.group_codes(np.asarray(labels, dtype=object), groups)
    counts: np.ndarray | None = None
    with h5py.File(path, "r") as f:
        for start, block in inputs.iter_row_blocks(f, matrix, block_rows, keep_sparse=True):
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
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the compile to handle
    _worker_queue = queue


def _call(fn: Callable[..., Any], args: tuple[Any, ...], key: str) -> Any:
    extra = (_worker_queue,) if fn is scan_expression else (_worker_queue, key)
    return fn(*args, *extra)


def _run_pool(
    calls: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]], jobs: int, advance: AdvanceFn
) -> dict[str, Any]:
    """Run `calls` in `jobs` spawned processes; any error or interrupt terminates them all.

    The workers die with this process even when it is killed (`die_with_parent`); on an error,
    Ctrl-C or SIGTERM, `Pool.terminate` stops them before the temp directory is removed.
    """
    ctx = mp.get_context("spawn")
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
    for name, deg in degs.items():
        cid = cond_ids[name]
        calls[cid] = (scan_condition, (str(deg.path), str(tmp / "conditions" / cid), block_rows))
    if jobs <= 1:
        results = {}
        for key, (fn, args) in calls.items():
            queue = _DirectQueue(advance)
            extra = (queue,) if fn is scan_expression else (queue, key)
            results[key] = fn(*args, *extra)
    else:
        results = _run_pool(calls, jobs, advance)
    fractions = results.pop("expression")
    return results, fractions

"""Worker processes of the compile: each reads one input's layers exactly once, in row blocks.

A DEG file's three layers are streamed together: every block is counted at all FDR thresholds
(numSigI1, numDEG) and appended to plain `.npy` files for the ligand-effects view. The expression
file is reduced to per-cell-type expressing fractions with one sparse group-by per block.
Progress goes through a queue as (phase key, rows done).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from ctsite.compile import inputs, stats
from ctsite.store import format as fmt
from ctsite.store.format import EFFECT_LAYERS

AdvanceFn = Callable[[str, int], None]


def scan_condition(
    path: str, out_dir: str, block_rows: int, queue: Any, key: str
) -> dict[str, Any]:
    """Worker: stream the three layers of one DEG file once; counts + .npy copies."""
    import h5py

    with h5py.File(path, "r") as f, contextlib.ExitStack() as files:
        n, g = inputs.layer_shape(f, "layers/fdr", Path(path))[0]
        out = {}
        for effect in EFFECT_LAYERS:
            # Plain sequential writes (not a memmap): dirty pages never count against our RSS.
            fh = files.enter_context((Path(out_dir) / effect.file).open("wb"))
            header = {"descr": "<f4", "fortran_order": False, "shape": (n, g)}
            np.lib.format.write_array_header_1_0(fh, header)
            out[effect.layer] = fh
        sig = np.zeros((n, len(fmt.THRESHOLDS)), dtype=np.int32)
        deg = np.zeros_like(sig)
        nan_fdr = nan_i1 = 0
        streams = {name: inputs.iter_row_blocks(f, f"layers/{name}", block_rows) for name in out}
        for (start, lfc), (_, fdr), (_, i1) in zip(
            streams["log2FC"], streams["fdr"], streams["fdr.i1"], strict=True
        ):
            stop = start + lfc.shape[0]
            for name, block in (("log2FC", lfc), ("fdr", fdr), ("fdr.i1", i1)):
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
        calls[cid] = (scan_condition, (str(deg.path), str(fmt.condition_dir(tmp, cid)), block_rows))
    if jobs <= 1:
        results = {}
        for key, (fn, args) in calls.items():
            queue = _DirectQueue(advance)
            extra = (queue,) if fn is scan_expression else (queue, key)
            results[key] = fn(*args, *extra)
    else:
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager, ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            queue = manager.Queue()
            futures: dict[str, Future[Any]] = {}
            for key, (fn, args) in calls.items():
                extra = (queue,) if fn is scan_expression else (queue, key)
                futures[key] = pool.submit(fn, *args, *extra)
            pending = set(futures.values())
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                while not queue.empty():
                    advance(*queue.get())
                for fut in done:
                    if fut.exception() is not None:
                        for other in pending:
                            other.cancel()
                        raise fut.exception()  # type: ignore[misc]
            while not queue.empty():
                advance(*queue.get())
            results = {key: fut.result() for key, fut in futures.items()}
    fractions = results.pop("expression")
    return results, fractions

"""Block sizes of the compile scans, and the worker's memory set-up."""

from __future__ import annotations

import multiprocessing as mp
import sys

import h5py
import numpy as np
import pytest
import scipy.sparse as sp

from ctsite.compile import scan
from ctsite.lifecycle import reuse_freed_memory


def test_dense_blocks_hold_about_one_mebibyte():
    assert scan.dense_block_rows(10_000, 4) == 26  # 26 rows × 40 kB
    assert scan.dense_block_rows(10_000, 8) == 13
    assert scan.dense_block_rows(10_000_000, 8) == 1  # a row wider than the budget: one row


def test_matrix_block_rows_by_storage(tmp_path):
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("dense", data=np.zeros((4, 2048), dtype="<f8"))
        group = f.create_group("sparse")
        csr = sp.csr_matrix(np.eye(4))
        for name in ("data", "indices", "indptr"):
            group.create_dataset(name, data=getattr(csr, name))
        group.attrs["encoding-type"] = "csr_matrix"
    with h5py.File(path, "r") as f:
        assert scan.matrix_block_rows(f["dense"]) == 64  # 1 MiB / (2048 × 8 B)
        assert scan.matrix_block_rows(f["dense"], 512) == 512  # the setting wins
        assert scan.matrix_block_rows(f["sparse"]) == scan.SPARSE_BLOCK_ROWS
        assert scan.matrix_block_rows(f["sparse"], 7) == 7


def _child(queue) -> None:
    queue.put(reuse_freed_memory())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_reuse_freed_memory_takes_effect_in_a_worker():
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    assert queue.get(timeout=30) is True  # glibc accepted both parameters
    child.join(30)
    assert child.exitcode == 0


def _compares_text_with_a_number(queue, key):
    """A scan that hits numpy's UFuncTypeError on text, whose dtypes cannot be pickled."""
    return np.array([b"1.0"]) > 0


def test_a_worker_error_that_cannot_be_pickled_still_reaches_the_compile():
    """Not a PicklingError about numpy internals: the error the worker really had, in one line."""
    calls = {"c1/0": (_compares_text_with_a_number, ())}
    with pytest.raises(scan.WorkerError, match=r"c1/0.*UFuncTypeError.*'greater'"):
        scan._run_pool(calls, 2, lambda key, n: None)


def _worker_stopped_while_starting() -> None:
    """A worker that `Pool.terminate` stops during its start-up (`die_with_parent` looks up libc
    by running ldconfig: the slow part): it inherited the CLI's handler, which raises."""
    import os
    import signal

    from ctsite import lifecycle

    with lifecycle.stop_signals_interrupt():  # the compile's own handler, inherited by fork
        scan.die_with_parent = lambda parent: os.kill(os.getpid(), signal.SIGTERM)
        scan._init_worker(os.getppid(), None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers")
def test_a_worker_stopped_during_its_start_up_ends_quietly():
    """A compile that finished before its second worker had started printed that worker's
    traceback (`ctsite.lifecycle.Terminated: SIGTERM`) under its result: the worker's SIGTERM
    handler is reset first, so the pool's terminate just ends it."""
    import signal

    child = mp.get_context("fork").Process(target=_worker_stopped_while_starting)
    child.start()
    child.join(30)
    assert child.exitcode == -signal.SIGTERM  # killed by the signal, no traceback (exit 1)

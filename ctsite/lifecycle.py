"""Process lifetime: child workers die with their parent, and SIGTERM is handled like Ctrl-C.

`die_with_parent()` runs first in every worker process (compile scans, upload workers). On Linux it
asks the kernel for SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); elsewhere a daemon
thread polls the parent's pid. `stop_signals_interrupt()` makes SIGTERM raise `Terminated` (a
KeyboardInterrupt), so the same cleanup paths run as for Ctrl-C (temp dirs removed, servers
deleted), and remembers the signal so that the CLI exits 130 or 143 with a message.
`reuse_freed_memory()` keeps a short-lived worker's freed blocks for its next ones.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

PR_SET_PDEATHSIG = 1
EXIT_SIGTERM = 128 + signal.SIGTERM
# glibc mallopt(3) parameters
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 << 20  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 1 << 30


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl-C, then exit 143."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _watch_parent(parent: int, interval: float) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(EXIT_SIGTERM)
        time.sleep(interval)


def die_with_parent(parent: int | None = None, interval: float = 0.5) -> None:
    """Make this (child) process end as soon as its parent process is gone."""
    parent = os.getppid() if parent is None else parent
    armed = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            armed = _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(EXIT_SIGTERM)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent, interval), daemon=True).start()


def reuse_freed_memory() -> bool:
    """In a short-lived worker that allocates and frees the same large blocks over and over:
    keep freed memory in the process for the next block instead of returning it to the kernel.

    By default glibc serves each multi-megabyte array with a fresh mmap (or trims the heap as soon
    as it is freed), so every block costs its pages again as page faults: at the study's scale a
    third of a compile scan's time was kernel time. With blocks up to 32 MB taken from the heap
    and no trimming below 1 GB, the pages are faulted once. The memory goes back when the worker
    exits. Returns False where the C library has no mallopt (not glibc): nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = _libc().mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


class Signals:
    """Which stop signal (SIGINT or SIGTERM) arrived inside `stop_signals_interrupt`, if any."""

    received: int | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received or 0)


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[Signals]:
    """Within the block (main thread only), SIGINT and SIGTERM raise KeyboardInterrupt."""
    signals = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return
    previous = {sig: signal.signal(sig, signals.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield signals
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

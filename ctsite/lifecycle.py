"""Process lifetime: child workers die with their parent, and SIGTERM is handled like Ctrl-C.

`die_with_parent()` runs first in every worker process (compile scans, upload workers), right after
the worker resets the stop signals' handlers (a forked worker inherits the CLI's raising one). On
Linux it asks the kernel for SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); elsewhere a daemon
thread polls the parent's pid. `reuse_freed_memory()` keeps a short-lived worker's freed blocks
for its next ones.

THE rule for stop signals, for every command: within `stop_signals_interrupt()`, SIGINT raises
`Interrupted` and SIGTERM `Terminated` (both KeyboardInterrupt), so the same cleanup paths run
(temp dirs removed, servers deleted); a block that must not be cut (creating or deleting a
server, a pointer switch) holds them until it ends (`Signals.held`, `signals_held()`). Work that
knows what a stop leaves behind re-raises the interrupt `with_outcome(...)` (e.g. which version
the site serves); the CLI prints `stop_message` as one line and exits `exit_code` (130 / 143).
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


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT) unwinding the program; `outcome` says what the interrupted work
    leaves behind, for the one line the CLI prints ("" : the generic line)."""

    signum: int = signal.SIGINT

    def __init__(self, outcome: str = ""):
        super().__init__(signal.Signals(self.signum).name)
        self.outcome = outcome


class Terminated(Interrupted):
    """SIGTERM arrived: unwind like Ctrl-C, then exit 143."""

    signum = signal.SIGTERM


def interrupt(signum: int, outcome: str = "") -> Interrupted:
    """The exception a stop signal raises (`Terminated` for SIGTERM)."""
    return Terminated(outcome) if signum == signal.SIGTERM else Interrupted(outcome)


def signal_of(exc: BaseException) -> int:
    """The stop signal behind a KeyboardInterrupt (a plain one: SIGINT)."""
    return int(getattr(exc, "signum", signal.SIGINT))


def with_outcome(exc: BaseException, outcome: str) -> Interrupted:
    """The same stop, now saying what the interrupted work leaves behind."""
    return interrupt(signal_of(exc), outcome)


def exit_code(exc: BaseException) -> int:
    """128 + the signal: 130 for Ctrl-C, 143 for SIGTERM (what a shell reports)."""
    return 128 + signal_of(exc)


def stop_message(exc: BaseException) -> str:
    """The one line a stop ends with: the signal, then what was left (or that the command's
    own work was cleaned up)."""
    name = "SIGTERM" if signal_of(exc) == signal.SIGTERM else "Ctrl-C (SIGINT)"
    outcome = getattr(exc, "outcome", "") or "what it had started was cleaned up"
    return f"stopped by {name}; {outcome}"


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


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Signals:
    """Which stop signal (SIGINT or SIGTERM) arrived inside `stop_signals_interrupt`, if any.

    While `held` is set, a stop signal only becomes `pending`: `raise_pending()` raises it once
    the block that must not be cut (creating or deleting a server) is over."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.held = False
        self.pending: int | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        if self.held:
            self.pending = signum
            return
        raise interrupt(signum)

    def raise_pending(self) -> None:
        if self.pending is not None:
            signum, self.pending = self.pending, None
            raise interrupt(signum)

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received or 0)


@contextlib.contextmanager
def stop_signals_interrupt(outermost: bool = False) -> Iterator[Signals]:
    """Within the block (main thread only), SIGINT raises `Interrupted` and SIGTERM
    `Terminated` (both KeyboardInterrupt).

    `outermost` (the program's own guard, `ctsite.cli.main`): once a stop signal arrived, the
    program is ending because of it, so later ones (an impatient second Ctrl-C or a SIGTERM)
    are ignored instead of killing it while it prints what it left behind."""
    signals = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return
    previous = {sig: signal.signal(sig, signals.handle) for sig in STOP_SIGNALS}
    try:
        yield signals
    finally:
        for sig, handler in previous.items():
            if outermost and signals.received is not None:
                handler = signal.SIG_IGN
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Within the block (main thread only), a stop signal waits: it is delivered to the handler
    in place before once the block ends. For a few remote steps that must not be cut half-way
    (the steps of a pointer switch), whatever handler rules outside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)

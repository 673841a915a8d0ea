"""The open store of a long-running reader (the website): follows the pointer, never half-switches.

`StoreHandle.get()` costs one `stat` of the pointer file when nothing changed. When the pointer
changes it opens the version it names and only then swaps it in, so every caller gets one complete
version; while the pointer is missing or names a version that cannot be opened, the open version
keeps serving ("keep what you have"). With no store at all it raises the `CtsiteError` that says
why, and tries again at most every `retry_seconds`.

`StoreHandle.health()` (the site's /healthz) says what is wrong right now, at the cost of a read
of the pointer and a `stat` of each file of the open version: a bad pointer (the open version
still serves), a new version that cannot be opened, a file of the open version missing,
truncated or changed. So a damaged store shows in the health check of every worker, running or
fresh, before a restart would turn it into an outage.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ctsite.errors import CtsiteError
from ctsite.store import format as fmt
from ctsite.store import versions
from ctsite.store.integrity import Problem, pointer_problem, reason_of

if TYPE_CHECKING:
    from ctsite.store.reader import Store

RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    """The store a reader serves (None: none) and what is wrong (empty: nothing)."""

    store: Store | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.store is not None and not self.problems


class StoreHandle:
    """The current store of the folder `path`, reopened when its pointer (or manifest) changes."""

    def __init__(self, path: Path, retry_seconds: float = RETRY_SECONDS) -> None:
        self.path = Path(path)
        self.retry_seconds = retry_seconds
        self._store: Store | None = None
        self._stamp: object = None
        self._error: CtsiteError | None = None
        self._tried = 0.0
        self._bad_stamp: object = None  # a pointer whose version could not be opened (yet)
        self._bad_error: CtsiteError | None = None  # why it could not
        self._lock = threading.Lock()

    def _stamp_now(self) -> object:
        stamp = versions.pointer_stamp(self.path)
        if stamp is not None:
            return stamp
        try:  # a flat (schema 1) folder: its manifest is the stamp
            st = (self.path / fmt.MANIFEST).stat()
        except OSError:
            return None
        return ("flat", st.st_ino, st.st_mtime_ns)

    def get(self) -> Store:
        """The current store, or raise the `CtsiteError` that explains why there is none."""
        stamp = self._stamp_now()
        store = self._store
        if store is not None and (stamp == self._stamp or stamp is None):
            return store  # unchanged, or the pointer is being replaced: keep what we have
        with self._lock:
            if self._store is not None and stamp == self._stamp:
                return self._store
            now = time.monotonic()
            waiting = now - self._tried < self.retry_seconds
            if self._store is not None and stamp == self._bad_stamp and waiting:
                return self._store
            if self._store is None and self._error and waiting:
                raise self._error
            self._tried = now
            from ctsite.store.reader import Store

            try:
                opened = Store.open(self.path)
            except CtsiteError as error:
                if self._store is not None:  # the new version is not readable (yet): keep ours
                    self._bad_stamp, self._bad_error = stamp, error
                    return self._store
                self._error = error
                raise
            if self._store is None or opened.path != self._store.path:
                self._store = opened
            self._stamp, self._error, self._bad_error = stamp, None, None
            return self._store

    def health(self) -> Health:
        """What is wrong with the store now: cheap (the pointer and a `stat` per file) unless
        something changed. Never raises for a store problem."""
        try:
            store = self.get()
        except CtsiteError as error:
            return Health(None, (Problem(reason_of(error), "", error.message),))
        problems: list[Problem] = []
        if store.path != self.path:  # opened through the pointer: is it still good?
            problem = pointer_problem(self.path)
            bad = self._bad_error
            if problem is None and bad is not None and self._bad_stamp == self._stamp_now():
                problem = Problem(reason_of(bad), fmt.POINTER, f"its version: {bad.message}")
            if problem is not None:
                problems.append(problem)
        problems += store.problems()
        return Health(store, tuple(problems))

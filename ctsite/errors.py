"""The one exception type of ctsite: a message for the user plus a hint on how to fix it.

Library code raises `CtsiteError`; only the CLI prints it (one red line, the hint, exit code).
"""

from __future__ import annotations


class CtsiteError(Exception):
    """A problem the user can act on. Never carries a traceback to the terminal."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None, *, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"

    def __reduce__(self) -> tuple[object, ...]:
        # keep the hint and exit code when the error crosses a process boundary (compile workers)
        return (_rebuild, (type(self), self.message, self.hint, self.exit_code))


def _rebuild(kind: type[CtsiteError], message: str, hint: str | None, code: int) -> CtsiteError:
    return kind(message, hint, exit_code=code)


class InputError(CtsiteError):
    """A ContactTracing input file is missing or malformed."""

    exit_code = 2


class ConfigError(CtsiteError):
    """The configuration (ctsite.toml, CTSITE_* variables, options) is invalid."""

    exit_code = 2


class StoreError(CtsiteError):
    """The compiled store is missing, stale or does not contain what was asked for.

    `reason` is a short machine word for logs, /healthz and alarms (`object-truncated`,
    `pointer-missing`, …: the list is `ctsite.store.integrity.REASONS`).
    """

    exit_code = 3
    reason: str = "store-unavailable"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        exit_code: int | None = None,
        reason: str | None = None,
    ):
        super().__init__(message, hint, exit_code=exit_code)
        if reason is not None:
            self.reason = reason


class NotFoundError(StoreError):
    """A name (condition, cell type, gene) that the store does not know."""

    reason = "not-found"

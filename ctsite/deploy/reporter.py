"""How workflows report progress without printing: a small `Reporter` protocol and a null one.

Workflows call these methods; the CLI passes a reporter that draws on stderr (rich), a script or
notebook passes nothing (`NULL`, which ignores everything) or its own object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Reporter(Protocol):
    """Progress of a workflow: lines, warnings, raw tool output, AWS events and progress bars."""

    def info(self, message: str) -> None:
        """One line of progress (plain text, never markup)."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the workflow."""

    def output(self, line: str) -> None:
        """One line of a tool's own output (a build step, a container's log)."""

    def event(self, event: Mapping[str, Any]) -> None:
        """One Elastic Beanstalk event (EventDate, Severity, Message)."""

    def status(self, message: str) -> None:
        """The current state of a wait (shown in place, not as a new line)."""

    def section(self, title: str) -> None:
        """A new stage of a long workflow begins (e.g. a release step)."""

    def task(self, key: str, description: str, total: float | None) -> None:
        """Start a progress bar `key` (total None: unknown yet)."""

    def advance(self, key: str, amount: float) -> None:
        """Move the bar `key` forward."""

    def update(self, key: str, completed: float, total: float | None) -> None:
        """Set the bar `key` to `completed` of `total`."""

    def done(self) -> None:
        """Close the progress bars and the status display of the current stage."""


class NullReporter:
    """A reporter that ignores everything (the default of every workflow)."""

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def output(self, line: str) -> None:
        pass

    def event(self, event: Mapping[str, Any]) -> None:
        pass

    def status(self, message: str) -> None:
        pass

    def section(self, title: str) -> None:
        pass

    def task(self, key: str, description: str, total: float | None) -> None:
        pass

    def advance(self, key: str, amount: float) -> None:
        pass

    def update(self, key: str, completed: float, total: float | None) -> None:
        pass

    def done(self) -> None:
        pass


NULL: Reporter = NullReporter()

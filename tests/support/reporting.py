"""A reporter that keeps what a workflow reported, for tests that call workflows directly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctsite.deploy.reporter import NullReporter


class RecordingReporter(NullReporter):
    """Keeps the info lines, warnings, sections and events; ignores progress bars."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []
        self.sections: list[str] = []
        self.events: list[Mapping[str, Any]] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def section(self, title: str) -> None:
        self.sections.append(title)

    def event(self, event: Mapping[str, Any]) -> None:
        self.events.append(event)

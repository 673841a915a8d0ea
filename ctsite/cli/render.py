"""Rendering for the CLI: rich lines and tables for people, one JSON document for scripts.

Every text that comes from the user or from data (names, labels, AWS messages) is passed
through `esc` (rich.markup.escape) before it is embedded in markup. Under `--json` the result
is printed as one JSON document on stdout; progress and warnings always go to stderr, and an
error is `{"error": ..., "hint": ...}` on stdout with the usual non-zero exit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ctsite.cli.console import console, err_console, phase_progress, warn
from ctsite.errors import CtsiteError
from ctsite.formatting import clock

if TYPE_CHECKING:
    from ctsite.config import Settings

esc = escape
SEVERITY_STYLE = {"ERROR": "bold red", "FATAL": "bold red", "WARN": "yellow", "INFO": "cyan"}

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON document on stdout.")
]
Yes = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        envvar="CTSITE_YES",
        show_envvar=True,
        help="Do not ask for confirmation (for scripts).",
    ),
]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: aws_region).")]
Environment = Annotated[
    str | None, typer.Option("--env", help="EB environment name (default: eb_environment).")
]


def say(text: str) -> None:
    """Print one line of markup on stdout without wrapping it (URLs and labels stay whole)."""
    console.print(text, soft_wrap=True)


def jsonable(value: Any) -> Any:
    """Dataclasses, paths, datetimes, enums, sets and tuples as plain JSON values (a value with
    its own `to_json()` is shown as that returns)."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json) and not isinstance(value, type):
        return jsonable(to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def emit(result: Any) -> None:
    """Print `result` as one JSON document on stdout."""
    sys.stdout.write(json.dumps(jsonable(result), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit_error(error: CtsiteError) -> None:
    emit({"error": error.message, "hint": error.hint})


def event_line(event: Mapping[str, Any]) -> str:
    severity = str(event.get("Severity", "INFO"))
    style = SEVERITY_STYLE.get(severity, "white")
    message = esc(str(event.get("Message", "")).strip())
    return f"{clock(event.get('EventDate'))} [{style}]{severity:<5}[/] {message}"


class RichReporter:
    """The workflows' reporter for a terminal: everything on stderr (stdout stays the result).

    `quiet` (the root --quiet) keeps only the warnings: no progress, events or output lines.
    """

    def __init__(self, show_output: bool = True, quiet: bool = False) -> None:
        self.show_output = show_output and not quiet
        self.quiet = quiet
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._status: Any = None

    def info(self, message: str) -> None:
        if not self.quiet:
            err_console.print(esc(message), soft_wrap=True)

    def warn(self, message: str) -> None:
        warn(message)

    def output(self, line: str) -> None:
        if self.show_output:
            err_console.print(
                line.rstrip("\n"), markup=False, highlight=False, style="dim", soft_wrap=True
            )

    def event(self, event: Mapping[str, Any]) -> None:
        if not self.quiet:
            err_console.print(event_line(event), soft_wrap=True)

    def status(self, message: str) -> None:
        if self.quiet:
            return
        if self._status is None:
            self._status = err_console.status(esc(message))
            self._status.start()
        else:
            self._status.update(esc(message))

    def section(self, title: str) -> None:
        self.done()
        if not self.quiet:
            err_console.rule(esc(title))

    def task(self, key: str, description: str, total: float | None) -> None:
        if self._progress is None:
            self._progress = phase_progress(disable=self.quiet or not err_console.is_terminal)
            self._progress.start()
        self._tasks[key] = self._progress.add_task(esc(description), total=total)

    def advance(self, key: str, amount: float) -> None:
        if self._progress is not None and key in self._tasks:
            self._progress.advance(self._tasks[key], amount)

    def update(self, key: str, completed: float, total: float | None) -> None:
        if self._progress is not None and key in self._tasks:
            self._progress.update(self._tasks[key], completed=completed, total=total)

    def done(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks = {}
        if self._status is not None:
            self._status.stop()
            self._status = None


def confirm(question: str) -> bool:
    """Ask on a terminal; without one, a clear error naming the option that skips the question."""
    if not sys.stdin.isatty():
        raise CtsiteError("confirmation needed", hint="pass --yes to go ahead without asking")
    return bool(typer.confirm(question, default=False))


def inherited_text(s: Settings, keys: tuple[str, ...]) -> str:
    """`key = value, …` of the runbook names among `keys` that `s` inherits ("" when none)."""
    from ctsite.config import inherited_names

    return ", ".join(f"{key} = {getattr(s, key)}" for key in inherited_names(s, keys))


def note_own_names(s: Settings, keys: tuple[str, ...]) -> None:
    """A dry run's line for `confirm_own_names`: it never asks, but says that the real command
    would (and, without a terminal or --yes, refuse)."""
    names = inherited_text(s, keys)
    if names:
        warn(
            f"these are the runbook's AWS names, not set for this site: {names}; a real release "
            "asks first (set your own in ctsite.toml, `ctsite init` writes them; or pass --yes)"
        )


def confirm_own_names(s: Settings, keys: tuple[str, ...], yes: bool) -> None:
    """Before a command creates, pushes or deploys into AWS names the configuration inherits
    from the runbook (`ctsite.config.inherited_names`): one warning, then ask; `yes` goes on;
    without a terminal, refuse (a script must not publish into another lab's names by default)."""
    names = inherited_text(s, keys)
    if not names:
        return
    warn(
        f"these are the runbook's AWS names, not set for this site: {names} "
        "(set your own in ctsite.toml; `ctsite init` writes them)"
    )
    if yes:
        return
    if not sys.stdin.isatty():
        raise CtsiteError(
            "refusing to publish into the runbook's AWS names without confirmation",
            hint="set this site's own names in ctsite.toml, or pass --yes to use these",
        )
    if not typer.confirm("use the runbook's names anyway?", default=False):
        raise typer.Abort()


def confirm_prune(
    noun: str,
    lines: Callable[[list[Any]], list[str]],
    yes: bool,
    *,
    always_list: bool,
    show: Callable[[str], None] = say,
) -> Callable[[list[Any]], bool]:
    """The `confirm` callback of a prune workflow: `show` what goes (always, or only when
    asking), then ask "delete N <noun>?" unless `yes`; a "no" aborts the command."""

    def ask(doomed: list[Any]) -> bool:
        if always_list or not yes:
            for line in lines(doomed):
                show(line)
        if yes:
            return True
        if not confirm(f"delete {len(doomed)} {noun}?"):
            raise typer.Abort()
        return True

    return ask


def answer_listing(
    result: Any,
    as_json: bool,
    title: str,
    columns: tuple[str, ...],
    rows: Callable[[], list[tuple[str, ...]]],
) -> bool:
    """A listing command's answer (versions, images): the result as one JSON document, or its
    table. True when the table was printed, so the text answer goes on (what was pruned)."""
    if as_json:
        emit(result)
        return False
    print_table(title, columns, rows())
    return True


def print_table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A rich table on the console (cells already escaped)."""
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)

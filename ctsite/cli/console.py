"""Terminal output shared by all commands: one rich console, error rendering, progress bars."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ctsite.errors import CtsiteError


class _Console(Console):
    """A rich console whose closed pipe is a `BrokenPipeError` for the command line to handle
    (quietly, exit 141: `ctsite.cli.closed_pipe`); rich's own handling exits 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more is written to the closed pipe
        raise BrokenPipeError(32, "the reader of the output went away")


console = _Console(highlight=False)
err_console = _Console(stderr=True, highlight=False)


def print_error(error: CtsiteError) -> None:
    """One red line, plus the hint if there is one. No traceback; the text prints verbatim."""
    err_console.print(f"[bold red]error:[/] {escape(error.message)}", soft_wrap=True)
    if error.hint:
        err_console.print(f"[yellow]hint:[/] {escape(error.hint)}", soft_wrap=True)


def warn(message: str) -> None:
    """One yellow warning line on stderr; the message prints verbatim (no markup)."""
    err_console.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def phase_progress(disable: bool = False) -> Progress:
    """A progress display with one bar per phase of a long job."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=disable,
        transient=False,
    )

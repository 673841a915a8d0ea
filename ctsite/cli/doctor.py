"""CLI command `ctsite doctor`: the runbook's preflight checks (`ctsite.deploy.doctor`).

`check_line` and `print_doctor` render the checks; `ctsite release` shows its failed checks with
them too.
"""

from __future__ import annotations

from typing import Any

import typer

from ctsite.cli.context import begin, clients
from ctsite.cli.render import JsonFlag, Region, emit, esc, say


def check_line(check: Any) -> str:
    """`✓ name: detail`, `! name: detail → fix` (a warning, not blocking), `✗ name: detail →
    fix` or `- name: skipped: why` (not run, not failed)."""
    marks = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "failed": "[red]✗[/]"}
    mark = marks.get(check.status, "[dim]-[/]")
    line = f"{mark} {esc(check.name)}: {esc(check.detail)}"
    if check.status in {"failed", "warn"} and check.fix:
        line += f" [yellow]→ {esc(check.fix)}[/]"
    return line


def print_doctor(result: Any) -> None:
    """Every check, then the passed / failed / skipped counts."""
    for check in result.checks:
        say(check_line(check))
    colour = "red" if result.failed else "yellow" if result.warnings else "green"
    say(f"[{colour}]{esc(result.summary())}[/]")


def doctor_cmd(ctx: typer.Context, region: Region = None, json_out: JsonFlag = False) -> None:
    """Preflight checks for the whole runbook; exits non-zero if any check fails."""
    from ctsite.deploy.doctor import doctor

    s, as_json = begin(ctx, json_out, aws_region=region)
    result = doctor(s, clients(ctx, s))
    if as_json:
        emit(
            {
                "ok": result.ok,
                "passed": len(result.passed),
                "failed": len(result.failed),
                "skipped": len(result.skipped),
                "warnings": len(result.warnings),
                "checks": [c.to_json() for c in result.checks],
            }
        )
    else:
        print_doctor(result)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `doctor` to the main app."""
    app.command("doctor")(doctor_cmd)

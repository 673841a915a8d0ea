"""CLI command `release`: doctor → plan → confirm → run → summary.

The work is in `ctsite.deploy.release` (prepare: doctor, observe, plan; execute: the same
workflows as the single commands, with the release's flags passed through).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ctsite.cli.context import begin, clients, reporter_for
from ctsite.cli.render import (
    JsonFlag,
    Region,
    Yes,
    confirm,
    confirm_own_names,
    emit,
    esc,
    note_own_names,
    say,
)
from ctsite.formatting import duration, money


def print_checks(checks: list[Any]) -> None:
    """The doctor checks that did not simply pass (failed with their fix, warnings, skipped),
    then the counts."""
    from ctsite.cli.doctor import check_line
    from ctsite.deploy.doctor import DoctorResult

    for check in checks:
        if check.status != "ok":
            say(check_line(check))
    say(f"doctor: {esc(DoctorResult(checks).summary())}")


def print_plan(prepared: Any, dry_run: bool = False) -> None:
    print_checks(prepared.checks)
    if prepared.observed.unchecked:
        say("[yellow]could not check[/] (the plan assumes the step is needed):")
        for line in prepared.observed.unchecked:
            say(f"  - {esc(line)}")
    say("[bold]release plan[/]")
    for d in prepared.decisions:
        mark = "[bold green]run [/]" if d.run else "[dim]skip[/]"
        price = f" (est. {money(d.cost)})" if d.run and d.cost else ""
        say(f"  {mark} {d.step:<11} {esc(d.why)}{price}")
        for line in prepared.blocked.get(d.step, []):
            say(f"       [red]{esc(line)}[/]")
    say(
        f"estimated AWS cost of this release: {money(prepared.cost)} (Transfer Family server "
        "time and data; the other steps create no billable resources)"
    )
    if dry_run and not prepared.can_run:
        what = ", ".join(d for d in prepared.blocked)
        say(
            f"[yellow]a real release would stop before it starts[/]: {esc(what)} blocked "
            "(each ✗ above says what to fix)"
        )


def print_summary(results: list[Any], seconds: float, env: Any, failed: str = "") -> None:
    for r in results:
        detail = f": {esc(r.detail)}" if r.detail else ""
        say(f"  [green]✓[/] {r.step} ({r.seconds:.1f} s){detail}")
    ran = ", ".join(r.step for r in results) or "nothing"
    if failed:
        say(f"  [red]✗[/] {failed}")
        say(f"[bold red]release stopped[/] after {duration(seconds)}; completed: {ran}")
        return
    say(f"[bold]release done[/] in {duration(seconds)}; ran: {ran}")
    if env is not None:
        say(f"deployed version {esc(str(env.version))}: {env.url}")


def release_cmd(
    ctx: typer.Context,
    yes: Yes = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print the plan; change nothing.")
    ] = False,
    force: Annotated[
        list[str] | None,
        typer.Option(
            "--force",
            help="Run this step even if unchanged (repeatable): compile, figures, build-push, "
            "upload-data, deploy, restart.",
        ),
    ] = None,
    message: Annotated[
        str, typer.Option("--message", "-m", help="Description of a new EB version.")
    ] = "",
    label: Annotated[
        str | None,
        typer.Option("--label", help="Label of a new EB version (default v<ver>-<git>-<time>)."),
    ] = None,
    network: Annotated[
        str | None, typer.Option(help="Network mode of the image build's RUN steps (e.g. host).")
    ] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between EB polls.")] = 5.0,
    trust_remote: Annotated[
        bool,
        typer.Option(
            "--trust-remote",
            help="upload-data: do not re-read the store's files already on the remote.",
        ),
    ] = False,
    region: Region = None,
    json_out: JsonFlag = False,
) -> None:
    """Run compile → figures → build-push → upload-data → deploy, skipping what is unchanged."""
    import time

    from ctsite.deploy.release import NAMES, ReleaseBlocked, ReleaseOptions, execute, prepare
    from ctsite.deploy.release_plan import ReleaseFailed

    started = time.monotonic()
    s, as_json = begin(ctx, json_out, aws_region=region)
    options = ReleaseOptions.checked(force or (), message, label, network, poll, trust_remote)
    client = clients(ctx, s)
    try:
        prepared = prepare(s, client, options, dry_run=dry_run)
    except ReleaseBlocked as exc:
        if not as_json:
            print_checks(exc.checks)
        raise
    if not as_json:
        print_plan(prepared, dry_run)
        if dry_run:
            note_own_names(s, NAMES)
    if not dry_run:
        prepared.check()
    if prepared.nothing_to_do or dry_run:
        if as_json:
            emit({"dry_run": dry_run, "plan": prepared, "steps": [], "environment": None})
        elif prepared.nothing_to_do and prepared.can_run:
            say("[green]nothing to do[/]: everything is up to date")
        else:
            say("dry run: nothing was changed")
        if dry_run and not prepared.can_run:
            raise typer.Exit(1)
        return
    confirm_own_names(s, NAMES, yes)
    if not yes and not confirm("run this release?"):
        raise typer.Abort()
    try:
        result = execute(s, client, prepared, reporter=reporter_for(ctx, show_output=False))
    except ReleaseFailed as exc:
        if not as_json:
            print_summary(exc.done, time.monotonic() - started, None, failed=exc.step)
        raise
    if as_json:
        emit({"dry_run": False, **{f: getattr(result, f) for f in ("plan", "steps", "seconds")},
              "environment": result.environment})  # fmt: skip
        return
    print_summary(result.steps, time.monotonic() - started, result.environment)


def register(app: typer.Typer) -> None:
    """Add `release` to the main app."""
    app.command("release")(release_cmd)

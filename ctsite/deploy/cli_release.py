"""CLI command `release`: doctor → plan → confirm → run → summary.

Options are parsed and results rendered here; the work is in `ctsite.deploy.release` (the plan
and the runner) and `release_steps` (observing the state, running each step). The runbook's
other chores (`logs`, `restart`, `images`, `alerts`) live in `cli_chores`, registered with it.
AWS clients come from the same factory as the Elastic Beanstalk commands (tests inject stubbed
ones through `ctx.obj["aws_client"]`).
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from ctsite.console import err_console, warn
from ctsite.deploy.cli_chores import Region, _beanstalk, _setup, say
from ctsite.errors import CtsiteError


def _dollars(x: float) -> str:
    return f"${x:.2f}" if x >= 0.01 or x == 0 else "<$0.01"


# ---------------------------------------------------------------- release


def _doctor(s: Any, client: Any) -> list[str]:
    """Run the preflight checks, show the failures; return the names of the failed checks."""
    from rich.markup import escape

    from ctsite.deploy.doctor import run_checks

    checks = run_checks(s, client)
    failed = [c for c in checks if not c.ok]
    for check in failed:
        fix = f" [yellow]→ {escape(check.fix)}[/]" if check.fix else ""
        say(f"[red]✗[/] {check.name}: {escape(check.detail)}{fix}")
    say(f"doctor: {len(checks) - len(failed)} of {len(checks)} checks passed")
    return [c.name for c in failed]


def _print_plan(decisions: list[Any], cost: float) -> None:
    from rich.markup import escape

    say("[bold]release plan[/]")
    for d in decisions:
        mark = "[bold green]run [/]" if d.run else "[dim]skip[/]"
        price = f" (est. {_dollars(d.cost)})" if d.run and d.cost else ""
        say(f"  {mark} {d.step:<11} {escape(d.why)}{price}")
    say(
        f"estimated AWS cost of this release: {_dollars(cost)} (Transfer Family server time and "
        "data; the other steps create no billable resources)"
    )


def _summary(
    results: list[Any], started: float, env: dict[str, Any] | None, failed: str = ""
) -> None:
    from ctsite.deploy.cli_beanstalk import _url

    for r in results:
        detail = f": {r.detail}" if r.detail else ""
        say(f"  [green]✓[/] {r.step} ({r.seconds:.1f} s){detail}")
    ran = ", ".join(r.step for r in results) or "nothing"
    elapsed = time.monotonic() - started
    if failed:
        say(f"  [red]✗[/] {failed}")
        say(f"[bold red]release stopped[/] after {elapsed:.1f} s; completed: {ran}")
        return
    say(f"[bold]release done[/] in {elapsed:.1f} s; ran: {ran}")
    if env:
        say(f"deployed version {env.get('VersionLabel')}: {_url(env)}")


def release(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
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
    region: Region = None,
) -> None:
    """Run compile → figures → build-push → upload-data → deploy, skipping what is unchanged."""
    from ctsite.deploy import release as rel
    from ctsite.deploy.beanstalk import check_label
    from ctsite.deploy.release_steps import Steps, observe

    started = time.monotonic()
    if label is not None:
        check_label(label)
    if poll <= 0:
        raise CtsiteError("--poll must be positive", exit_code=2)
    rel.check_steps(force or ())
    s, client = _setup(ctx, aws_region=region)
    failed = _doctor(s, client)
    early = rel.blocking_checks(failed, [rel.Decision(step, True, "") for step in rel.STEPS])
    early = [name for name in early if name != "Docker engine"]
    if early:
        raise CtsiteError(
            f"release stopped before it started: doctor check(s) failed: {', '.join(early)}",
            hint="fix them (see above; `ctsite doctor`) and release again",
        )
    observed = observe(s, client)
    decisions = rel.plan(
        observed, force or (), rel.Rates(s.transfer_hourly_cost, s.transfer_gb_cost)
    )
    _print_plan(decisions, rel.total_cost(decisions))
    blocking = rel.blocking_checks(failed, decisions)
    if blocking:
        raise CtsiteError(
            f"release stopped before it started: doctor check(s) failed: {', '.join(blocking)}",
            hint="fix them (see above; `ctsite doctor`) and release again",
        )
    if not any(d.run for d in decisions):
        say("[green]nothing to do[/]: everything is up to date")
        return
    if dry_run:
        say("dry run: nothing was changed")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise CtsiteError("confirmation needed", hint="pass --yes to release without asking")
        if not typer.confirm("run this release?", default=False):
            raise typer.Abort()
    steps = Steps(s, client, observed.context_hash, network, message, poll, label)

    def announce(d: Any) -> None:
        err_console.rule(f"[bold]{d.step}[/] — {d.why}")

    try:
        results = rel.run(decisions, steps.actions(), on_start=announce)
    except rel.ReleaseFailed as exc:
        _summary(exc.done, started, None, failed=exc.step)
        raise
    env = steps.deployed or None
    if env is None:
        try:
            env = _beanstalk(s, client).environment()
        except CtsiteError as exc:
            warn(exc.message)
    _summary(results, started, env)


def register(app: typer.Typer) -> None:
    """Add `release`, and the chores `logs`, `restart`, `images` and `alerts`, to the main app."""
    from ctsite.deploy import cli_chores

    app.command("release")(release)
    cli_chores.register(app)

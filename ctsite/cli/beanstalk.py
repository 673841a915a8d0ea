"""CLI commands for Elastic Beanstalk: `deploy`, `status`, `versions`, `open` and `doctor`.

Each parses options, calls one workflow (`ctsite.deploy.deploy`, `chores`, `doctor`) with the
client factory of the context and renders the result (rich, or JSON with --json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ctsite.cli.context import begin, clients, reporter_for, settings
from ctsite.cli.render import (
    Environment,
    JsonFlag,
    Region,
    Yes,
    confirm_prune,
    emit,
    esc,
    event_line,
    jsonable,
    print_table,
    say,
    warn,
)
from ctsite.console import console
from ctsite.formatting import utc_time


def print_bundle(bundle: Any) -> None:
    from rich.table import Table

    table = Table(title=f"source bundle ({bundle.size:,} bytes, sha256 {bundle.sha256[:12]})")
    table.add_column("file")
    table.add_column("mode")
    table.add_column("bytes", justify="right")
    for entry in bundle.entries:
        note = " (rendered)" if entry.rendered else ""
        table.add_row(esc(entry.name) + note, oct(entry.mode)[2:], f"{entry.size:,}")
    console.print(table)


def deploy_cmd(
    ctx: typer.Context,
    message: Annotated[
        str, typer.Option("--message", "-m", help="Description of the new version.")
    ] = "",
    version: Annotated[
        str | None,
        typer.Option("--version", help="Redeploy this existing version label (rollback)."),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option("--label", help="Label of the new version (default v<ver>-<git>-<time>)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build and list the bundle; call no AWS API.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Minutes to wait for health (default: config)."),
    ] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between health polls.")] = 5.0,
    nohang: Annotated[
        bool,
        typer.Option("--nohang", help="Start the deployment and exit; do not wait for health."),
    ] = False,
    project: Annotated[
        Path | None,
        typer.Option("--project", help="Directory with Dockerrun.aws.json, .ebextensions/."),
    ] = None,
    region: Region = None,
    env: Environment = None,
    json_out: JsonFlag = False,
) -> None:
    """Deploy to Elastic Beanstalk (bundle → S3 → version → update), then wait for health."""
    from ctsite.deploy.deploy import deploy

    s, as_json = begin(ctx, json_out, aws_region=region, eb_environment=env)
    result = deploy(
        s,
        None if dry_run else clients(ctx, s),
        message=message,
        version=version,
        label=label,
        dry_run=dry_run,
        timeout_minutes=timeout,
        poll=poll,
        project=project,
        wait=not nohang,
        reporter=reporter_for(ctx),
    )
    if as_json:
        emit(result)
        return
    if result.bundle is not None:
        print_bundle(result.bundle)
    if result.dry_run:
        say("[bold]plan[/] (dry run, no AWS call made):")
        numbers = ["1.", "2."] if result.new_version else ["1-2."]
        numbers += ["3.", "4."]
        for number, step in zip(numbers, result.steps, strict=True):
            say(f"  {number} {esc(step)}")
        return
    final = result.environment
    assert final is not None
    if not result.waited:
        say(
            f"[bold]started[/] deploying {esc(result.label)} to {esc(final.name)} "
            f"(now {final.status}); follow it with `ctsite events -f` or `ctsite health "
            "--refresh`, check it with `ctsite status`"
        )
        return
    say(
        f"[bold green]✓[/] {esc(final.name)} is {final.status}, health {final.health}, running "
        f"{esc(str(final.version))}: {final.url}"
    )


def status_cmd(
    ctx: typer.Context,
    region: Region = None,
    env: Environment = None,
    events: Annotated[int, typer.Option("--events", help="How many recent events.")] = 10,
    json_out: JsonFlag = False,
) -> None:
    """Environment health, running version, URL, recent events, rollback targets, servers."""
    from rich.table import Table

    from ctsite.deploy.chores import status
    from ctsite.deploy.doctor import describe_server

    s, as_json = begin(ctx, json_out, aws_region=region, eb_environment=env)
    result = status(s, clients(ctx, s), events=events)
    if as_json:
        emit(result)
        return
    current = result.environment
    table = Table(show_header=False, title=f"{esc(current.name)} ({current.region})")
    for key, value in (
        ("application", current.application),
        ("status", current.status),
        ("health", f"{current.health} {current.health_status or ''}".strip()),
        ("version", current.version),
        ("URL", current.url),
        ("updated", utc_time(current.updated)),
    ):
        table.add_row(key, esc(str(value)))
    console.print(table)
    say("[bold]recent events[/]")
    for event in result.events:
        say(event_line(event))
    say("[bold]application versions[/] (roll back: ctsite deploy --version LABEL)")
    for v in result.versions:
        mark = "*" if v.deployed else " "
        say(f" {mark} {esc(v.label)}  {utc_time(v.created)}")
    if result.images is None:
        warn(f"images: {result.images_error}")
    else:
        say(f"[bold]images[/] in {esc(result.repository)}")
        for image in result.images:
            for tag in image.tags:
                say(f"   {esc(tag)}  {utc_time(image.pushed)}")
    if result.servers is None:
        warn(f"Transfer servers: {result.servers_error}")
    elif result.servers:
        for server in result.servers:
            say(
                "[bold red]Transfer server still running:[/] "
                + esc(describe_server(server, result.hourly_cost))
            )
    else:
        say("no ctsite Transfer servers running")


def versions_cmd(
    ctx: typer.Context,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete old versions (never the deployed one).")
    ] = False,
    keep: Annotated[
        int | None, typer.Option("--keep", help="Versions to keep (default eb_keep_versions).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the pruning.")] = False,
    yes: Yes = False,
    region: Region = None,
    json_out: JsonFlag = False,
) -> None:
    """List the application versions; --prune deletes all but the newest N (asks first)."""
    from ctsite.deploy.chores import versions

    s, as_json = begin(ctx, json_out, aws_region=region, eb_keep_versions=keep)

    def lines(doomed: list[str]) -> list[str]:
        return [f"would delete application version {v} and its source bundle" for v in doomed]

    ask = confirm_prune("application version(s)", lines, yes, always_list=False, show=warn)
    result = versions(
        s,
        clients(ctx, s),
        prune=prune,
        dry_run=dry_run,
        confirm=ask,
        reporter=reporter_for(ctx),
    )
    if as_json:
        emit(result)
        return
    print_table(
        f"application versions of {esc(result.application)}",
        ("label", "created", "status", "description", "deployed"),
        [
            (
                esc(v.label),
                utc_time(v.created),
                esc(v.status),
                esc(v.description),
                "yes" if v.deployed else "",
            )
            for v in result.versions
        ],
    )
    if not prune:
        return
    if not result.pruned:
        say(f"nothing to prune (keeping the newest {result.keep})")
    for label in result.pruned:
        say(f"{'would delete' if dry_run else 'deleted'} {esc(label)}")


def open_cmd(ctx: typer.Context, region: Region = None, env: Environment = None) -> None:
    """Open the site's URL in the web browser."""
    import webbrowser

    from ctsite.deploy.chores import site_url

    s = settings(ctx, aws_region=region, eb_environment=env)
    url = site_url(s, clients(ctx, s))
    say(esc(url))
    if not webbrowser.open(url):
        warn("no web browser found; open the URL above yourself")


def check_line(check: Any) -> str:
    """`✓ name: detail`, `✗ name: detail → fix` or `- name: skipped: why`."""
    mark = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[dim]-[/]"}[check.state]
    line = f"{mark} {esc(check.name)}: {esc(check.detail)}"
    if check.state == "failed" and check.fix:
        line += f" [yellow]→ {esc(check.fix)}[/]"
    return line


def print_doctor(result: Any) -> None:
    """Every check, then the passed / failed / skipped counts."""
    for check in result.checks:
        say(check_line(check))
    colour = "green" if result.ok else "red" if result.failed else "yellow"
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
                "checks": [{**jsonable(c), "state": c.state} for c in result.checks],
            }
        )
    else:
        print_doctor(result)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the Elastic Beanstalk commands to the main app."""
    app.command("deploy")(deploy_cmd)
    app.command("status")(status_cmd)
    app.command("versions")(versions_cmd)
    app.command("open")(open_cmd)
    app.command("doctor")(doctor_cmd)

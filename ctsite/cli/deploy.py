"""CLI command `ctsite deploy`: options in, the `ctsite.deploy.deploy` workflow, result out.

It parses options, calls the workflow with the client factory of the context and renders the
result (rich, or JSON with --json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ctsite.cli.console import console
from ctsite.cli.context import begin, clients, reporter_for
from ctsite.cli.render import (
    Environment,
    JsonFlag,
    Region,
    Yes,
    confirm_own_names,
    emit,
    esc,
    say,
)


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
    yes: Yes = False,
) -> None:
    """Deploy to Elastic Beanstalk (bundle → S3 → version → update), then wait for health."""
    from ctsite.deploy.deploy import NAMES, deploy

    s, as_json = begin(ctx, json_out, aws_region=region, eb_environment=env)
    if not dry_run:
        confirm_own_names(s, NAMES, yes)
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


def register(app: typer.Typer) -> None:
    """Add `deploy` to the main app."""
    app.command("deploy")(deploy_cmd)

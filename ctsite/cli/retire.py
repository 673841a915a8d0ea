"""CLI command `ctsite retire [--confirm NAME] [--dry-run]` (the workflow: `ctsite.deploy.retire`):
the live Elastic Beanstalk site becomes the static site, then — once its name is typed — the EB
environment, its Elastic IP and the EFS file system are deleted."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from ctsite.cli.console import warn
from ctsite.cli.context import begin, clients, reporter_for
from ctsite.cli.publish_site import print_plan
from ctsite.cli.render import JsonFlag, emit, esc, say
from ctsite.formatting import megabytes


def _costs(plan: Any) -> None:
    """Both sites' monthly cost, and what deleting the EB site saves."""
    eb = ", ".join(f"{esc(c.item)} ${c.monthly_usd:,.2f}" for c in plan.eb_costs)
    static = plan.static
    say(
        f"monthly cost: the Elastic Beanstalk site ≈ ${plan.eb_monthly_usd:,.2f} ({eb}); "
        f"the static site ≈ ${static.monthly_usd:,.2f} (CloudFront's free tier counted; "
        f"${static.list_usd:,.2f} at list prices) for {static.traffic.views:,} views"
    )
    say(
        f"deleting the Elastic Beanstalk environment, its Elastic IP and the EFS file system "
        f"saves ≈ [bold]${plan.saving_usd:,.2f}/month[/]"
    )


def retire_cmd(
    ctx: typer.Context,
    confirm: Annotated[
        str | None,
        typer.Option(
            "--confirm",
            help="Delete the EB site after publishing: the production environment's name, typed.",
        ),
    ] = None,
    live_url: Annotated[
        str | None,
        typer.Option(
            "--live-url",
            help="The live site's address (default: the production environment's own).",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="The store holding the live version (default: compiled)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent and deleted; change nothing.")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between event polls.")] = 5.0,
    json_out: JsonFlag = False,
) -> None:
    """Move the live Elastic Beanstalk site to the static site (S3 + CloudFront): publish the
    version it runs, print the new address and the monthly saving, then delete the EB
    environment, its Elastic IP and EFS only after --confirm NAME. The way back: `ctsite
    provision apply` + `ctsite release`."""
    from ctsite.deploy.retire import (
        check_confirmation,
        delete_eb_site,
        plan_retire,
        publish_live,
    )
    from ctsite.errors import CtsiteError
    from ctsite.web.snapshot import AppSnapshot

    s, as_json = begin(ctx, json_out)
    if poll <= 0:  # before anything is sent: a deletion must not stop half-way on it
        raise CtsiteError("--poll must be positive", hint="e.g. --poll 5", exit_code=2)
    client = clients(ctx, s)
    reporter = reporter_for(ctx, show_output=not as_json)
    plan = plan_retire(s, client, live_url=live_url, store_path=data)
    if confirm is not None:  # a mistyped name is said now, not after the publish
        check_confirmation(plan, confirm)
    if not as_json:
        say(
            f"live site: {esc(plan.live.url)} ({esc(plan.environment)}) runs store version "
            f"[bold]{esc(plan.live.store_version)}[/]; publishing it to "
            f"s3://{esc(plan.hosting.bucket)} ({esc(plan.hosting.source)})"
        )
    published = publish_live(
        plan, client, partial(AppSnapshot, s), dry_run=dry_run, reporter=reporter
    )
    if not as_json:  # the address, the saving and the warnings come before any deletion
        _report(plan, published, dry_run)
    if confirm is None and not (dry_run or as_json or plan.blockers) and sys.stdin.isatty():
        typed = typer.prompt(
            f"type {plan.environment} to delete the Elastic Beanstalk site (Enter keeps it)",
            default="",
            show_default=False,
        )
        confirm = typed.strip() or None
    deletion = None
    if confirm is not None and not dry_run:
        deletion = delete_eb_site(plan, client, confirm, poll_s=poll, reporter=reporter)
    if as_json:
        emit({"plan": plan, "publish": published, "deleted": deletion, "dry_run": dry_run})
        return
    _closing(plan, deletion, dry_run)


def _report(plan: Any, published: Any, dry_run: bool) -> None:
    print_plan(published.plan, dry_run)
    if dry_run:
        say("dry run: nothing was sent, deleted or invalidated")
    else:
        say(
            f"[green]✓[/] the static site holds store version {esc(plan.live.store_version)} "
            f"(sent {published.sent} file(s), {megabytes(published.bytes_sent)}, each read back)"
        )
    if published.url:
        say(f"the static site: [bold]{esc(published.url)}[/]")
    _costs(plan)
    for line in plan.warnings:
        warn(line)


def _closing(plan: Any, deletion: Any, dry_run: bool) -> None:
    if deletion is not None:
        gone = f"[green]✓[/] deleted the stack {esc(deletion.stack_name)} (the EB environment"
        gone += ", its Elastic IP, the mount targets"
        if deletion.file_system_id:
            gone += f") and the EFS file system {esc(deletion.file_system_id)}"
        else:
            gone += ")"
        say(gone)
        for note in deletion.notes:
            say(f"  {esc(note)}")
        say("the way back: `ctsite provision apply` then `ctsite release`")
        return
    for blocker in plan.blockers:
        say(f"the Elastic Beanstalk site is kept: {esc(blocker)}")
    if not plan.blockers:
        verb = "would delete" if dry_run else "deletes"
        what = "the EB environment, its Elastic IP"
        what += f", the EFS file system {plan.file_system_id}" if plan.file_system_id else ""
        say(
            f"nothing deleted; `ctsite retire --confirm {esc(plan.environment)}` {verb} "
            f"{esc(what)} (stack {esc(plan.stack_name)})"
        )


def register(app: typer.Typer) -> None:
    """Add `retire` to the main app."""
    app.command("retire")(retire_cmd)

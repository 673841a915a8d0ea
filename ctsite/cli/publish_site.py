"""CLI command `ctsite publish-site [--from DIR] [--dry-run]` (the workflow:
`ctsite.deploy.static_site.publish_site`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ctsite.cli.context import begin, clients, reporter_for
from ctsite.cli.render import JsonFlag, emit, esc, say
from ctsite.formatting import megabytes


def print_plan(plan: Any, dry_run: bool) -> None:
    """What is (or would be) sent, deleted and invalidated, and the bytes."""
    verb = "would send" if dry_run else "sends"
    kinds = ", ".join(
        f"{len(plan.of_kind(kind))} {kind}"
        for kind in ("hashed", "index", "mutable", "page")
        if plan.of_kind(kind)
    )
    say(
        f"s3://{esc(plan.bucket)}: {verb} [bold]{len(plan.uploads)}[/] file(s) "
        f"({megabytes(plan.upload_bytes)}{'; ' + kinds if kinds else ''}), "
        f"{plan.unchanged} unchanged, [bold]{len(plan.deletions)}[/] old file(s) to delete"
    )
    if dry_run:
        for upload in plan.uploads:
            how = f", {upload.content_encoding}" if upload.content_encoding else ""
            say(f"  [green]send[/] {esc(upload.key)} ({upload.bytes:,} bytes{esc(how)})")
        for key in plan.deletions:
            say(f"  [red]delete[/] {esc(key)}")
    if plan.invalidations and plan.distribution_id:
        verb = "would invalidate" if dry_run else "invalidate"
        paths = " ".join(plan.invalidations)
        say(f"{verb} on {esc(plan.distribution_id)}: {esc(paths)}")
    elif plan.invalidations:
        say("no CloudFront distribution configured: nothing to invalidate")
    if plan.foreign:
        say(f"{plan.foreign} object(s) in the bucket that ctsite did not put there: left alone")


def publish_site_cmd(
    ctx: typer.Context,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Publish this folder written by `ctsite export-site` (default: export the "
            "current store version now).",
        ),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Compiled store (default: compiled_dir).")
    ] = None,
    bucket: Annotated[
        str | None, typer.Option("--bucket", help="S3 bucket (default: [static] bucket).")
    ] = None,
    distribution_id: Annotated[
        str | None,
        typer.Option(
            "--distribution-id",
            help="CloudFront distribution whose pages to invalidate "
            "(default: [static] distribution_id).",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print what would be sent, deleted and invalidated."),
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Upload the static site to its S3 bucket: changed files only, pages last, then
    invalidate the pages on CloudFront."""
    from functools import partial

    from ctsite.deploy.static_site.hosting import static_hosting
    from ctsite.deploy.static_site.publish_site import publish_site
    from ctsite.web.snapshot import AppSnapshot

    s, as_json = begin(ctx, json_out, static_bucket=bucket, static_distribution_id=distribution_id)
    if s.site_access_code_hash and source is None:
        from ctsite.cli.console import warn

        warn(
            "the access code (site_access_code_hash) does not protect a static site: "
            "whoever can reach its files sees everything"
        )
    client = clients(ctx, s)
    hosting = static_hosting(s, client)
    result = publish_site(
        hosting.bucket,
        hosting.distribution_id,
        client,
        site=source,
        store_path=data or s.compiled_path,
        source_for=partial(AppSnapshot, s),
        dry_run=dry_run,
        reporter=reporter_for(ctx, show_output=not as_json),
    )
    if as_json:
        emit(result)
        return
    plan = result.plan
    print_plan(plan, dry_run)
    if dry_run:
        say("dry run: nothing was sent, deleted or invalidated")
        return
    if plan.empty:
        say("[green]✓[/] the bucket already holds this export: nothing sent")
    else:
        say(
            f"[green]✓[/] sent {result.sent} file(s), {megabytes(result.bytes_sent)}, each read "
            f"back; deleted {result.deleted}; store version {esc(plan.version or '?')} is live"
        )
    if result.invalidation:
        say(f"CloudFront invalidation {esc(result.invalidation)} requested")
    if result.url:
        say(f"the site: {esc(result.url)}")


def register(app: typer.Typer) -> None:
    """Add `publish-site` to the main app."""
    app.command("publish-site")(publish_site_cmd)

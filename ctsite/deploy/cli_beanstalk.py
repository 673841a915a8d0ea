"""CLI commands for Elastic Beanstalk: `deploy`, `status`, `versions`, `open` and `doctor`.

Each command resolves the configuration, builds boto3 clients (or takes a client factory from
`ctx.obj["aws_client"]`, which is how tests inject stubbed clients), calls
`ctsite.deploy.beanstalk` / `bundle` / `doctor` and renders the result with rich.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ctsite.config import Settings
from ctsite.console import console, warn
from ctsite.errors import CtsiteError

ClientFactory = Callable[..., Any]  # (service, region=None) -> boto3 client
_SEVERITY_STYLE = {"ERROR": "bold red", "FATAL": "bold red", "WARN": "yellow", "INFO": "cyan"}

Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: aws_region).")]
Environment = Annotated[
    str | None, typer.Option("--env", help="EB environment name (default: eb_environment).")
]


def say(text: str) -> None:
    """Print one line of markup without wrapping it (URLs and labels stay whole)."""
    console.print(text, soft_wrap=True)


def _client_factory(ctx: typer.Context, s: Settings) -> ClientFactory:
    """boto3 clients for `s`, one per (service, region); tests may inject one via ctx.obj."""
    root = ctx.find_root()
    injected = root.obj.get("aws_client") if isinstance(root.obj, dict) else None
    if injected is not None:
        return injected  # type: ignore[no-any-return]
    from ctsite.deploy import aws

    cache: dict[tuple[str, str | None], Any] = {}

    def make(service: str, region: str | None = None) -> Any:
        if (service, region) not in cache:
            cache[service, region] = aws.client(s, service, region)
        return cache[service, region]

    return make


def _beanstalk(ctx: typer.Context, s: Settings) -> Any:
    from ctsite.deploy.beanstalk import Beanstalk

    client = _client_factory(ctx, s)
    return Beanstalk(client("elasticbeanstalk"), client("s3"), s.eb_application, s.eb_environment)


def _print_event(event: dict[str, Any]) -> None:
    when = event.get("EventDate")
    stamp = when.astimezone(dt.UTC).strftime("%H:%M:%S") if when else "--:--:--"
    severity = str(event.get("Severity", "INFO"))
    style = _SEVERITY_STYLE.get(severity, "white")
    message = escape(str(event.get("Message", "")).strip())
    say(f"{stamp} [{style}]{severity:<5}[/] {message}")


def _time(value: Any) -> str:
    """A datetime from AWS as `YYYY-MM-DD HH:MM UTC` (anything else as text)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _url(env: dict[str, Any]) -> str:
    host = env.get("CNAME") or env.get("EndpointURL") or ""
    return f"http://{host}" if host else ""


def _print_bundle(bundle: Any) -> None:
    from rich.table import Table

    table = Table(title=f"source bundle ({bundle.size:,} bytes, sha256 {bundle.sha256[:12]})")
    table.add_column("file")
    table.add_column("mode")
    table.add_column("bytes", justify="right")
    for entry in bundle.entries:
        note = " (rendered)" if entry.rendered else ""
        table.add_row(escape(entry.name) + note, oct(entry.mode)[2:], f"{entry.size:,}")
    console.print(table)
    for message in bundle.warnings:
        warn(message)


def _where(s: Settings) -> str:
    return f"{s.eb_environment} ({s.eb_application}, {s.aws_region})"


def _print_plan(s: Settings, label: str, message: str, new: bool, minutes: float) -> None:
    say("[bold]plan[/] (dry run, no AWS call made):")
    if new:
        say(f"  1. upload the bundle to the EB storage bucket as {s.eb_application}/{label}.zip")
        say(
            f"  2. create application version {label}"
            + (f" ({escape(repr(message))})" if message else "")
        )
    else:
        say(f"  1-2. reuse the existing application version {label}")
    say(f"  3. update environment {_where(s)} to {label}")
    say(f"  4. wait up to {minutes:g} min for Ready + Green/Ok")


def _wait(
    eb: Any, s: Settings, label: str, since: dt.datetime, minutes: float, poll: float
) -> dict[str, Any]:
    """Stream events and show a spinner with status/health until the deployment settles."""
    started = time.monotonic()
    with console.status(f"waiting for {s.eb_environment}") as spinner:

        def show(current: dict[str, Any]) -> None:
            elapsed = int(time.monotonic() - started)
            spinner.update(
                f"{s.eb_environment}: {current.get('Status')}, health {current.get('Health')}, "
                f"version {current.get('VersionLabel')} ({elapsed // 60}m{elapsed % 60:02d}s)"
            )

        try:
            outcome = eb.wait_until_healthy(
                label, since, minutes * 60, poll, on_event=_print_event, on_poll=show
            )
        except KeyboardInterrupt:
            raise CtsiteError(
                f"stopped waiting; the deployment of {label} continues on AWS",
                hint="follow it with `ctsite status`",
                exit_code=130,
            ) from None
    return dict(outcome.environment)


def register(app: typer.Typer) -> None:
    """Add the Elastic Beanstalk commands to the main app."""

    @app.command("deploy")
    def deploy(
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
        project: Annotated[
            Path | None,
            typer.Option("--project", help="Directory with Dockerrun.aws.json, .ebextensions/."),
        ] = None,
        region: Region = None,
        env: Environment = None,
    ) -> None:
        """Deploy to Elastic Beanstalk (bundle → S3 → version → update), then wait for health."""
        from ctsite import __version__
        from ctsite.deploy.beanstalk import check_label, check_ready, git_commit, version_label
        from ctsite.deploy.bundle import build_bundle

        s = settings_for(aws_region=region, eb_environment=env)
        minutes = timeout if timeout is not None else float(s.eb_timeout_minutes)
        if minutes <= 0 or poll <= 0:
            raise CtsiteError("--timeout and --poll must be positive", hint="e.g. --timeout 30")
        if version is not None and label is not None:
            raise CtsiteError("--label and --version exclude each other", hint="pick one")
        with tempfile.TemporaryDirectory(prefix="ctsite-bundle-") as tmp:
            bundle = None
            if version is None:
                source = (project or s.root).resolve()
                now = dt.datetime.now(dt.UTC)
                label = check_label(label or version_label(__version__, git_commit(source), now))
                zip_path = Path(tmp) / f"{label}.zip"
                bundle = build_bundle(source, zip_path, s.efs_file_system_id, s.efs_mount_dir)
                _print_bundle(bundle)
            else:
                label = version
            if dry_run:
                _print_plan(s, label, message, bundle is not None, minutes)
                return
            eb = _beanstalk(ctx, s)
            before = eb.environment()
            check_ready(before)
            if bundle is None:
                if not eb.version_exists(label):
                    raise CtsiteError(
                        f"application version {label!r} not found in {s.eb_application}",
                        hint="list the versions with `ctsite versions`",
                    )
            else:
                url = eb.publish(bundle.path, label, message or f"ctsite deploy {label}")
                say(f"uploaded {url} and created application version {label}")
        updated = eb.update(label)
        say(
            f"[bold]deploying {label}[/] to {_where(s)} (was {before.get('VersionLabel')}); "
            f"waiting up to {minutes:g} min"
        )
        since = updated.get("DateUpdated") or dt.datetime.now(dt.UTC)
        final = _wait(eb, s, label, since - dt.timedelta(seconds=5), minutes, poll)
        say(
            f"[bold green]✓[/] {s.eb_environment} is {final.get('Status')}, health "
            f"{final.get('Health')}, running {final.get('VersionLabel')}: {_url(final)}"
        )

    @app.command("status")
    def status(
        ctx: typer.Context,
        region: Region = None,
        env: Environment = None,
        events: Annotated[int, typer.Option("--events", help="How many recent events.")] = 10,
    ) -> None:
        """Environment health, running version, URL, recent events, rollback targets, servers."""
        from rich.table import Table

        from ctsite.deploy.beanstalk import list_images
        from ctsite.deploy.doctor import stray_transfer_servers

        s = settings_for(aws_region=region, eb_environment=env)
        eb = _beanstalk(ctx, s)
        current = eb.environment()
        table = Table(show_header=False, title=f"{s.eb_environment} ({s.aws_region})")
        for key, value in (
            ("application", s.eb_application),
            ("status", current.get("Status")),
            ("health", f"{current.get('Health')} {current.get('HealthStatus', '')}".strip()),
            ("version", current.get("VersionLabel")),
            ("URL", _url(current)),
            ("updated", _time(current.get("DateUpdated"))),
        ):
            table.add_row(key, escape(str(value)))
        console.print(table)
        say("[bold]recent events[/]")
        for event in eb.events(limit=events):
            _print_event(event)
        say(
            "[bold]application versions[/] (roll back: ctsite deploy --version LABEL)",
        )
        for v in eb.versions()[: s.eb_keep_versions]:
            mark = "*" if v.get("VersionLabel") == current.get("VersionLabel") else " "
            say(f" {mark} {v.get('VersionLabel')}  {_time(v.get('DateCreated'))}")
        client = _client_factory(ctx, s)
        try:
            images = list_images(s, client)
            say(f"[bold]images[/] in {s.image_repository}")
            for tag, pushed in images:
                say(f"   {tag}  {_time(pushed)}")
        except CtsiteError as exc:
            warn(f"images: {exc.message}")
        try:
            servers = stray_transfer_servers(client("transfer"), s.transfer_hourly_cost)
        except CtsiteError as exc:
            warn(f"Transfer servers: {exc.message}")
            return
        if servers:
            for server in servers:
                say(
                    f"[bold red]Transfer server still running:[/] {server.describe()}",
                )
        else:
            say("no ctsite Transfer servers running")

    @app.command("versions")
    def versions(
        ctx: typer.Context,
        prune: Annotated[
            bool, typer.Option("--prune", help="Delete old versions (never the deployed one).")
        ] = False,
        keep: Annotated[
            int | None, typer.Option("--keep", help="Versions to keep (default eb_keep_versions).")
        ] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the pruning.")] = False,
        region: Region = None,
    ) -> None:
        """List the application versions; --prune deletes all but the newest N."""
        from rich.table import Table

        s = settings_for(aws_region=region, eb_keep_versions=keep)
        eb = _beanstalk(ctx, s)
        deployed = eb.deployed_labels()
        table = Table(title=f"application versions of {s.eb_application}")
        for column in ("label", "created", "status", "description", "deployed"):
            table.add_column(column)
        listed = eb.versions()
        for v in listed:
            table.add_row(
                str(v.get("VersionLabel")),
                _time(v.get("DateCreated")),
                str(v.get("Status", "")),
                escape(str(v.get("Description", ""))),
                "yes" if v.get("VersionLabel") in deployed else "",
            )
        console.print(table)
        if not prune:
            return
        doomed = eb.prune_plan(s.eb_keep_versions, listed, deployed)
        if not doomed:
            say(f"nothing to prune (keeping the newest {s.eb_keep_versions})")
            return
        for label in doomed:
            if dry_run:
                say(f"would delete {label}")
            else:
                eb.delete_version(label)
                say(f"deleted {label}")

    @app.command("open")
    def open_cmd(ctx: typer.Context, region: Region = None, env: Environment = None) -> None:
        """Open the site's URL in the web browser."""
        import webbrowser

        s = settings_for(aws_region=region, eb_environment=env)
        url = _url(_beanstalk(ctx, s).environment())
        if not url:
            raise CtsiteError(f"{s.eb_environment} has no URL yet", hint="see `ctsite status`")
        say(url)
        if not webbrowser.open(url):
            warn("no web browser found; open the URL above yourself")

    @app.command("doctor")
    def doctor(ctx: typer.Context, region: Region = None) -> None:
        """Preflight checks for the whole runbook; exits non-zero if any check fails."""
        from ctsite.deploy.doctor import run_checks

        s = settings_for(aws_region=region)
        checks = run_checks(s, _client_factory(ctx, s))
        for check in checks:
            mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
            line = f"{mark} {check.name}: {escape(check.detail)}"
            if not check.ok and check.fix:
                line += f" [yellow]→ {escape(check.fix)}[/]"
            say(line)
        failed = sum(not c.ok for c in checks)
        if failed:
            say(f"[red]{failed} of {len(checks)} checks failed[/]")
            raise typer.Exit(1)
        say(f"[green]all {len(checks)} checks passed[/]")


def settings_for(**overrides: Any) -> Settings:
    """The configuration with these command options on top (import deferred for cli.py)."""
    from ctsite.cli import settings

    return settings(**overrides)

"""The `ctsite upload-data` command: sync data/ to EFS through an ephemeral Transfer server.

Only option parsing and rendering live here; the work is in `ctsite.deploy.transfer` (server
lifecycle, orphan sweep, cost) and `ctsite.deploy.sync` (the SFTP tree sync).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer
from rich.markup import escape

from ctsite.config import Settings
from ctsite.console import console, err_console, warn
from ctsite.errors import CtsiteError

# Assumed speed and start-up time when pricing a run before it happens (--dry-run).
ASSUMED_BYTES_PER_S = 20e6
ASSUMED_STARTUP_S = 300.0


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _dollars(x: float) -> str:
    return f"${x:.2f}" if x >= 0.01 else "<$0.01"


def _delete_scope(s: Settings, delete: bool | None) -> list[str]:
    """Relative prefixes under which remote files missing locally are deleted."""
    if delete is False:
        return []
    if delete is True:
        return [""]
    try:
        rel = s.compiled_path.resolve().relative_to(s.data_path.resolve())
    except ValueError:
        return []  # compiled/ is not inside data/: nothing to delete by default
    return [PurePosixPath(*rel.parts).as_posix() or ""]


def _show_plan(plan: Any, scope: list[str]) -> None:
    where = "everywhere" if "" in scope else (", ".join(f"{p}/" for p in scope) or "nowhere")
    console.print(
        f"plan: [bold]{len(plan.uploads)}[/] file(s) to send ({_mb(plan.upload_bytes)}), "
        f"[bold]{len(plan.deletions)}[/] remote file(s) to delete (deleting {where}), "
        f"{plan.unchanged} unchanged",
        soft_wrap=True,
    )
    for rel in plan.deletions[:10]:
        console.print(f"  [red]delete[/] {escape(rel)}")
    if len(plan.deletions) > 10:
        console.print(f"  … and {len(plan.deletions) - 10} more")


def _sweep(s: Settings, delete: bool) -> None:
    from ctsite.deploy import transfer

    orphans = transfer.find_orphans(s)
    if not orphans:
        if delete:
            console.print("no ctsite Transfer servers left behind")
        return
    for o in orphans:
        age = o.age_hours()
        shown = f"{age:.1f} h old" if age is not None else "age unknown"
        line = f"Transfer server {o.server_id} ({o.state}, {shown}, created by {o.created_by})"
        if age is None or age > s.transfer_max_age_hours:
            err_console.print(
                f"[bold red]LEFT BEHIND:[/] {line} is older than {s.transfer_max_age_hours} h "
                "and still billing"
            )
        else:
            warn(f"{line} exists (another upload may be running)")
    if not delete and sys.stdin.isatty():
        delete = typer.confirm(f"delete these {len(orphans)} server(s)?", default=False)
    if not delete:
        warn("left in place; delete them with `ctsite upload-data --cleanup`")
        return
    for o in orphans:
        transfer.delete_server(s, o.server_id)
        console.print(f"deleted {o.server_id}")


def _dry_run(s: Settings, scope: list[str]) -> None:
    from ctsite.deploy import sync, transfer

    plan = sync.plan_offline(s.data_path, max(2, s.upload_jobs), scope)
    _show_plan(plan, scope)
    seconds = ASSUMED_STARTUP_S + plan.upload_bytes / ASSUMED_BYTES_PER_S
    cost = transfer.estimate_cost(s, seconds, plan.upload_bytes)
    console.print(
        f"estimated cost: {_dollars(cost)} (about {seconds / 60:.0f} min of server time); "
        "planned from the manifest of the last successful upload, nothing was contacted",
        soft_wrap=True,
    )


def _upload(s: Settings, scope: list[str]) -> None:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from ctsite.deploy import manifest, sync, transfer

    jobs = max(1, s.upload_jobs)
    local = manifest.scan_local(s.data_path, max(2, jobs), lazy=True)
    _sweep(s, delete=False)
    remote_root = s.remote_data_dir
    server_seconds = 0.0
    sent = 0
    try:
        with transfer.ephemeral_server(s, status=lambda m: console.print(f"[dim]{m}[/]")) as srv:
            try:
                connect = _connector(srv.endpoint)
                first = connect()
                plan, remote_manifest = sync.plan_remote(
                    first, local, remote_root, scope, s.data_path, max(2, jobs)
                )
                _show_plan(plan, scope)
                progress = Progress(
                    TextColumn("[bold]upload"),
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    TimeRemainingColumn(),
                    console=err_console,
                    disable=plan.upload_bytes == 0,
                )
                with progress:
                    task = progress.add_task("upload", total=plan.upload_bytes)
                    result = sync.sync_tree(
                        connect,
                        s.data_path,
                        remote_root,
                        plan,
                        remote_manifest,
                        jobs=jobs,
                        on_bytes=lambda n: progress.advance(task, n),
                        main=first,
                    )
                sent = result.bytes_sent
                rate = result.bytes_sent / result.seconds / 1e6 if result.seconds else 0.0
                console.print(
                    f"sent {result.files_sent} file(s), {_mb(result.bytes_sent)} "
                    f"in {result.seconds:.1f} s ({rate:.1f} MB/s), deleted {result.deleted}, "
                    f"retries {result.retries}; verified {len(local)} file(s)",
                    soft_wrap=True,
                )
            finally:
                server_seconds = srv.elapsed
    finally:
        if server_seconds:
            cost = transfer.estimate_cost(s, server_seconds, sent)
            console.print(
                f"server time {server_seconds / 60:.1f} min, estimated cost {_dollars(cost)} "
                "(server deleted)",
                soft_wrap=True,
            )


def _connector(endpoint: Any) -> Any:
    from ctsite.deploy import sftp

    def connect() -> Any:
        return sftp.connect(endpoint)

    return connect


def register(app: typer.Typer) -> None:
    """Add `upload-data` to the main app."""

    @app.command("upload-data")
    def upload_data(
        ctx: typer.Context,
        cleanup: Annotated[
            bool,
            typer.Option(
                "--cleanup", help="Only delete Transfer servers left behind by crashed runs."
            ),
        ] = False,
        dry_run: Annotated[
            bool,
            typer.Option("--dry-run", help="Print the plan and estimated cost; touch nothing."),
        ] = False,
        delete: Annotated[
            bool | None,
            typer.Option(
                "--delete/--no-delete",
                help="Delete remote files that no longer exist locally "
                "(default: only under the compiled store).",
            ),
        ] = None,
        jobs: Annotated[
            int | None,
            typer.Option(
                "--jobs", "-j", help="Parallel uploads, each its own SFTP connection (1-32)."
            ),
        ] = None,
        data_dir: Annotated[
            Path | None, typer.Option("--data-dir", help="Local tree to upload (default data/).")
        ] = None,
        restart: Annotated[
            bool, typer.Option("--restart", help="Restart the app servers after a good sync.")
        ] = False,
    ) -> None:
        """Sync data/ to EFS through an ephemeral Transfer Family server (always deleted)."""
        from ctsite.cli import settings

        if jobs is not None and not 1 <= jobs <= 32:
            raise CtsiteError(f"--jobs must be between 1 and 32, got {jobs}", exit_code=2)
        s = settings(upload_jobs=jobs, data_dir=str(data_dir) if data_dir else None)
        started = time.monotonic()
        if cleanup:
            _sweep(s, delete=True)
            return
        scope = _delete_scope(s, delete)
        if dry_run:
            _dry_run(s, scope)
            return
        if not s.data_path.is_dir():
            raise CtsiteError(
                f"data directory not found: {s.data_path}",
                hint="run `ctsite compile` first, or set data_dir (CTSITE_DATA_DIR)",
            )
        _upload(s, scope)
        console.print(f"done in {time.monotonic() - started:.1f} s")
        if restart:  # the site reloads the new data (ctsite.deploy.cli_chores)
            from ctsite.deploy.cli_chores import restart_after_upload

            restart_after_upload(ctx, s)

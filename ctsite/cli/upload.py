"""The `ctsite upload-data` command: options in, `ctsite.deploy.upload` workflow, result out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from ctsite.cli.context import begin, clients, reporter_for
from ctsite.cli.render import JsonFlag, Yes, confirm_own_names, emit, esc, say
from ctsite.formatting import megabytes, money


def print_plan(plan: Any) -> None:
    scope = plan.delete_scope
    # where deletions may happen (not a folder being deleted)
    where = (
        "deletions anywhere in the remote folder"
        if "" in scope
        else ("deletions only under " + ", ".join(f"{p}/" for p in scope) if scope else "none")
    )
    say(
        f"plan: [bold]{plan.files}[/] file(s) to send ({megabytes(plan.upload_bytes)}), "
        f"[bold]{len(plan.deletions)}[/] remote file(s) to delete ({esc(where)}), "
        f"{plan.unchanged} unchanged"
    )
    if plan.version is not None:
        was = plan.remote_version or ("unknown, planned offline" if plan.offline else "none")
        how = "then switches the remote pointer" if plan.switches else "already current remotely"
        say(f"store version {esc(plan.version)} (remote now: {esc(was)}): {how}")
        if plan.pruned:
            shown = ", ".join(plan.pruned)
            say(f"  after the switch, prunes remote version(s) {esc(shown)}")
        print_confirmation(plan)
    for rel in plan.deletions[:10]:
        say(f"  [red]delete[/] {esc(rel)}")
    if len(plan.deletions) > 10:
        say(f"  … and {len(plan.deletions) - 10} more")


def print_confirmation(plan: Any) -> None:
    """How the plan confirms the version before it goes live, and what that costs."""
    line = (
        f"  confirms it first: reads back {plan.read_back_files} file(s) "
        f"({megabytes(plan.read_back_bytes)}) and checks their SHA-256"
    )
    if plan.trust_remote and plan.rehash_files:
        say(
            f"{line}; the {plan.rehash_files} file(s) already on the remote "
            f"({megabytes(plan.rehash_bytes)}) are trusted without reading them back "
            "(--trust-remote)"
        )
    elif plan.rehash_files:
        say(
            f"{line}; --trust-remote skips the {plan.rehash_files} already on the remote "
            f"({megabytes(plan.rehash_bytes)}, about {plan.rehash_seconds:.1f} s and "
            f"{money(plan.rehash_cost)})"
        )
    else:
        say(line)


def upload_data_cmd(
    ctx: typer.Context,
    cleanup: Annotated[
        bool,
        typer.Option("--cleanup", help="Only delete Transfer servers left behind by crashed runs."),
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
        typer.Option("--jobs", "-j", help="Parallel uploads, each its own SFTP connection (1-32)."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Local tree to upload (default data/).")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Restart the app servers after a good sync.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --cleanup: also delete servers of live uploads."),
    ] = False,
    max_delete: Annotated[
        int | None,
        typer.Option("--max-delete", min=0, help="Refuse a plan deleting more remote files."),
    ] = None,
    trust_remote: Annotated[
        bool,
        typer.Option(
            "--trust-remote",
            help="Do not re-read and re-hash the store version's files already on the remote "
            "before it goes live (files sent are still confirmed).",
        ),
    ] = False,
    break_lock: Annotated[
        bool,
        typer.Option(
            "--break-lock",
            help="Take over the remote store's upload lock of an upload that has sent no "
            "heartbeat for 5 minutes (stopped on another machine).",
        ),
    ] = False,
    json_out: JsonFlag = False,
    yes: Yes = False,
) -> None:
    """Sync data/ to EFS through an ephemeral Transfer Family server (always deleted)."""
    from ctsite.deploy import upload

    s, as_json = begin(
        ctx, json_out, upload_jobs=jobs, data_dir=str(data_dir) if data_dir else None
    )
    reporter = reporter_for(ctx)
    if cleanup:
        swept = upload.cleanup(s, clients(ctx, s), delete=True, reporter=reporter, force=force)
        if as_json:
            emit(swept)
        elif not swept.servers:
            say("no ctsite Transfer servers left behind")
        for server_id in [] if as_json else swept.deleted:
            say(f"deleted {esc(server_id)}")
        return
    if dry_run:
        plan = upload.plan_offline_upload(s, delete, trust_remote)
        if as_json:
            emit(plan)
        else:
            print_plan(plan)
            if not plan.has_record:
                say(
                    "no record of a previous upload (no data/.ctsite-manifest.json): the plan "
                    "assumes the remote is empty, so every file is sent and nothing deleted; "
                    "the real run compares with the remote"
                )
            source = (
                "planned from the manifest of the last successful upload"
                if plan.has_record
                else "planned offline without a record of a previous upload"
            )
            say(
                f"estimated cost: {money(plan.estimated_cost)} (about "
                f"{plan.estimated_seconds / 60:.0f} min of server time); {source}, "
                "nothing was contacted"
            )
        upload.check_max_delete(plan, max_delete)
        return
    if restart:
        confirm_own_names(s, upload.RESTART_NAMES, yes)

    def ask(servers: list[Any]) -> bool:
        import sys

        if as_json or not sys.stdin.isatty():
            return False
        return bool(typer.confirm(f"delete these {len(servers)} server(s)?", default=False))

    try:
        result = upload.upload_data(
            s,
            clients(ctx, s),
            delete=delete,
            restart=restart,
            confirm_cleanup=ask,
            reporter=reporter,
            max_delete=max_delete,
            log_file=os.environ.get("CTSITE_LOG_FILE") or None,
            trust_remote=trust_remote,
            break_lock=break_lock,
        )
    except upload.ServerLeftRunning as left:
        if left.result is not None and not as_json:  # the upload finished: its summary first
            print_result(left.result, deleted=False)
        raise
    if as_json:
        emit(result)
        return
    print_result(result)


def print_result(result: Any, deleted: bool = True) -> None:
    """The summary of a finished upload (`deleted`: its server was deleted)."""
    print_plan(result.plan)
    rate = result.bytes_sent / result.seconds / 1e6 if result.seconds else 0.0
    say(
        f"sent {result.files_sent} file(s), {megabytes(result.bytes_sent)} "
        f"in {result.seconds:.1f} s ({rate:.1f} MB/s), deleted {result.deleted}, "
        f"retries {result.retries}; verified {result.verified} file(s)"
    )
    if result.files_read_back:
        say(
            f"read back {result.files_read_back} file(s) "
            f"({megabytes(result.bytes_read_back)}): SHA-256 confirmed"
        )
    if result.resent:
        say(
            f"[yellow]{result.resent} remote file(s) differed from the local copy and were "
            "sent again[/]"
        )
    server = "server deleted" if deleted else "server NOT deleted: see below"
    say(
        f"server time {result.server_seconds / 60:.1f} min, estimated cost "
        f"{money(result.cost)} ({server})"
    )
    if result.switch:
        how = "one atomic rename" if result.switch == "rename" else "CURRENT.next, then rename"
        say(f"[green]✓[/] the site now serves version {esc(result.plan.version)} ({how})")
    say(f"done in {result.seconds:.1f} s")
    if result.restarted is not None:
        env = result.restarted
        say(f"[green]✓[/] {esc(env.name)} is {env.status}, health {env.health}")


def register(app: typer.Typer) -> None:
    """Add `upload-data` to the main app."""
    app.command("upload-data")(upload_data_cmd)

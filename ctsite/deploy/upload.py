"""The `ctsite upload-data` workflow: sync data/ to EFS through an ephemeral Transfer server.

`plan_offline_upload` is the dry run (from the manifest of the last successful upload, nothing
contacted; it says when there is no such record), `cleanup` finds (and deletes) servers left
behind by crashed runs — never one whose upload is alive, unless forced — and `upload_data`
runs the whole upload: stray check → ephemeral server → the SFTP publication → server deleted →
(optionally) restart the app servers. Every flag is a parameter.

This module owns the server's lifetime and what the run says when it ends (which version the
site serves, what the server cost, a server left behind), the deletion limit and the price
(`ctsite.deploy.pricing`). The publication itself — plan, record, lock, send, confirm, switch,
prune, and what may be deleted — is `ctsite.sftp.publication` (no AWS in it); the server is
`ctsite.aws.transfer`'s. Settings are read here and handed on as explicit values.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ctsite.aws import scheduler, transfer
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.deploy import NAMES as DEPLOY_NAMES
from ctsite.deploy.deploy import EnvironmentState
from ctsite.deploy.pricing import Rates, assumed_seconds, link_seconds
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError
from ctsite.formatting import money
from ctsite.sftp import publication
from ctsite.sftp.deletions import delete_scope
from ctsite.sftp.publication import Planned, Publishing
from ctsite.sftp.sync import SyncResult

# The configured names `--restart` writes into (see `ctsite.config.inherited_names`).
RESTART_NAMES: tuple[str, ...] = DEPLOY_NAMES


@dataclasses.dataclass(frozen=True)
class UploadPlan:
    """What an upload sends and deletes (`--dry-run`: priced, nothing contacted)."""

    files: int
    upload_bytes: int
    deletions: list[str]
    unchanged: int
    delete_scope: list[str]
    estimated_seconds: float
    estimated_cost: float
    offline: bool  # planned from the local record of the last upload, not the remote
    has_record: bool = True  # False: no record of a previous upload (dry run assumes none)
    version: str | None = None  # the store version it publishes (None: no versioned store)
    remote_version: str | None = None  # the remote's current version before the upload
    pruned: list[str] = dataclasses.field(default_factory=list)  # remote versions it deletes
    store_deletions: int = 0  # of `deletions`: the pruned versions' and unused objects' files
    # confirming the store version: the files read back and re-hashed (the sent ones and, unless
    # trust_remote, those already on the remote), and what re-reading the latter adds
    read_back_files: int = 0
    read_back_bytes: int = 0
    rehash_files: int = 0  # files of the version already on the remote
    rehash_bytes: int = 0
    rehash_seconds: float = 0.0  # server time re-reading them adds (--trust-remote saves it)
    rehash_cost: float = 0.0
    trust_remote: bool = False

    @property
    def switches(self) -> bool:
        return self.version is not None and self.version != self.remote_version


@dataclasses.dataclass(frozen=True)
class CleanupResult:
    servers: list[transfer.StrayServer]
    deleted: list[str]
    max_age_hours: float


@dataclasses.dataclass(frozen=True)
class UploadResult:
    plan: UploadPlan
    files_sent: int
    bytes_sent: int
    deleted: int
    retries: int
    verified: int
    seconds: float
    server_seconds: float
    cost: float
    strays: CleanupResult
    restarted: EnvironmentState | None = None
    switch: str = ""  # how the remote pointer was switched: "rename", "fallback" or "" (none)
    files_read_back: int = 0  # files whose SHA-256 was confirmed by reading them back
    bytes_read_back: int = 0
    resent: int = 0  # remote copies that differed from the local file and were sent again


def check_max_delete(plan: UploadPlan, max_delete: int | None) -> None:
    """Refuse a plan that deletes more remote files than `max_delete` (None: no limit); the
    files of pruned store versions (ctsite's own, after the switch) do not count."""
    count = len(plan.deletions) - plan.store_deletions
    if max_delete is None or count <= max_delete:
        return
    raise CtsiteError(
        f"the plan deletes {count} remote file(s), more than --max-delete "
        f"{max_delete}; nothing was sent or deleted",
        hint=f"check the plan with --dry-run; allow it with --max-delete {count} "
        "(or keep the remote files with --no-delete)",
        exit_code=2,
    )


def priced(planned: Planned, rates: Rates, offline: bool) -> UploadPlan:
    """The plan with its price: what is sent and every file of the store version that is read
    back and re-hashed to confirm it are priced alike (link time, per GB); the version's files
    already on the remote add their re-read time unless the remote is trusted."""
    plan, store = planned.plan, planned.store
    moved = plan.upload_bytes + planned.read_back_bytes
    rehash_bytes = planned.rehash_bytes
    rehash_seconds = link_seconds(rehash_bytes)
    return UploadPlan(
        len(plan.uploads),
        plan.upload_bytes,
        list(plan.deletions),
        plan.unchanged,
        planned.scope,
        assumed_seconds(moved),
        rates.upload(plan.upload_bytes, planned.read_back_bytes),
        offline,
        version=store.pointer.version if store else None,
        remote_version=store.old.version if store and store.old else None,
        pruned=list(store.pruned) if store else [],
        store_deletions=len(store.deletions) if store else 0,
        read_back_files=planned.read_back_files,
        read_back_bytes=planned.read_back_bytes,
        rehash_files=len(planned.rehash),
        rehash_bytes=rehash_bytes,
        rehash_seconds=rehash_seconds,
        rehash_cost=rates.cost(rehash_seconds, rehash_bytes),
        trust_remote=planned.trust_remote,
    )


def _store(s: Settings) -> str | None:
    """Where the compiled store lies in the uploaded folder (None: outside it)."""
    return publication.store_rel(s.data_path, s.compiled_path)


def check_store_inside(s: Settings) -> None:
    """Refuse an upload that would leave the store behind: the site reads the store from the
    uploaded folder, so a compiled store outside data_dir would never be published (the upload
    would send data/ alone and report success while the site keeps its old data)."""
    if _store(s) is None and s.compiled_path.exists():
        raise CtsiteError(
            f"the compiled store {s.compiled_path} is outside the uploaded folder "
            f"{s.data_path}: upload-data would not publish it; nothing was sent",
            hint='set compiled_dir under data_dir (e.g. compiled_dir = "data/compiled"), '
            "then run `ctsite compile`; a store kept elsewhere can be linked in "
            "(data/compiled a symlink to it)",
            exit_code=2,
        )


def plan_offline_upload(
    s: Settings, delete: bool | None = None, trust_remote: bool = False
) -> UploadPlan:
    """The dry run: the plan against the manifest of the last successful upload."""
    from ctsite.sftp.manifest import MANIFEST

    check_store_inside(s)
    store = _store(s)
    scope = delete_scope(delete, store)
    jobs = max(2, s.upload_jobs)
    planned = publication.plan_offline(
        s.data_path, store, scope, jobs, s.compile_keep_versions, trust_remote
    )
    offline = priced(planned, Rates.of(s), offline=True)
    return dataclasses.replace(offline, has_record=(s.data_path / MANIFEST).is_file())


def cleanup(
    s: Settings,
    client: ClientFactory,
    delete: bool,
    confirm: Callable[[list[transfer.StrayServer]], bool] | None = None,
    reporter: Reporter = NULL,
    force: bool = False,
) -> CleanupResult:
    """Servers left behind by crashed runs; deleted when `delete` (or `confirm(servers)`).
    A server whose upload is alive (fresh heartbeat) is left alone unless `force`, with a
    warning: another upload is running right now (its remote lock makes a second one wait)."""
    every = transfer.find_stray_servers(client, include_live=True)
    servers = [x for x in every if force or not x.is_alive()]
    for server in every:
        if server in servers:
            continue
        beat = server.heartbeat or server.created
        silent = f"heartbeat {_seconds_ago(beat):.0f} s ago" if beat else "no heartbeat"
        reporter.warn(
            f"another upload is running: Transfer server {server.server_id} ({server.state}, "
            f"{silent}, created by {server.created_by}) is in use; left alone"
        )
    for server in servers:
        age = server.age_hours()
        shown = f"{age:.1f} h old" if age is not None else "age unknown"
        line = f"Transfer server {server.server_id} ({server.state}, {shown}, created by "
        line += f"{server.created_by})"
        if age is None or age > s.transfer_max_age_hours:
            reporter.warn(
                f"LEFT BEHIND: {line} is older than {s.transfer_max_age_hours} h and still billing"
            )
        else:
            reporter.warn(f"{line} exists (another upload may be running)")
    if servers and not delete and confirm is not None:
        delete = confirm(servers)
    deleted = []
    if servers and delete:
        for server in servers:
            transfer.delete_server(
                client, server.server_id, s.aws_region, s.transfer_hourly_cost, server.safety_net
            )
            scheduler.disarm(client, server.server_id)
            deleted.append(server.server_id)
    elif servers:
        reporter.warn("left in place; delete them with `ctsite upload-data --cleanup`")
    return CleanupResult(servers, deleted, s.transfer_max_age_hours)


def _seconds_ago(when: datetime) -> float:
    return max(0.0, (datetime.now(UTC) - when).total_seconds())


class ServerLeftRunning(CtsiteError):
    """The upload's Transfer server could not be deleted: the message says that (with what it
    costs and the command that deletes it) together with how the upload itself ended (which
    version the site serves); `result` is the finished upload, when it did finish."""

    def __init__(self, message: str, hint: str | None, result: UploadResult | None = None):
        super().__init__(message, hint)
        self.result = result


def _server_left(
    deletion: CtsiteError, state: Publishing, failure: CtsiteError | None
) -> ServerLeftRunning:
    """Both facts in one line: how the upload ended, and the server still billing."""
    if failure is None:
        done = "the upload finished"
        if state.pub is not None:
            done += f" and {state.site()}"
        return ServerLeftRunning(f"{done}; but {deletion.message}", deletion.hint)
    hint = deletion.hint if not failure.hint else f"{deletion.hint}; then {failure.hint}"
    left = ServerLeftRunning(f"{failure.message}; also {deletion.message}", hint)
    left.exit_code = failure.exit_code
    return left


def server_config(s: Settings) -> transfer.ServerConfig:
    """The Transfer server's part of the settings, as explicit values for the adapter."""
    return transfer.ServerConfig(
        region=s.aws_region,
        efs_file_system_id=s.efs_file_system_id,
        home_directory=s.home_directory,
        user=s.transfer_user,
        logging_role=s.transfer_logging_role,
        user_role=s.transfer_user_role,
        scheduler_role=s.transfer_scheduler_role,
        max_age_hours=s.transfer_max_age_hours,
        hourly_cost=s.transfer_hourly_cost,
        online_timeout=s.transfer_online_timeout,
        sftp_host=s.sftp_host,
        sftp_port=s.sftp_port,
        host_key_fingerprint=s.sftp_host_key_fingerprint,
        stall_timeout=s.sftp_stall_timeout,
    )


def upload_data(
    s: Settings,
    client: ClientFactory,
    *,
    delete: bool | None = None,
    restart: bool = False,
    confirm_cleanup: Callable[[list[transfer.StrayServer]], bool] | None = None,
    reporter: Reporter = NULL,
    max_delete: int | None = None,
    log_file: str | None = None,
    trust_remote: bool = False,
    break_lock: bool = False,
) -> UploadResult:
    """Sync s.data_path to EFS; the Transfer server is always deleted, even on Ctrl-C.
    paramiko's own log goes to `log_file` (never to the terminal). `trust_remote`: do not
    re-read the store version's files already on the remote (see
    `ctsite.sftp.publication.sync_to`); `break_lock`: take over a remote upload lock left
    silent by a stopped upload. A plan deleting more than `max_delete` remote files stops
    before anything is sent (`check_max_delete`).

    Whatever ends the run says which version the site serves: a failure (in its one line), a
    stop signal (the `Interrupted` carries it as its outcome, with "re-run to finish"), and a
    server that could not be deleted (`ServerLeftRunning`: that fact and the upload's)."""
    from ctsite import lifecycle
    from ctsite.sftp import client as sftp
    from ctsite.sftp import manifest

    sftp.configure_paramiko_logging(log_file)
    check_store_inside(s)
    if not s.data_path.is_dir():
        raise CtsiteError(
            f"data directory not found: {s.data_path}",
            hint="run `ctsite compile` first, or set data_dir (CTSITE_DATA_DIR)",
        )
    started = time.monotonic()
    store = _store(s)
    scope = delete_scope(delete, store)
    jobs = max(1, s.upload_jobs)
    rates = Rates.of(s)
    local = manifest.scan_local(s.data_path, max(2, jobs), lazy=True)
    # an incomplete local store stops here, before any server
    selected, pub = publication.publication(s.data_path, store, local)
    strays = cleanup(s, client, delete=False, confirm=confirm_cleanup, reporter=reporter)
    state = Publishing(pub)
    server_seconds = 0.0
    sent = 0
    planned: Planned | None = None
    result: SyncResult | None = None
    switch = ""
    srv: transfer.EphemeralServer | None = None
    finished = False

    def approve(plan: Planned) -> None:
        check_max_delete(priced(plan, rates, offline=False), max_delete)

    def outcome(restarted: EnvironmentState | None = None) -> UploadResult:
        """The finished upload (its server deleted or not)."""
        assert planned is not None and result is not None
        return UploadResult(
            priced(planned, rates, offline=False),
            result.files_sent,
            result.bytes_sent,
            result.deleted,
            result.retries,
            len(selected),
            time.monotonic() - started,
            server_seconds,
            rates.cost(server_seconds, sent),
            strays,
            restarted,
            switch,
            result.files_read_back,
            result.bytes_read_back,
            result.resent,
        )

    config = server_config(s)
    try:
        with transfer.ephemeral_server(
            config, client, status=reporter.info, warn=reporter.warn
        ) as srv:
            try:
                planned, result, switch = publication.sync_to(
                    srv.endpoint,
                    local,
                    data=s.data_path,
                    store=store,
                    remote_root=s.remote_data_dir,
                    scope=scope,
                    jobs=jobs,
                    keep=s.compile_keep_versions,
                    stall_timeout=s.sftp_stall_timeout,
                    progress=reporter,
                    approve=approve,
                    trust_remote=trust_remote,
                    break_lock=break_lock,
                    state=state,
                )
                sent = result.bytes_sent + result.bytes_read_back
            finally:
                server_seconds = srv.elapsed
        finished = True
    except CtsiteError as exc:
        left = srv.delete_error if srv is not None else None
        if left is None:
            raise
        if exc is not left:  # the upload failed, and then the deletion too
            raise _server_left(left, state, exc) from None
        error = _server_left(left, state, None)
        error.result = outcome()
        raise error from None
    except KeyboardInterrupt as stop:
        said = f"{state.site()}; re-run to finish"
        left = srv.delete_error if srv is not None else None
        if left is not None:
            said += f"; but {left.message} ({left.hint})"
        raise lifecycle.with_outcome(stop, said) from None
    except BaseException:
        if srv is not None and srv.delete_error is not None:  # never lost with a bug's error
            reporter.warn(f"{srv.delete_error.message} ({srv.delete_error.hint})")
        raise
    finally:
        if not finished:  # on success: in the result
            _report_server_time(rates, reporter, srv, server_seconds, sent)
    restarted = None
    if restart:  # the site reloads the new data
        from ctsite.deploy.environment.restart import restart_environment

        restarted = restart_environment(s, client, reporter=reporter, why="to load the new data")
    return outcome(restarted)


def _report_server_time(
    rates: Rates,
    reporter: Reporter,
    srv: transfer.EphemeralServer | None,
    server_seconds: float,
    sent: int,
) -> None:
    """After a failed or stopped upload: the server time it cost (on success: in the result)."""
    if server_seconds and srv is not None and srv.deleted:
        cost = rates.cost(server_seconds, sent)
        reporter.info(
            f"server time {server_seconds / 60:.1f} min, estimated cost {money(cost)} "
            "(server deleted)"
        )

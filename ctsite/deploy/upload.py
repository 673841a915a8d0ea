"""The `ctsite upload-data` workflow: sync data/ to EFS through an ephemeral Transfer server.

`plan_offline_upload` is the dry run (from the manifest of the last successful upload, nothing
contacted; it says when there is no such record), `cleanup` finds (and deletes) servers left
behind by crashed runs — never one whose upload is alive, unless forced — and `upload_data`
runs the whole upload: stray check → ephemeral server → SFTP plan → deletion limit → parallel
sync → verify → server deleted → (optionally) restart the app servers. Every flag is a parameter.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from ctsite.aws import transfer
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.deploy import EnvironmentState
from ctsite.deploy.release_plan import ASSUMED_BYTES_PER_S, assumed_seconds
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.errors import CtsiteError
from ctsite.formatting import money
from ctsite.store import format as fmt


def delete_scope(s: Settings, delete: bool | None) -> list[str]:
    """Relative prefixes under which remote files missing locally are deleted."""
    if delete is False:
        return []
    if delete is True:
        return [""]
    rel = store_rel(s)
    return [] if rel is None else [rel]  # compiled/ outside data/: nothing deleted by default


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


def _plan(
    s: Settings,
    plan: Any,
    scope: list[str],
    offline: bool,
    store: Any = None,
    rehash: list[Any] | None = None,
    pub: Any = None,
    trust_remote: bool = False,
) -> UploadPlan:
    """The priced plan. `rehash`: the version's files already on the remote (re-read and
    re-hashed unless `plan.checks` is empty: --trust-remote); every file of the version `pub`
    that is sent is read back too. Reading back is priced like sending (link time, per GB)."""
    rehash = rehash or []
    read_back = _read_back_rule(pub)
    sent_back = [f for f in plan.uploads if read_back(f.rel)]
    back_bytes = sum(f.size for f in sent_back) + plan.check_bytes
    moved = plan.upload_bytes + back_bytes
    seconds = assumed_seconds(moved)
    rehash_bytes = sum(f.size for f in rehash)
    rehash_seconds = rehash_bytes / ASSUMED_BYTES_PER_S
    return UploadPlan(
        len(plan.uploads),
        plan.upload_bytes,
        list(plan.deletions),
        plan.unchanged,
        scope,
        seconds,
        transfer.estimate_cost(s, seconds, moved),
        offline,
        version=store.pointer.version if store else None,
        remote_version=store.old.version if store and store.old else None,
        pruned=list(store.pruned) if store else [],
        store_deletions=len(store.deletions) if store else 0,
        read_back_files=len(sent_back) + len(plan.checks),
        read_back_bytes=back_bytes,
        rehash_files=len(rehash),
        rehash_bytes=rehash_bytes,
        rehash_seconds=rehash_seconds,
        rehash_cost=transfer.estimate_cost(s, rehash_seconds, rehash_bytes),
        trust_remote=trust_remote,
    )


def _read_back_rule(pub: Any) -> Callable[[str], bool]:
    from ctsite.sftp import publish

    return publish.read_back_rule(pub)


def store_rel(s: Settings) -> str | None:
    """The compiled store's folder relative to the data folder ("" for the folder itself);
    None when it lies outside. Inside by its path as configured (a symlinked store folder
    below data/ is followed: the upload reads through the link) or once both are resolved."""
    data, compiled = s.data_path.absolute(), s.compiled_path.absolute()
    for inner, outer in ((compiled, data), (compiled.resolve(), data.resolve())):
        try:
            rel = Path(os.path.normpath(inner)).relative_to(os.path.normpath(outer))
        except ValueError:
            continue
        return PurePosixPath(*rel.parts).as_posix() if rel.parts else ""
    return None


def check_store_inside(s: Settings) -> None:
    """Refuse an upload that would leave the store behind: the site reads the store from the
    uploaded folder, so a compiled store outside data_dir would never be published (the upload
    would send data/ alone and report success while the site keeps its old data)."""
    if store_rel(s) is None and s.compiled_path.exists():
        raise CtsiteError(
            f"the compiled store {s.compiled_path} is outside the uploaded folder "
            f"{s.data_path}: upload-data would not publish it; nothing was sent",
            hint='set compiled_dir under data_dir (e.g. compiled_dir = "data/compiled"), '
            "then run `ctsite compile`; a store kept elsewhere can be linked in "
            "(data/compiled a symlink to it)",
            exit_code=2,
        )


def publication(s: Settings, local: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(the local files to send, the store version they publish — None: a plain sync)."""
    from ctsite.sftp import publish

    rel = store_rel(s)
    pub = publish.local_version(s.data_path, rel) if rel is not None else None
    if pub is None:
        return local, None
    return publish.select_local(local, pub), pub


def manifest_record(local: dict[str, Any], pub: Any) -> Any:
    """The local manifest file of the version `pub`, with its digest (for the sync record)."""
    import hashlib

    found = local[pub.manifest_rel]
    return dataclasses.replace(found, sha256=hashlib.sha256(pub.manifest).hexdigest())


def publish_plan(
    s: Settings,
    plan: Any,
    pub: Any,
    scope: list[str],
    old: Any,
    objects_of: Any,
    trust_remote: bool = False,
) -> tuple[Any, Any, list[Any]]:
    """(the sync plan of publishing `pub`, its store plan, the version's files already on the
    remote) against the remote pointer `old` (None: unknown) and `objects_of` (what a kept
    remote version names); one rule for the dry run and the real upload. The files already on
    the remote are re-read and re-hashed before the switch (the plan's `checks`) unless
    `trust_remote`."""
    from ctsite.sftp import publish, sync

    keep, leftovers = s.compile_keep_versions, sync.in_scope(pub.store, scope)
    store = publish.plan_store(pub, plan.remote_files, old, objects_of, keep, leftovers)
    plan = publish.apply(plan, store, pub)
    rehash = list(plan.checks)
    if trust_remote:
        plan = dataclasses.replace(plan, checks=[])
    return plan, store, rehash


def plan_offline_upload(
    s: Settings, delete: bool | None = None, trust_remote: bool = False
) -> UploadPlan:
    """The dry run: the plan against the manifest of the last successful upload."""
    from ctsite.sftp import sync
    from ctsite.sftp.manifest import MANIFEST, scan_local
    from ctsite.store import versions

    check_store_inside(s)
    scope = delete_scope(s, delete)
    jobs = max(2, s.upload_jobs)
    local, pub = publication(s, scan_local(s.data_path, jobs))
    plan = sync.plan_offline(s.data_path, jobs, scope, local)
    store = None
    rehash: list[Any] = []
    if pub is not None:
        store_dir = s.data_path / pub.store

        def objects_of(version: str) -> set[str] | None:  # from the local copy, if kept
            try:
                return versions.objects_named(
                    (store_dir / fmt.VERSIONS_DIR / version / fmt.MANIFEST).read_bytes()
                )
            except OSError:
                return None

        plan, store, rehash = publish_plan(s, plan, pub, scope, None, objects_of, trust_remote)
    planned = _plan(s, plan, scope, True, store, rehash, pub, trust_remote)
    return dataclasses.replace(planned, has_record=(s.data_path / MANIFEST).is_file())


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
            transfer.disarm_safety_net(client, server.server_id)
            deleted.append(server.server_id)
    elif servers:
        reporter.warn("left in place; delete them with `ctsite upload-data --cleanup`")
    return CleanupResult(servers, deleted, s.transfer_max_age_hours)


@dataclasses.dataclass
class Publishing:
    """How far a publish got, filled in as it goes: the store version it publishes (`pub`),
    the store plan (the remote pointer before and after) and the commit step (whether the new
    pointer is live). Read when the upload fails, is stopped or leaves its server behind, to
    say which version the site serves."""

    pub: Any = None
    store: Any = None
    commit: Any = None

    def site(self) -> str:
        """Which version the site serves now, in a few words."""
        commit, store = self.commit, self.store
        if commit is not None and commit.live:
            line = f"the site now serves version {self.pub.version}"
            if commit.only_next:
                line += (
                    f" (its pointer is {fmt.POINTER_NEXT} until a re-run restores "
                    f"{fmt.POINTER}; readers use it meanwhile)"
                )
            return line
        if store is not None:
            was = store.old.version if store.old else None
            return (
                f"the site still serves version {was} (unchanged)"
                if was
                else "no version went live"
            )
        if self.pub is None:  # a tree without a store: files take their names as they finish
            return "the remote keeps the files confirmed so far"
        return "the site is unchanged"


def _seconds_ago(when: Any) -> float:
    from datetime import UTC, datetime

    return max(0.0, (datetime.now(UTC) - when).total_seconds())


def sync_to(
    s: Settings,
    endpoint: Any,
    local: dict[str, Any],
    scope: list[str],
    jobs: int,
    *,
    reporter: Reporter = NULL,
    max_delete: int | None = None,
    trust_remote: bool = False,
    break_lock: bool = False,
    state: Publishing | None = None,
) -> tuple[UploadPlan, Any, str]:
    """Sync the scanned local tree to an SFTP endpoint (any server, no AWS): plan against the
    remote, publish the store's current version beside the live one, confirm, switch, prune.
    Returns (the plan, the sync result, how the pointer was switched: "rename", "fallback",
    or "" when it already named the version).

    Every file of the version sent is read back and its SHA-256 confirmed before it takes its
    name; the version's files already on the remote are re-read and re-hashed before the switch
    (one that differs is sent again) unless `trust_remote`. Files outside the store are
    confirmed by every write's answer and their size. A failure says whether the new version
    went live (the pointer was switched) or the live one is unchanged; `state` records how far
    it got, for the caller.

    One upload at a time: the remote store's upload lock (`ctsite.sftp.lock`) is held from the
    plan to the prune, and the pointer switch and the prune happen only while it is still ours;
    `break_lock` takes over a lock silent for longer than its stale time.
    """
    from ctsite.sftp import client as sftp
    from ctsite.sftp import publish, sync
    from ctsite.sftp.lock import UploadLock, lock_folder

    state = Publishing() if state is None else state
    selected, pub = publication(s, local)
    state.pub = pub
    root = s.remote_data_dir
    lock = UploadLock(
        lambda: sftp.open_session(endpoint, attempts=2),
        lock_folder(root, pub.store if pub is not None else None),
        break_stale=break_lock,
        warn=reporter.warn,
    )
    with lock:
        first = sftp.open_session(endpoint)
        plan, remote_manifest = sync.plan_remote(
            first, selected, root, scope, s.data_path, max(2, jobs)
        )
        rehash: list[Any] = []
        if pub is not None:
            old = publish.read_remote_pointer(first, root, pub)
            objects_of = publish.remote_objects_of(first, root, pub)
            plan, state.store, rehash = publish_plan(
                s, plan, pub, scope, old, objects_of, trust_remote
            )
            record = manifest_record(local, pub)
            if trust_remote:
                remote_has = plan.remote_files.get(pub.manifest_rel) == record.size
            else:
                remote_has = publish.remote_manifest_is(first, root, pub)
            settled = publish.pointer_settled(first, root, pub, old)
            state.commit = publish.CommitStep(pub, state.store, root, record, remote_has, settled)
        planned = _plan(s, plan, scope, False, state.store, rehash, pub, trust_remote)
        reporter.info(
            f"plan: {planned.files} file(s) to send, {len(planned.deletions)} remote "
            f"file(s) to delete, {planned.unchanged} unchanged"
        )
        check_max_delete(planned, max_delete)
        work = plan.upload_bytes + planned.read_back_bytes
        reporter.task("upload", "upload and confirm", work or None)
        try:
            result = sync.sync_tree(
                lambda: sftp.connect(endpoint),
                s.data_path,
                root,
                plan,
                remote_manifest,
                jobs=jobs,
                on_bytes=lambda n: reporter.advance("upload", n),
                main=first,
                stall_timeout=s.sftp_stall_timeout,
                commit=state.commit,
                read_back=publish.read_back_rule(pub),
                guard=lock.check,
            )
        except CtsiteError as exc:
            raise _where_the_site_is(exc, state) from None
        finally:
            reporter.done()
    return planned, result, state.commit.how if state.commit is not None else ""


def _where_the_site_is(exc: CtsiteError, state: Publishing) -> CtsiteError:
    """`exc` (a failed publish) saying which version the site serves now: the new one once the
    pointer was switched (a later step failed: pruning, the upload record), else the old one."""
    if state.pub is None or state.store is None:
        return exc
    hint: str | None
    if state.commit is not None and state.commit.live:
        message = f"{state.site()}; {exc.message}"
        hint = "re-run the command to finish; the new version is already live"
    else:
        message, hint = f"{exc.message}; {state.site()}", exc.hint
    return CtsiteError(message, hint=hint, exit_code=exc.exit_code)


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
    re-read the store version's files already on the remote (see `sync_to`); `break_lock`:
    take over a remote upload lock left silent by a stopped upload.

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
    scope = delete_scope(s, delete)
    jobs = max(1, s.upload_jobs)
    local = manifest.scan_local(s.data_path, max(2, jobs), lazy=True)
    selected, pub = publication(s, local)  # an incomplete local store stops here
    strays = cleanup(s, client, delete=False, confirm=confirm_cleanup, reporter=reporter)
    state = Publishing(pub)
    server_seconds = 0.0
    sent = 0
    planned: UploadPlan | None = None
    result: Any = None
    switch = ""
    srv: transfer.EphemeralServer | None = None
    finished = False
    try:
        with transfer.ephemeral_server(s, client, status=reporter.info, warn=reporter.warn) as srv:
            try:
                planned, result, switch = sync_to(
                    s,
                    srv.endpoint,
                    local,
                    scope,
                    jobs,
                    reporter=reporter,
                    max_delete=max_delete,
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
        assert planned is not None and result is not None  # the upload itself finished
        done = _result(s, planned, result, switch, selected, started, server_seconds, sent)
        error = _server_left(left, state, None)
        error.result = dataclasses.replace(done, strays=strays)
        raise error from None
    except KeyboardInterrupt as stop:
        outcome = f"{state.site()}; re-run to finish"
        left = srv.delete_error if srv is not None else None
        if left is not None:
            outcome += f"; but {left.message} ({left.hint})"
        raise lifecycle.with_outcome(stop, outcome) from None
    except BaseException:
        if srv is not None and srv.delete_error is not None:  # never lost with a bug's error
            reporter.warn(f"{srv.delete_error.message} ({srv.delete_error.hint})")
        raise
    finally:
        if not finished:  # on success: in the result
            _report_server_time(s, reporter, srv, server_seconds, sent)
    assert planned is not None and result is not None
    restarted = None
    if restart:  # the site reloads the new data
        from ctsite.deploy.environment.restart import restart_environment

        restarted = restart_environment(s, client, reporter=reporter, why="to load the new data")
    done = _result(s, planned, result, switch, selected, started, server_seconds, sent)
    return dataclasses.replace(done, strays=strays, restarted=restarted)


def _report_server_time(
    s: Settings,
    reporter: Reporter,
    srv: transfer.EphemeralServer | None,
    server_seconds: float,
    sent: int,
) -> None:
    """After a failed or stopped upload: the server time it cost (on success: in the result)."""
    if server_seconds and srv is not None and srv.deleted:
        cost = transfer.estimate_cost(s, server_seconds, sent)
        reporter.info(
            f"server time {server_seconds / 60:.1f} min, estimated cost {money(cost)} "
            "(server deleted)"
        )


def _result(
    s: Settings,
    planned: UploadPlan,
    result: Any,
    switch: str,
    selected: dict[str, Any],
    started: float,
    server_seconds: float,
    sent: int,
) -> UploadResult:
    return UploadResult(
        planned,
        result.files_sent,
        result.bytes_sent,
        result.deleted,
        result.retries,
        len(selected),
        time.monotonic() - started,
        server_seconds,
        transfer.estimate_cost(s, server_seconds, sent),
        CleanupResult([], [], s.transfer_max_age_hours),
        None,
        switch,
        result.files_read_back,
        result.bytes_read_back,
        result.resent,
    )

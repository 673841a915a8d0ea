"""An upload's publication over SFTP, with no AWS in it: the one path from a local tree to a
confirmed, switched and pruned remote, on any SFTP server (the Transfer server of `upload-data`,
the sshd of the tests and the benchmarks).

- `store_rel`: where the compiled store lies in the uploaded folder (None: outside it);
- `publication`: which local files are sent and which store version they publish;
- `publish_plan` (against the remote) and `plan_offline` (a dry run, against the record of the
  last upload): one rule for both, giving a `Planned`;
- `sync_to`: lock, plan, the caller's approval, send and confirm, switch the pointer, prune;
  `Publishing` records how far it got, so a failure says which version the site serves.

Explicit values in (the local folder, where the store lies in it, the remote folder, how many
versions to keep). What may be deleted is `ctsite.sftp.deletions`' rule; what a plan costs is
the workflow's (`ctsite.deploy.upload` prices a `Planned`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Protocol

from ctsite.errors import CtsiteError
from ctsite.sftp import client as sftp
from ctsite.sftp import publish, sync
from ctsite.sftp.client import Endpoint
from ctsite.sftp.deletions import in_scope
from ctsite.sftp.lock import UploadLock, lock_folder
from ctsite.sftp.manifest import LocalFile, scan_local
from ctsite.sftp.plan import Plan
from ctsite.sftp.publish import CommitStep, LocalVersion, StorePlan
from ctsite.store import format as fmt
from ctsite.store import versions


class Progress(Protocol):
    """What `sync_to` reports as it goes (a workflow's `Reporter` is one)."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def task(self, key: str, description: str, total: float | None) -> None: ...

    def advance(self, key: str, amount: float) -> None: ...

    def done(self) -> None: ...


def store_rel(data: Path, compiled: Path) -> str | None:
    """The compiled store's folder `compiled` relative to the uploaded folder `data` ("" for the
    folder itself); None when it lies outside. Inside by its path as configured (a symlinked
    store folder below data/ is followed: the upload reads through the link) or once both are
    resolved."""
    data, compiled = data.absolute(), compiled.absolute()
    for inner, outer in ((compiled, data), (compiled.resolve(), data.resolve())):
        try:
            rel = Path(os.path.normpath(inner)).relative_to(os.path.normpath(outer))
        except ValueError:
            continue
        return PurePosixPath(*rel.parts).as_posix() if rel.parts else ""
    return None


def publication(
    data: Path, store: str | None, local: dict[str, LocalFile]
) -> tuple[dict[str, LocalFile], LocalVersion | None]:
    """(the local files to send, the store version they publish — None: a plain sync) of the
    scanned tree `local` of `data`, whose store lies at `store` (None: outside it). An
    incomplete local store version stops here (a CtsiteError, nothing sent)."""
    pub = publish.local_version(data, store) if store is not None else None
    if pub is None:
        return local, None
    return publish.select_local(local, pub), pub


def manifest_record(local: dict[str, LocalFile], pub: LocalVersion) -> LocalFile:
    """The local manifest file of the version `pub`, with its digest (for the sync record)."""
    found = local[pub.manifest_rel]
    return dataclasses.replace(found, sha256=pub.manifest_digest)


@dataclasses.dataclass(frozen=True)
class Planned:
    """A publication's plan, before anything is sent: the sync plan, the delete scope it was
    made with, and for a store version the version (`pub`), its store plan and its files
    already on the remote (`rehash`: re-read and re-hashed before the switch unless
    `trust_remote`, in which case the sync plan's `checks` are empty)."""

    plan: Plan
    scope: list[str]
    pub: LocalVersion | None = None
    store: StorePlan | None = None
    rehash: list[LocalFile] = dataclasses.field(default_factory=list)
    trust_remote: bool = False

    @property
    def sent_back(self) -> list[LocalFile]:
        """The files sent whose SHA-256 is read back (those of the store version)."""
        rule = publish.read_back_rule(self.pub)
        return [f for f in self.plan.uploads if rule(f.rel)]

    @property
    def read_back_files(self) -> int:
        """Files read back to confirm the version: those sent, and the remote copies checked."""
        return len(self.sent_back) + len(self.plan.checks)

    @property
    def read_back_bytes(self) -> int:
        return sum(f.size for f in self.sent_back) + self.plan.check_bytes

    @property
    def rehash_bytes(self) -> int:
        return sum(f.size for f in self.rehash)


def publish_plan(
    plan: Plan,
    pub: LocalVersion,
    scope: list[str],
    old: versions.Pointer | None,
    objects_of: Callable[[str], set[str] | None],
    keep: int,
    trust_remote: bool = False,
) -> Planned:
    """The plan of publishing `pub` (keeping `keep` versions) from the tree sync's `plan`,
    against the remote pointer `old` (None: unknown) and `objects_of` (what a kept remote
    version names); one rule for the dry run and the real upload. The version's files already
    on the remote are re-read and re-hashed before the switch (the plan's `checks`) unless
    `trust_remote`. Leftovers in the store are deleted only when its folder is in `scope`."""
    leftovers = in_scope(pub.store, scope)
    store = publish.plan_store(pub, plan.remote_files, old, objects_of, keep, leftovers)
    plan = publish.apply(plan, store, pub)
    rehash = list(plan.checks)
    if trust_remote:
        plan = dataclasses.replace(plan, checks=[])
    return Planned(plan, scope, pub, store, rehash, trust_remote)


def local_objects_of(data: Path, pub: LocalVersion) -> Callable[[str], set[str] | None]:
    """`objects_of` for `publish_plan` from the local copy of each version (None: not kept)."""
    store_dir = data / pub.store

    def objects_of(version: str) -> set[str] | None:
        try:
            return versions.objects_named(
                (store_dir / fmt.VERSIONS_DIR / version / fmt.MANIFEST).read_bytes()
            )
        except OSError:
            return None

    return objects_of


def plan_offline(
    data: Path,
    store: str | None,
    scope: list[str],
    jobs: int,
    keep: int,
    trust_remote: bool = False,
) -> Planned:
    """The dry run's plan: against the manifest of the last successful upload (nothing
    contacted; before a first upload the remote is assumed empty)."""
    local, pub = publication(data, store, scan_local(data, jobs))
    plan = sync.plan_offline(data, jobs, scope, local)
    if pub is None:
        return Planned(plan, scope, trust_remote=trust_remote)
    return publish_plan(plan, pub, scope, None, local_objects_of(data, pub), keep, trust_remote)


@dataclasses.dataclass
class Publishing:
    """How far a publish got, filled in as it goes: the store version it publishes (`pub`),
    the store plan (the remote pointer before and after) and the commit step (whether the new
    pointer is live). Read when the upload fails, is stopped or leaves its server behind, to
    say which version the site serves."""

    pub: LocalVersion | None = None
    store: StorePlan | None = None
    commit: CommitStep | None = None

    def site(self) -> str:
        """Which version the site serves now, in a few words."""
        commit, store = self.commit, self.store
        if commit is not None and commit.live:
            line = f"the site now serves version {commit.pub.version}"
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


def sync_to(
    endpoint: Endpoint,
    local: dict[str, LocalFile],
    *,
    data: Path,
    store: str | None,
    remote_root: str,
    scope: list[str],
    jobs: int,
    keep: int,
    stall_timeout: float,
    progress: Progress,
    approve: Callable[[Planned], None] = lambda _planned: None,
    trust_remote: bool = False,
    break_lock: bool = False,
    state: Publishing | None = None,
) -> tuple[Planned, sync.SyncResult, str]:
    """Sync the scanned tree `local` of `data` (its store at `store`) to `remote_root` on an
    SFTP endpoint: plan against the remote, let the caller `approve` the plan (it raises to
    stop before anything is sent or deleted), publish the store's current version beside the
    live one, confirm, switch, prune (keeping `keep` versions). Returns (the plan, the sync
    result, how the pointer was switched: "rename", "fallback", or "" when it already named the
    version).

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
    state = Publishing() if state is None else state
    selected, pub = publication(data, store, local)
    state.pub = pub
    lock = UploadLock(
        lambda: sftp.open_session(endpoint, attempts=2),
        lock_folder(remote_root, pub.store if pub is not None else None),
        break_stale=break_lock,
        warn=progress.warn,
    )
    with lock:
        first = sftp.open_session(endpoint)
        plan, remote_manifest = sync.plan_remote(
            first, selected, remote_root, scope, data, max(2, jobs)
        )
        planned = Planned(plan, scope, trust_remote=trust_remote)
        if pub is not None:
            old = publish.read_remote_pointer(first, remote_root, pub)
            objects_of = publish.remote_objects_of(first, remote_root, pub)
            planned = publish_plan(plan, pub, scope, old, objects_of, keep, trust_remote)
            state.store = planned.store
            assert planned.store is not None  # a publish always has its store plan
            record = manifest_record(local, pub)
            if trust_remote:
                remote_has = planned.plan.remote_files.get(pub.manifest_rel) == record.size
            else:
                remote_has = publish.remote_manifest_is(first, remote_root, pub)
            settled = publish.pointer_settled(first, remote_root, pub, old)
            state.commit = CommitStep(pub, planned.store, remote_root, record, remote_has, settled)
        plan = planned.plan
        progress.info(
            f"plan: {len(plan.uploads)} file(s) to send, {len(plan.deletions)} remote "
            f"file(s) to delete, {plan.unchanged} unchanged"
        )
        approve(planned)
        work = plan.upload_bytes + planned.read_back_bytes
        progress.task("upload", "upload and confirm", work or None)
        try:
            result = sync.sync_tree(
                lambda: sftp.connect(endpoint),
                data,
                remote_root,
                plan,
                remote_manifest,
                jobs=jobs,
                on_bytes=lambda n: progress.advance("upload", n),
                main=first,
                stall_timeout=stall_timeout,
                commit=state.commit,
                read_back=publish.read_back_rule(pub),
                guard=lock.check,
            )
        except CtsiteError as exc:
            raise _where_the_site_is(exc, state) from None
        finally:
            progress.done()
    return planned, result, state.commit.how if state.commit is not None else ""

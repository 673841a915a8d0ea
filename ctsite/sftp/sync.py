"""Incremental SFTP tree sync (plan → transfer → verify), independent of AWS.

A file is re-sent when it is new locally, its SHA-256 differs from the remote manifest (see
`ctsite.sftp.manifest`), or the remote size disagrees, so EFS/SFTP mtimes never matter.
Files are written to a temporary name and renamed into place by several worker processes (one
SFTP connection each), transient errors are retried with back-off, the manifest is checkpointed
as files finish, and a final listing verifies every size.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import posixpath
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ctsite.errors import CtsiteError
from ctsite.lifecycle import die_with_parent
from ctsite.sftp.client import (
    TEMP_MARK,
    TRANSIENT,
    WRITE_SIZE,
    Connect,
    Reconnecting,
    list_remote,
    mkdirs,
    put_bytes,
    replace,
    temp_name,
)
from ctsite.sftp.manifest import (
    CHUNK,
    MANIFEST,
    Entries,
    LocalFile,
    hash_some,
    manifest_bytes,
    read_local_manifest,
    read_remote_manifest,
    scan_local,
    write_local_manifest,
)

# The commit step of a sync: runs on the main session after the verified uploads, before any
# deletion; returns the files it wrote (recorded in the manifest).
Commit = Callable[[Any], dict[str, LocalFile]]


@dataclasses.dataclass
class Plan:
    """What a sync will do: files to send, remote files to delete, leftovers to clean."""

    uploads: list[LocalFile]
    deletions: list[str]
    stale_temps: list[str]
    unchanged: int
    local: dict[str, LocalFile]
    remote_dirs: set[str]
    scope: list[str] = dataclasses.field(default_factory=list)  # where deleting is allowed
    remote_files: dict[str, int] = dataclasses.field(default_factory=dict)  # the listing used

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.uploads)


@dataclasses.dataclass
class SyncResult:
    files_sent: int = 0
    bytes_sent: int = 0
    deleted: int = 0
    seconds: float = 0.0
    retries: int = 0


# ---------------------------------------------------------------- planning


def in_scope(rel: str, delete_under: Iterable[str]) -> bool:
    return any(
        p in {"", "."} or rel == p or rel.startswith(p.rstrip("/") + "/") for p in delete_under
    )


def make_plan(
    local: dict[str, LocalFile],
    remote_files: dict[str, int],
    remote_dirs: set[str],
    manifest: Entries,
    delete_under: Iterable[str] = ("",),
) -> Plan:
    """Pure: compare local files with the remote listing and manifest."""
    scope = list(delete_under)
    uploads: list[LocalFile] = []
    for f in local.values():
        known = manifest.get(f.rel)
        same = known is not None and known["size"] == f.size and known["sha256"] == f.sha256
        if not (same and remote_files.get(f.rel) == f.size):
            uploads.append(f)
    temps = sorted(r for r in remote_files if TEMP_MARK in posixpath.basename(r))
    deletions = sorted(
        r
        for r in remote_files
        if r not in local and r != MANIFEST and TEMP_MARK not in r and in_scope(r, scope)
    )
    unchanged = len(local) - len(uploads)
    return Plan(
        uploads, deletions, temps, unchanged, local, set(remote_dirs), scope, dict(remote_files)
    )


def plan_offline(
    root: Path, jobs: int, delete_under: Iterable[str], local: dict[str, LocalFile] | None = None
) -> Plan:
    """A plan from the local manifest copy alone (for --dry-run: no connection needed);
    `local`: the files to send (default: every file under `root`)."""
    local = scan_local(root, jobs) if local is None else local
    manifest = read_local_manifest(root)
    remote = {k: v["size"] for k, v in manifest.items()}
    return make_plan(local, remote, set(), manifest, delete_under)


def plan_remote(
    sftp: Any,
    local: dict[str, LocalFile],
    remote_root: str,
    delete_under: Iterable[str],
    local_root: Path | None = None,
    jobs: int = 2,
) -> tuple[Plan, Entries]:
    """The plan against the live remote tree, plus the remote manifest it used.

    Files scanned lazily (no digest yet) are hashed here only if the comparison needs it: the
    manifest knows them and sizes agree. Others will be sent, and hashed as they are read.
    """
    files, dirs = list_remote(sftp, remote_root)
    manifest = read_remote_manifest(sftp, remote_root)
    compare = [
        f
        for f in local.values()
        if not f.sha256
        and manifest.get(f.rel, {}).get("size") == f.size
        and files.get(f.rel) == f.size
    ]
    if compare:
        if local_root is None:
            raise ValueError("lazily scanned files need local_root to be hashed")
        local = {**local, **{f.rel: f for f in hash_some(local_root, compare, jobs)}}
    return make_plan(local, files, dirs, manifest, delete_under), manifest


# ---------------------------------------------------------------- transfer


def _is_permanent(exc: BaseException) -> bool:
    """Errors a retry cannot fix: permissions, a full disk or quota."""
    return isinstance(exc, PermissionError | CtsiteError) or (
        isinstance(exc, OSError)
        and getattr(exc, "errno", None) in {errno.EACCES, errno.ENOSPC, errno.EDQUOT}
    )


def sync_tree(
    connect: Connect,
    local_root: Path,
    remote_root: str,
    plan: Plan,
    manifest: Entries,
    jobs: int = 4,
    on_bytes: Callable[[int], None] | None = None,
    retries: int = 4,
    backoff: float = 0.5,
    main: Any = None,
    checkpoint_every: float = 30.0,
    stall_timeout: float = 60.0,
    commit: Commit | None = None,
) -> SyncResult:
    """Execute a plan: upload (temp + rename), delete, verify sizes, write the manifest.

    With `commit`, the uploads are verified first, then `commit(sftp)` runs (the publish of a
    store version: its manifest and the pointer switch) and only then are files deleted; the
    files it wrote (returned) are recorded in the manifest too.

    `connect` opens one more SFTP session (one per upload thread); `main`, if given, is an
    open session to reuse for the listing, deletions and manifest. While uploading, the remote
    manifest is rewritten every `checkpoint_every` seconds with the files finished so far, so a
    run that dies (even with the link) resumes where it stopped. A link that makes no progress
    for `stall_timeout` seconds gives up (retries included) with one line.
    """
    run = _Run(connect, local_root, remote_root, plan, manifest, on_bytes, retries, backoff)
    run.stall_timeout = stall_timeout
    run.commit = commit
    if main is not None:
        run.boss.sftp = main
    return run.execute(jobs, checkpoint_every)


class _Run:
    """One execution of a plan: the state shared by the upload threads and the main one."""

    def __init__(
        self,
        connect: Connect,
        local_root: Path,
        remote_root: str,
        plan: Plan,
        manifest: Entries,
        on_bytes: Callable[[int], None] | None,
        retries: int,
        backoff: float,
    ):
        self.connect = connect
        self.local_root = local_root
        self.remote_root = remote_root
        self.plan = plan
        self.manifest = manifest
        self.on_bytes = on_bytes or (lambda _n: None)
        self.retries = retries
        self.backoff = backoff
        self.result = SyncResult()
        # what the remote manifest may claim at any moment: still-valid old entries + finished
        self.entries = {k: v for k, v in manifest.items() if k in plan.local}
        self.finished: dict[str, LocalFile] = {}  # sent files as actually read, with digests
        self.abandoned: list[str] = []  # temp files of failed attempts
        self.boss = Reconnecting(connect)  # the main thread's session
        self.uploader = Reconnecting(connect)  # a worker process's session
        self.stall_timeout = 60.0
        self.progress = time.monotonic()  # the last time bytes moved or a step finished
        self.commit: Commit | None = None
        self.committed: dict[str, LocalFile] = {}  # files the commit step wrote

    def give_up_if_stalled(self, exc: BaseException) -> None:
        """After a failure: stop retrying once nothing has moved for stall_timeout seconds."""
        idle = time.monotonic() - self.progress
        if idle >= self.stall_timeout:
            raise CtsiteError(
                f"the SFTP link made no progress for {idle:.0f} s ({type(exc).__name__}: "
                f"{exc or 'no answer'}); giving up",
                hint="check the network and re-run: finished files are kept and not sent "
                "again (sftp_stall_timeout sets how long a stalled link is waited for)",
            ) from None

    def remote(self, rel: str) -> str:
        return posixpath.join(self.remote_root, rel)

    def execute(self, jobs: int, checkpoint_every: float) -> SyncResult:
        started = time.monotonic()
        try:
            self.on_main(self.prepare)
            self.upload_all(jobs, checkpoint_every)
            if self.commit is not None:
                sent = {**self.plan.local, **self.finished}
                self.on_main(lambda sftp: verify(sftp, self.remote_root, sent))
                self.on_main(self.run_commit)
            self.on_main(self.delete)
            self.result.deleted = len(self.plan.deletions)
            current = {**self.plan.local, **self.finished, **self.committed}
            if any(not f.sha256 for f in current.values()):
                raise RuntimeError("bug: a file was neither hashed nor sent")
            self.on_main(lambda sftp: self.finish(sftp, current))
            write_local_manifest(self.local_root, current)
        except BaseException:
            _checkpoint(self.boss.sftp, self.remote_root, self.entries)
            raise
        finally:
            self.boss.reset()
            self.result.seconds = time.monotonic() - started
        return self.result

    # -- main-thread steps

    def on_main(self, step: Callable[[Any], None]) -> None:
        """Run a main-session step, reconnecting and retrying on transient errors."""
        for attempt in range(self.retries + 1):
            try:
                step(self.boss.get())
                self.progress = time.monotonic()
                return
            except TRANSIENT as exc:
                self.give_up_if_stalled(exc)
                if _is_permanent(exc) or attempt == self.retries:
                    raise CtsiteError(
                        f"SFTP operation failed: {exc}",
                        hint="re-run the command: finished files are kept and not sent again",
                    ) from None
                self.result.retries += 1
                self.boss.reset()
                time.sleep(self.backoff * 2**attempt)

    def run_commit(self, sftp: Any) -> None:
        assert self.commit is not None
        self.committed = dict(self.commit(sftp))
        for f in self.committed.values():
            self.entries[f.rel] = {"size": f.size, "sha256": f.sha256}

    def prepare(self, sftp: Any) -> None:
        for temp in self.plan.stale_temps:
            try:
                sftp.remove(self.remote(temp))
            except OSError:
                pass
        mkdirs(sftp, self.remote_root, [""], set())
        wanted = {posixpath.dirname(f.rel) for f in self.plan.uploads} - {""}
        mkdirs(sftp, self.remote_root, wanted, set(self.plan.remote_dirs))

    def delete(self, sftp: Any) -> None:
        for rel in self.plan.deletions:
            try:
                sftp.remove(self.remote(rel))
            except FileNotFoundError:
                pass
            self.entries.pop(rel, None)
        _remove_empty_dirs(sftp, self.remote_root, self.plan)

    def finish(self, sftp: Any, current: dict[str, LocalFile]) -> None:
        for tmp in self.abandoned:
            try:
                sftp.remove(tmp)
            except OSError:
                pass
        verify(sftp, self.remote_root, current)
        final = {f.rel: {"size": f.size, "sha256": f.sha256} for f in current.values()}
        if final != self.manifest:
            put_bytes(sftp, self.remote(MANIFEST), manifest_bytes(final))

    def upload_all(self, jobs: int, checkpoint_every: float) -> None:
        """Send every planned file from `jobs` worker processes, largest files first.

        Workers are forked, so the private key reaches them in memory only; they talk to this
        process over pipes in JSON. Processes (not threads) because paramiko's per-packet work
        holds the GIL: one process saturates a core long before the link does. The manifest
        is checkpointed as files finish.
        """
        if not self.plan.uploads:
            return
        ctx = multiprocessing.get_context("fork")
        queue = sorted(self.plan.uploads, key=lambda f: f.size)  # pop() takes the largest
        children: dict[Any, Any] = {}  # our end of a worker's pipe -> the worker process
        try:
            for _ in range(min(max(1, jobs), len(queue))):
                ours, theirs = ctx.Pipe()
                proc = ctx.Process(target=self._child, args=(theirs, os.getpid()), daemon=True)
                proc.start()
                theirs.close()
                children[ours] = proc
            saved, dirty = time.monotonic(), False
            while children:
                for conn in multiprocessing.connection.wait(list(children), timeout=1.0):
                    busy, finished = self._handle(conn, queue)
                    dirty = dirty or finished
                    if not busy:
                        children.pop(conn).join()
                if dirty and time.monotonic() - saved >= checkpoint_every:
                    _checkpoint(self.boss.sftp, self.remote_root, dict(self.entries))
                    saved, dirty = time.monotonic(), False
        finally:
            for proc in children.values():
                proc.terminate()  # dies at once; its temp file is swept by the next run
            for conn, proc in children.items():
                proc.join(5)
                conn.close()

    def _handle(self, conn: Any, queue: list[LocalFile]) -> tuple[bool, bool]:
        """One message from a worker: (worker still busy, a file just finished)."""
        try:
            msg = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            raise CtsiteError(
                "an upload worker process died unexpectedly",
                hint="re-run the command: finished files are kept and not sent again",
            ) from None
        if "bytes" in msg:
            self.on_bytes(int(msg["bytes"]))
            return True, False
        if "error" in msg:
            raise CtsiteError(str(msg["error"]), hint=msg.get("hint"))
        if "done" in msg:
            f = self.plan.local[msg["done"]]
            size, sha = int(msg["size"]), str(msg["sha256"])
            self.finished[f.rel] = dataclasses.replace(f, size=size, sha256=sha)
            self.entries[f.rel] = {"size": size, "sha256": sha}
            self.result.files_sent += 1
            self.result.bytes_sent += size
            self.result.retries += int(msg["retries"])
            self.abandoned += [str(t) for t in msg["abandoned"]]
        if queue:  # "ready" or "done": hand out the next file
            conn.send_bytes(json.dumps({"file": queue.pop().rel}).encode())
            return True, "done" in msg
        conn.send_bytes(b'{"stop": true}')
        return False, "done" in msg

    def _child(self, conn: Any, parent: int) -> None:
        """A worker process: upload the files handed out, report progress and each result."""
        die_with_parent(parent)  # even a SIGKILLed parent takes its workers with it
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

        def tell(msg: dict[str, Any]) -> None:
            conn.send_bytes(json.dumps(msg).encode())

        self.on_bytes = lambda n: tell({"bytes": n})
        try:
            tell({"ready": True})
            while "file" in (msg := json.loads(conn.recv_bytes())):
                f = self.plan.local[msg["file"]]
                self.result.retries, self.abandoned = 0, []
                self.send(f)
                sent = self.finished[f.rel]
                tell(
                    {
                        "done": f.rel,
                        "size": sent.size,
                        "sha256": sent.sha256,
                        "retries": self.result.retries,
                        "abandoned": self.abandoned,
                    }
                )
        except CtsiteError as exc:
            tell({"error": exc.message, "hint": exc.hint})
        except Exception as exc:
            tell({"error": f"upload worker failed: {exc}"})
        finally:
            self.uploader.reset()

    # -- inside a worker process

    def send(self, f: LocalFile) -> None:
        """Upload one file to a temp name, hashing it as it is read, then rename it in place."""
        dest = self.remote(f.rel)
        for attempt in range(self.retries + 1):
            w = self.uploader
            sent = 0
            tmp = temp_name(dest)
            try:
                sftp = w.get()
                digest = hashlib.sha256()
                with (self.local_root / f.rel).open("rb") as src, sftp.open(tmp, "wb") as out:
                    out.set_pipelined(True)
                    out.MAX_REQUEST_SIZE = WRITE_SIZE
                    while block := src.read(CHUNK):
                        out.write(block)
                        digest.update(block)
                        sent += len(block)
                        self.on_bytes(len(block))
                        self.progress = time.monotonic()
                replace(sftp, tmp, dest)
                self.result.files_sent += 1
                self.result.bytes_sent += sent
                sha = digest.hexdigest()
                self.finished[f.rel] = dataclasses.replace(f, size=sent, sha256=sha)
                self.entries[f.rel] = {"size": sent, "sha256": sha}
                return
            except TRANSIENT as exc:
                self.on_bytes(-sent)
                w.reset()
                self.give_up_if_stalled(exc)
                if _is_permanent(exc) or attempt == self.retries:
                    raise CtsiteError(
                        f"upload of {f.rel} failed: {exc}",
                        hint="re-run the command: finished files are kept and not sent again",
                    ) from None
                self.result.retries += 1
                self.abandoned.append(tmp)
                time.sleep(self.backoff * 2**attempt)


def _checkpoint(sftp: Any, remote_root: str, entries: Entries) -> None:
    """Record the files known good so a re-run resumes (best effort)."""
    if sftp is None:
        return
    try:
        put_bytes(sftp, posixpath.join(remote_root, MANIFEST), manifest_bytes(entries))
    except Exception:  # noqa: S110 - the connection may be gone; the re-run re-sends
        pass


def _remove_empty_dirs(sftp: Any, root: str, plan: Plan) -> None:
    local_dirs = {posixpath.dirname(r) for r in plan.local}
    for rel in list(local_dirs):
        while rel:
            rel = posixpath.dirname(rel)
            local_dirs.add(rel)
    gone = {d for d in plan.remote_dirs - local_dirs if in_scope(d, plan.scope)}
    for rel in sorted(gone, key=lambda r: -r.count("/")):
        try:
            sftp.rmdir(posixpath.join(root, rel))
        except OSError:
            pass  # not empty (kept files outside the delete scope) or already gone


def verify(sftp: Any, remote_root: str, local: dict[str, LocalFile]) -> None:
    """Every local file exists remotely with the same size; raise otherwise."""
    files, _ = list_remote(sftp, remote_root)
    bad = [f.rel for f in local.values() if files.get(f.rel) != f.size]
    if bad:
        raise CtsiteError(
            f"verification failed: {len(bad)} remote file(s) missing or of the wrong size "
            f"(first: {bad[0]})",
            hint="re-run the command; the files will be sent again",
        )

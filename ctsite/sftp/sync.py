"""Incremental SFTP tree sync (plan → transfer → confirm → commit → delete), independent of AWS.

The plan (`ctsite.sftp.plan`) says what to send, re-read and delete. Files are written to a
temporary name by several worker processes (one SFTP connection each) and get their final name
only once their bytes on the remote are confirmed: every write's answer read (paramiko's
pipelined writes otherwise drop a refused write), the remote size checked after close, and —
for the files `read_back` names (by default all) — the SHA-256 read back. Files the remote
already holds that the plan lists as `checks` are re-read and re-hashed the same way; one that
differs is sent again. Transient errors are retried with back-off, the manifest is checkpointed
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
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ctsite.errors import CtsiteError
from ctsite.lifecycle import die_with_parent
from ctsite.sftp.client import (
    TRANSIENT,
    WRITE_SIZE,
    Connect,
    Reconnecting,
    list_remote,
    mkdirs,
    put_bytes,
    remove_quietly,
    replace,
    temp_name,
)
from ctsite.sftp.confirm import PipelinedWrites, RemoteMismatch, WriteRefused, confirm, refused
from ctsite.sftp.deletions import empty_dirs
from ctsite.sftp.manifest import (
    CHUNK,
    MANIFEST,
    Entries,
    LocalFile,
    manifest_bytes,
    write_local_manifest,
)
from ctsite.sftp.plan import Plan, make_plan, plan_offline, plan_remote
from ctsite.store.versions import digest as file_digest

__all__ = ["Plan", "SyncResult", "make_plan", "plan_offline", "plan_remote"]

# The commit step of a sync: runs on the main session after the confirmed uploads, before any
# deletion; returns the files it wrote (recorded in the manifest).
Commit = Callable[[Any], dict[str, LocalFile]]
T = TypeVar("T")


@dataclasses.dataclass
class SyncResult:
    files_sent: int = 0
    bytes_sent: int = 0
    deleted: int = 0
    seconds: float = 0.0
    retries: int = 0
    files_read_back: int = 0  # sent files and remote copies whose SHA-256 was read back
    bytes_read_back: int = 0
    resent: int = 0  # remote copies that differed from the local file and were sent again


# ---------------------------------------------------------------- transfer


def _is_permanent(exc: BaseException) -> bool:
    """Errors a retry cannot fix: permissions, a full disk or quota."""
    return isinstance(exc, PermissionError | CtsiteError) or (
        isinstance(exc, OSError)
        and getattr(exc, "errno", None) in {errno.EACCES, errno.ENOSPC, errno.EDQUOT}
    )


def _session_usable(exc: BaseException) -> bool:
    """After `exc`, the session still answers (the server said no; the link is fine), so a
    temporary file can be removed at once instead of being left for the next run's sweep."""
    return isinstance(exc, RemoteMismatch | WriteRefused | CtsiteError) or (
        isinstance(exc, OSError)
        and (refused(exc) or exc.errno in {errno.EACCES, errno.EPERM, errno.ENOENT})
    )


def _failed(what: str, exc: BaseException) -> CtsiteError:
    """`what` failed because of `exc`, in one line. SFTP has no "disk full" status: a server
    that cannot write answers a bare failure, so that answer says what it likely means."""
    if refused(exc):
        return CtsiteError(
            f"{what} failed: the server refused it ({exc}; remote disk full or over quota?)",
            hint="free space on the remote (or raise its quota) and re-run: finished files are "
            "kept and not sent again",
        )
    return CtsiteError(
        f"{what} failed: {exc or type(exc).__name__}",
        hint="re-run the command: finished files are kept and not sent again",
    )


def every_file(_rel: str) -> bool:
    return True


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
    read_back: Callable[[str], bool] = every_file,
    guard: Callable[[str], None] | None = None,
) -> SyncResult:
    """Execute a plan: upload (temp, confirm, rename), re-read `plan.checks`, commit, delete,
    verify sizes, write the manifest.

    `read_back(rel)`: whether a sent file's SHA-256 is confirmed by reading it back (every
    file's write answers and size are always checked). With `commit`, the uploads and checks
    are confirmed first, then `commit(sftp)` runs (the publish of a store version: its manifest
    and the pointer switch) and only then are files deleted; the files it wrote (returned) are
    recorded in the manifest too. `guard(step)`, if given, runs before the pointer switch and
    before pruning and raises to stop there (the upload lock's holder check).

    `connect` opens one more SFTP session (one per upload process); `main`, if given, is an
    open session to reuse for the listing, deletions and manifest. While uploading, the remote
    manifest is rewritten every `checkpoint_every` seconds with the files finished so far, so a
    run that dies (even with the link) resumes where it stopped. A link that makes no progress
    for `stall_timeout` seconds gives up (retries included) with one line. `on_bytes` counts
    the bytes moved either way (sent and read back).
    """
    run = _Run(connect, local_root, remote_root, plan, manifest, on_bytes, retries, backoff)
    run.stall_timeout = stall_timeout
    run.commit = commit
    run.read_back = read_back
    run.guard = guard or (lambda _step: None)
    if main is not None:
        run.boss.sftp = main
    return run.execute(jobs, checkpoint_every)


class _Run:
    """One execution of a plan: the state shared by the upload processes and the main one."""

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
        for f in plan.checks:  # not confirmed yet: a run that dies re-reads them
            self.entries.pop(f.rel, None)
        self.finished: dict[str, LocalFile] = {}  # sent files as actually read, with digests
        self.abandoned: list[str] = []  # temp files of failed attempts
        self.boss = Reconnecting(connect)  # the main thread's session
        self.uploader = Reconnecting(connect)  # a worker process's session
        self.stall_timeout = 60.0
        self.progress = time.monotonic()  # the last time bytes moved or a step finished
        self.commit: Commit | None = None
        self.committed: dict[str, LocalFile] = {}  # files the commit step wrote
        self.read_back: Callable[[str], bool] = every_file
        self.guard: Callable[[str], None] = lambda _step: None
        self.read = 0  # bytes read back for the current file (in a worker)
        self.moved = 0  # bytes moved by the current attempt (in a worker)

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
            self.on_main(self.prepare, "preparing the remote folders")
            self.upload_all(jobs, checkpoint_every)
            if self.commit is not None:
                sent = {**self.plan.local, **self.finished}
                self.on_main(lambda sftp: verify(sftp, self.remote_root, sent), "checking")
                self.guard("switching the remote pointer")
                self.on_main(self.run_commit, "switching the remote pointer")
            if self.plan.deletions:
                self.guard("pruning")
            self.on_main(self.delete, "pruning")
            self.result.deleted = len(self.plan.deletions)
            current = {**self.plan.local, **self.finished, **self.committed}
            if any(not f.sha256 for f in current.values()):
                raise RuntimeError("bug: a file was neither hashed nor sent")
            self.on_main(lambda sftp: self.finish(sftp, current), "recording the upload")
            write_local_manifest(self.local_root, current)
        except BaseException:
            _checkpoint(self.boss.sftp, self.remote_root, self.entries)
            raise
        finally:
            self.boss.reset()
            self.result.seconds = time.monotonic() - started
        return self.result

    # -- main-thread steps

    def on_main(self, step: Callable[[Any], None], what: str) -> None:
        """Run a main-session step, reconnecting and retrying on transient errors; a failure
        is one line saying `what` failed."""
        for attempt in range(self.retries + 1):
            try:
                step(self.boss.get())
                self.progress = time.monotonic()
                return
            except TRANSIENT as exc:
                self.give_up_if_stalled(exc)
                if _is_permanent(exc) or attempt == self.retries:
                    raise _failed(what, exc) from None
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
        """Send every planned file and re-read every planned check from `jobs` worker
        processes, largest files first; a check that differs is sent again.

        Workers are forked, so the private key reaches them in memory only; they talk to this
        process over pipes in JSON. Processes (not threads) because paramiko's per-packet work
        holds the GIL: one process saturates a core long before the link does. The manifest
        is checkpointed as files finish.
        """
        work = [("file", f) for f in self.plan.uploads] + [("check", f) for f in self.plan.checks]
        if not work:
            return
        ctx = multiprocessing.get_context("fork")
        queue = sorted(work, key=lambda item: item[1].size)  # pop() takes the largest
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

    def _handle(self, conn: Any, queue: list[tuple[str, LocalFile]]) -> tuple[bool, bool]:
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
            self.progress = time.monotonic()
            return True, False
        if "error" in msg:
            raise CtsiteError(str(msg["error"]), hint=msg.get("hint"))
        self.result.retries += int(msg.get("retries", 0))
        self.abandoned += [str(t) for t in msg.get("abandoned", [])]
        self.result.bytes_read_back += int(msg.get("read", 0))
        self.result.files_read_back += int(bool(msg.get("read_back")))
        finished = False
        if "done" in msg:
            f = self.plan.local[msg["done"]]
            size, sha = int(msg["size"]), str(msg["sha256"])
            self.finished[f.rel] = dataclasses.replace(f, size=size, sha256=sha)
            self.entries[f.rel] = {"size": size, "sha256": sha}
            self.result.files_sent += 1
            self.result.bytes_sent += size
            finished = True
        elif "checked" in msg:
            f = self.plan.local[msg["checked"]]
            if msg["same"]:
                self.entries[f.rel] = {"size": f.size, "sha256": f.sha256}
                finished = True
            else:
                self.result.resent += 1
                queue.append(("file", f))  # handed to this worker next
        if queue:  # "ready", "done" or "checked": hand out the next file
            kind, f = queue.pop()
            conn.send_bytes(json.dumps({kind: f.rel}).encode())
            return True, finished
        conn.send_bytes(b'{"stop": true}')
        return False, finished

    def _child(self, conn: Any, parent: int) -> None:
        """A worker process: upload or re-read the files handed out, report progress and each
        result."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # first: not the CLI's (raising) handler
        die_with_parent(parent)  # even a SIGKILLed parent takes its workers with it

        def tell(msg: dict[str, Any]) -> None:
            conn.send_bytes(json.dumps(msg).encode())

        self.on_bytes = lambda n: tell({"bytes": n})
        try:
            tell({"ready": True})
            while True:
                msg = json.loads(conn.recv_bytes())
                rel = msg.get("file") or msg.get("check")
                if rel is None:
                    break
                f = self.plan.local[rel]
                self.result.retries, self.abandoned = 0, []
                if "file" in msg:
                    self.send(f)
                    sent = self.finished[f.rel]
                    answer: dict[str, Any] = {"done": rel, "size": sent.size}
                    answer |= {"sha256": sent.sha256, "read_back": self.read_back(rel)}
                else:
                    answer = {"checked": rel, "same": self.check(f), "read_back": True}
                answer |= {"retries": self.result.retries, "abandoned": self.abandoned}
                tell(answer | {"read": self.read})
        except CtsiteError as exc:
            tell({"error": exc.message, "hint": exc.hint})
        except Exception as exc:
            tell({"error": f"upload worker failed: {exc}"})
        finally:
            self.uploader.reset()

    # -- inside a worker process

    def attempts(self, what: str, once: Callable[[Any], T]) -> T:
        """`once(sftp)` on the worker's session, retried on transient errors with back-off and
        a fresh session; the last failure is one line saying `what` failed."""
        for attempt in range(self.retries + 1):
            try:
                return once(self.uploader.get())
            except TRANSIENT as exc:
                self.uploader.reset()
                self.give_up_if_stalled(exc)
                if _is_permanent(exc) or attempt == self.retries:
                    raise CtsiteError(
                        f"{what} failed: {exc}",
                        hint="re-run the command: finished files are kept and not sent again",
                    ) from None
                self.result.retries += 1
                time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def count(self, n: int) -> None:
        """Bytes moved by the current attempt (sent or read back)."""
        self.moved += n
        self.on_bytes(n)
        self.progress = time.monotonic()

    def send(self, f: LocalFile) -> None:
        """Upload one file to a temp name, hashing it as it is read; confirm it on the remote
        (write answers, size, read-back digest); only then rename it into place."""
        dest = self.remote(f.rel)

        def once(sftp: Any) -> None:
            tmp = temp_name(dest)
            self.moved = 0
            try:
                size, sha = self.write(sftp, f, tmp)
                replace(sftp, tmp, dest)
            except BaseException as exc:
                self.on_bytes(-self.moved)
                if not (_session_usable(exc) and remove_quietly(sftp, tmp)):
                    self.abandoned.append(tmp)
                raise
            self.result.files_sent += 1
            self.result.bytes_sent += size
            self.finished[f.rel] = dataclasses.replace(f, size=size, sha256=sha)
            self.entries[f.rel] = {"size": size, "sha256": sha}

        self.read = 0
        self.attempts(f"upload of {f.rel}", once)

    def write(self, sftp: Any, f: LocalFile, tmp: str) -> tuple[int, str]:
        """Write the local file to `tmp` and confirm it there; returns (size, SHA-256)."""
        digest, size = hashlib.sha256(), 0
        with (self.local_root / f.rel).open("rb") as src, sftp.open(tmp, "wb") as out:
            writes = PipelinedWrites(sftp, out.handle, WRITE_SIZE)
            while block := src.read(CHUNK):
                writes.write(block)
                digest.update(block)
                size += len(block)
                self.count(len(block))
            writes.finish()
        sha = digest.hexdigest()
        if f.sha256 and sha != f.sha256:
            raise CtsiteError(
                f"the local file {f.rel} does not match its name or the digest it was "
                f"scanned with (its bytes hash to {sha[:16]}…): it is damaged or changed "
                "while it was sent; nothing was renamed",
                hint="recompile with `ctsite compile --force` (a store object), or re-run once "
                "the file is no longer being written",
            )
        before = self.moved
        confirm(sftp, tmp, size, sha if self.read_back(f.rel) else None, self.count)
        self.read += self.moved - before
        return size, sha

    def check(self, f: LocalFile) -> bool:
        """Re-read a file the remote already has and compare its SHA-256 with the local one;
        False when it differs (or is missing): it is then sent again."""
        expected = f.sha256 or file_digest(self.local_root / f.rel)

        def once(sftp: Any) -> bool:
            self.moved = 0
            try:
                confirm(sftp, self.remote(f.rel), f.size, expected, self.count)
            except (RemoteMismatch, FileNotFoundError):
                return False
            finally:
                self.read += self.moved
            return True

        self.read = 0
        return self.attempts(f"re-reading {f.rel} on the remote", once)


def _checkpoint(sftp: Any, remote_root: str, entries: Entries) -> None:
    """Record the files known good so a re-run resumes (best effort)."""
    if sftp is None:
        return
    try:
        put_bytes(sftp, posixpath.join(remote_root, MANIFEST), manifest_bytes(entries))
    except Exception:  # noqa: S110 - the connection may be gone; the re-run re-sends
        pass


def _remove_empty_dirs(sftp: Any, root: str, plan: Plan) -> None:
    for rel in empty_dirs(plan.remote_dirs, plan.local, plan.scope):
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

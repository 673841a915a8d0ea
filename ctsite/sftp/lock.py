"""One upload at a time into a remote store: a lock folder on the remote, taken with SFTP mkdir.

Two uploads into the same remote store at once interleave their plans: the second prunes the
version the first is about to switch to (and sweeps its temporary files), then the first one's
switch lands and the pointer names a version whose objects are gone. So an upload holds
`<remote store>/.ctsite-upload.lock/` from its plan to its prune. `mkdir` is atomic over SFTP
(it fails when the folder exists); the folder's `owner.json` says who holds it (user@host, pid),
since when, and its heartbeat, rewritten every HEARTBEAT_SECONDS by a thread on an SFTP session
of its own. A second upload refuses with one line naming the holder and its age.

A lock whose holder is gone is taken over: at once when it was taken on this host by a process
that no longer exists (a killed upload), otherwise only with `break_stale` (`--break-lock`) and
only once no heartbeat came for STALE_SECONDS. Breaking renames the folder away (only one
breaker can), then takes it afresh. The holder checks that the lock is still its own before
the pointer switch and before pruning (`check`), so only the holder ever switches or prunes.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import posixpath
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ctsite.errors import CtsiteError
from ctsite.sftp.client import LOCK_DIR, TRANSIENT, Connect, Reconnecting, put_bytes, server_said

OWNER = "owner.json"
HEARTBEAT_SECONDS = 30.0  # how often the holder rewrites its heartbeat
STALE_SECONDS = 300.0  # no heartbeat for this long: --break-lock may take the lock


def lock_folder(remote_root: str, store: str | None) -> str:
    """The lock folder of an upload into `remote_root`: in the remote store's folder (`store`
    relative to the root; None: a plain tree sync, locked at the root)."""
    base = posixpath.join(remote_root, store) if store else remote_root
    return posixpath.join(base, LOCK_DIR)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _parse_time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def ago(seconds: float) -> str:
    """A duration for a person: "42 s", "7 min", "3.2 h"."""
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds the lock (the content of `owner.json`)."""

    token: str
    user: str
    host: str
    pid: int
    started: datetime
    heartbeat: datetime

    @classmethod
    def new(cls, token: str) -> Holder:
        now = _now()
        return cls(token, getpass.getuser(), socket.gethostname(), os.getpid(), now, now)

    @classmethod
    def parse(cls, data: bytes | None) -> Holder | None:
        try:
            doc = json.loads(data or b"")
            started, beat = _parse_time(doc["started"]), _parse_time(doc["heartbeat"])
            if started is None or beat is None:
                return None
            return cls(
                str(doc["token"]),
                str(doc["user"]),
                str(doc["host"]),
                int(doc["pid"]),
                started,
                beat,
            )
        except (ValueError, KeyError, TypeError):
            return None

    def to_bytes(self) -> bytes:
        doc = dataclasses.asdict(self) | {
            "started": self.started.isoformat(),
            "heartbeat": self.heartbeat.isoformat(),
        }
        return json.dumps(doc, indent=1).encode()

    @property
    def who(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid})"

    def silent_for(self, now: datetime | None = None) -> float:
        """Seconds since its last heartbeat."""
        return ((now or _now()) - self.heartbeat).total_seconds()

    def gone_here(self) -> bool:
        """Taken on this host by a process that no longer exists: certainly not uploading."""
        return self.host == socket.gethostname() and not _process_exists(self.pid)


@dataclasses.dataclass(frozen=True)
class Found:
    """A lock folder found in place: its holder (None: no readable owner.json) and how long
    ago it last showed a sign of life (the heartbeat, else the folder's modification time)."""

    holder: Holder | None
    silent: float


class UploadLock:
    """The remote store's upload lock, held from `__enter__` (or `acquire`) to `release`.

    `connect` opens the lock's own SFTP session (used by the heartbeat thread and `check`;
    never shared with the upload's sessions: paramiko sessions are not for two threads).
    `warn` reports a lock taken over from a stopped upload.
    """

    def __init__(
        self,
        connect: Connect,
        folder: str,
        *,
        break_stale: bool = False,
        warn: Callable[[str], None] = lambda _msg: None,
        interval: float = HEARTBEAT_SECONDS,
        stale: float = STALE_SECONDS,
    ):
        self.session = Reconnecting(connect)
        self.folder = folder
        self.break_stale = break_stale
        self.warn = warn
        self.interval, self.stale = interval, stale
        self.token = uuid.uuid4().hex
        self.holder: Holder | None = None  # ours, once taken
        self.beats = 0
        self.failures = 0
        self._mutex = threading.Lock()  # one user of the session at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def owner_path(self) -> str:
        return posixpath.join(self.folder, OWNER)

    def __enter__(self) -> UploadLock:
        self.acquire()
        self._thread = threading.Thread(target=self._beat, name="ctsite-lock", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- taking it

    def acquire(self) -> None:
        """Take the lock, or raise a CtsiteError naming its holder (nothing else changed)."""
        with self._mutex:
            sftp = self.session.get()
            _make_parents(sftp, posixpath.dirname(self.folder))
            for _ in range(3):  # a lock broken or released meanwhile: try again
                try:
                    sftp.mkdir(self.folder)
                except OSError as exc:
                    found = self._found(sftp)
                    if found is None:  # not there: the mkdir itself was refused
                        raise CtsiteError(
                            f"cannot take the upload lock {self.folder}: {server_said(exc)}",
                            hint="check the SFTP user's permissions on the remote store folder",
                        ) from None
                    self._take_over(sftp, found)
                    continue
                self._write(sftp, Holder.new(self.token), first=True)
                return
        raise CtsiteError(
            f"the upload lock {self.folder} keeps changing hands; nothing was sent",
            hint="another upload is starting at the same moment: re-run once it is done",
        )

    def _found(self, sftp: Any) -> Found | None:
        """The lock folder in place (None: there is none)."""
        try:
            st = sftp.stat(self.folder)
        except FileNotFoundError:
            return None
        holder = Holder.parse(_read(sftp, self.owner_path))
        if holder is not None:
            return Found(holder, holder.silent_for())
        changed = datetime.fromtimestamp(st.st_mtime or 0, UTC)
        return Found(None, (_now() - changed).total_seconds())

    def _take_over(self, sftp: Any, found: Found) -> None:
        """Break a lock whose holder is gone, or refuse with one line naming the holder."""
        holder = found.holder
        who = holder.who if holder else "an unknown upload (no readable owner.json)"
        if holder is not None and holder.gone_here():
            self.warn(
                f"taking over the upload lock of a stopped upload: {who} no longer runs "
                f"(last heartbeat {ago(found.silent)} ago)"
            )
        elif found.silent >= self.stale and self.break_stale:
            self.warn(f"breaking the upload lock of {who}: no heartbeat for {ago(found.silent)}")
        else:
            raise self._refusal(found, who)
        self._break(sftp, holder)

    def _refusal(self, found: Found, who: str) -> CtsiteError:
        holder = found.holder
        since = (
            f", started {ago(_now().timestamp() - holder.started.timestamp())} ago"
            if holder
            else ""
        )
        message = (
            f"another upload holds the remote store's upload lock: {who}{since}, last heartbeat "
            f"{ago(found.silent)} ago; nothing was sent"
        )
        if found.silent < self.stale:
            wait = ago(self.stale - found.silent)
            hint = (
                f"wait for it to finish (it refreshes the lock every {self.interval:.0f} s). If "
                f"it was stopped, `ctsite upload-data --break-lock` takes the lock once it has "
                f"been silent for {ago(self.stale)} (in {wait})"
            )
            if self.break_stale:
                message += " (not broken: its heartbeat is recent, so it is alive)"
        else:
            hint = (
                f"it has been silent for {ago(found.silent)}: if no upload is running, re-run "
                "with `ctsite upload-data --break-lock`"
            )
        return CtsiteError(message, hint=hint)

    def _break(self, sftp: Any, holder: Holder | None) -> None:
        """Move the stale lock folder away (one rename: only one breaker wins), check it was
        the one judged stale, and delete it."""
        moved = f"{self.folder}.broken-{self.token[:12]}"
        try:
            sftp.rename(self.folder, moved)
        except OSError:
            return  # gone or broken by someone else meanwhile: the next mkdir decides
        taken = Holder.parse(_read(sftp, posixpath.join(moved, OWNER)))
        if holder is not None and (taken is None or taken.token != holder.token):
            try:  # it changed hands between the look and the rename: put it back
                sftp.rename(moved, self.folder)
            except OSError:
                pass
            raise CtsiteError(
                f"the upload lock {self.folder} changed hands while it was being broken; "
                "nothing was sent",
                hint="another upload just started: re-run once it is done",
            )
        _remove_folder(sftp, moved)

    def _write(self, sftp: Any, holder: Holder, first: bool = False) -> None:
        try:
            put_bytes(sftp, self.owner_path, holder.to_bytes())
        except OSError as exc:
            if first:  # an empty lock folder would block the next run: take it back
                try:
                    sftp.rmdir(self.folder)
                except OSError:
                    pass
                raise CtsiteError(
                    f"cannot write the upload lock {self.owner_path}: {server_said(exc)}",
                    hint="check the permissions and the space left on the remote",
                ) from None
            raise
        self.holder = holder

    # -- holding it

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self._mutex:
                    if self._stop.is_set():
                        return
                    sftp = self.session.get()
                    current = Holder.parse(_read(sftp, self.owner_path))
                    if current is None or current.token != self.token:
                        return  # taken over: `check` stops the upload before it changes more
                    assert self.holder is not None
                    self._write(sftp, dataclasses.replace(self.holder, heartbeat=_now()))
                    self.beats += 1
            except (*TRANSIENT, CtsiteError):  # a missed beat; the next one may succeed
                self.failures += 1
                self.session.reset()

    def check(self, before: str) -> None:
        """Raise unless the lock is still ours (read from the remote) — called before the
        pointer switch and before pruning, which only the holder may do."""
        try:
            with self._mutex:
                current = Holder.parse(_read(self.session.get(), self.owner_path, strict=True))
        except (*TRANSIENT, CtsiteError) as exc:
            self.session.reset()
            raise CtsiteError(
                f"cannot confirm the upload lock before {before} ({exc}); stopped there",
                hint="re-run the command: finished files are kept and not sent again",
            ) from None
        if current is None or current.token != self.token:
            by = current.who if current else "nobody (the lock folder is gone)"
            raise CtsiteError(
                f"this upload no longer holds the remote store's upload lock (now: {by}); "
                f"stopped before {before}",
                hint="another upload broke the lock (this one was silent too long?): let it "
                "finish, then re-run",
            )

    def release(self) -> None:
        """Stop the heartbeat and remove the lock if it is still ours (best effort: a lock left
        by this process is taken over by the next run on this host)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            with self._mutex:
                if self.holder is not None:
                    sftp = self.session.get()
                    current = Holder.parse(_read(sftp, self.owner_path))
                    if current is not None and current.token == self.token:
                        _remove_folder(sftp, self.folder)
        except (*TRANSIENT, CtsiteError):
            pass
        finally:
            self.holder = None
            self.session.reset()


def _read(sftp: Any, path: str, strict: bool = False) -> bytes | None:
    """A small remote file's bytes; None when it is missing (or, unless `strict`, unreadable)."""
    try:
        with sftp.open(path, "rb") as fh:
            return bytes(fh.read())
    except FileNotFoundError:
        return None
    except OSError:
        if strict:
            raise
        return None


def _make_parents(sftp: Any, path: str) -> None:
    """Create the folder `path` and its parents on the remote where missing."""
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        if sub in {"", "."}:
            continue
        try:
            sftp.stat(sub)
            continue
        except FileNotFoundError:
            pass
        try:
            sftp.mkdir(sub)
        except OSError as exc:
            try:
                sftp.stat(sub)
            except OSError:
                raise CtsiteError(
                    f"cannot create remote directory {sub}: {server_said(exc)}",
                    hint=f"check the SFTP user's permissions on {posixpath.dirname(sub) or '/'}",
                ) from None


def _remove_folder(sftp: Any, folder: str) -> None:
    """Remove a lock folder and the files in it (owner.json, a heartbeat's temp file)."""
    try:
        for name in sftp.listdir(folder):
            try:
                sftp.remove(posixpath.join(folder, name))
            except OSError:
                pass
        sftp.rmdir(folder)
    except OSError:
        pass

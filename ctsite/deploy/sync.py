"""Incremental SFTP tree sync (plan → transfer → verify), independent of AWS.

The remote side keeps a manifest (`.ctsite-manifest.json` at the remote root: size and SHA-256 of
every file) written as the last step of a successful sync; a copy is kept beside the local tree so
`--dry-run` can plan without a connection. A file is re-sent when it is new locally, its digest
differs from the manifest, or the remote size disagrees (so EFS/SFTP mtimes never matter).
Files are written to a temporary name and renamed into place, several connections work in
parallel, transient errors are retried with back-off, and a final listing verifies every size.
"""

from __future__ import annotations

import base64
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import posixpath
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import paramiko

from ctsite.errors import CtsiteError

MANIFEST = ".ctsite-manifest.json"
TEMP_MARK = ".ctsite-part-"
CHUNK = 1 << 20
# SFTP write size that fits one 32 KiB channel packet with its headers (paramiko's default of
# 32768 splits every write into a full packet plus a tiny one).
WRITE_SIZE = 32768 - 128


@dataclasses.dataclass(frozen=True)
class LocalFile:
    rel: str  # POSIX path relative to the tree root
    size: int
    sha256: str
    stamp: str = dataclasses.field(default="", compare=False)  # local stat signature


def _stamp(st: os.stat_result) -> str:
    """Changes whenever the content may have: size, mtime, ctime (set by any write or utime)."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


@dataclasses.dataclass
class Plan:
    """What a sync will do: files to send, remote files to delete, leftovers to clean."""

    uploads: list[LocalFile]
    deletions: list[str]
    stale_temps: list[str]
    unchanged: int
    local: dict[str, LocalFile]
    remote_dirs: set[str]

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


Connect = Callable[[], Any]  # returns a fresh paramiko.SFTPClient


# ---------------------------------------------------------------- local side


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def scan_local(root: Path, jobs: int = 2, use_cache: bool = True) -> dict[str, LocalFile]:
    """Every regular file under `root` with its size and SHA-256 (hashed in parallel).

    A digest recorded by the last successful sync is reused when the file's stat signature
    (size, mtime, ctime, inode) is unchanged, so a no-change re-sync reads almost nothing.
    """
    if not root.is_dir():
        raise CtsiteError(
            f"data directory not found: {root}",
            hint="run `ctsite compile` first, or set data_dir (CTSITE_DATA_DIR)",
        )
    paths: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel == MANIFEST or TEMP_MARK in name or not path.is_file():
                continue
            paths.append((rel, path))

    cache = read_local_manifest(root) if use_cache else {}

    def one(item: tuple[str, Path]) -> LocalFile:
        rel, path = item
        try:
            st = path.stat()
            stamp = _stamp(st)
            known = cache.get(rel, {})
            if known.get("stamp") == stamp and known.get("size") == st.st_size:
                return LocalFile(rel, st.st_size, known["sha256"], stamp)
            return LocalFile(rel, st.st_size, _digest(path), stamp)
        except OSError as exc:
            raise CtsiteError(
                f"cannot read {path}: {exc.strerror or exc}",
                hint="fix the file's permissions or remove it from the data directory",
            ) from None

    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        files = list(pool.map(one, paths))
    return {f.rel: f for f in files}


def read_local_manifest(root: Path) -> dict[str, dict[str, Any]]:
    """The copy of the remote manifest saved by the last successful sync (empty if none)."""
    try:
        return _parse_manifest((root / MANIFEST).read_bytes())
    except OSError:
        return {}


def _parse_manifest(raw: bytes) -> dict[str, dict[str, Any]]:
    try:
        doc = json.loads(raw)
        files = doc["files"]
        out: dict[str, dict[str, Any]] = {}
        for k, v in files.items():
            out[str(k)] = {"size": int(v["size"]), "sha256": str(v["sha256"])}
            if "stamp" in v:
                out[str(k)]["stamp"] = str(v["stamp"])
        return out
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}  # unreadable manifest: everything is re-checked by sending it again


def _manifest_bytes(entries: dict[str, dict[str, Any]]) -> bytes:
    written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    doc = {"format": 1, "written": written, "files": dict(sorted(entries.items()))}
    return json.dumps(doc, indent=1).encode()


def _write_local_manifest(root: Path, local: dict[str, LocalFile]) -> None:
    """The local copy of the remote manifest, plus each file's stat signature as a cache.

    Files modified in the last few seconds get no signature: a write landing in the same
    timestamp tick as the hash could otherwise go unnoticed.
    """
    recent = time.time_ns() - 2_000_000_000
    entries: dict[str, dict[str, Any]] = {}
    for f in local.values():
        entries[f.rel] = {"size": f.size, "sha256": f.sha256}
        parts = f.stamp.split(":")
        if len(parts) == 4 and int(parts[1]) < recent and int(parts[2]) < recent:
            entries[f.rel]["stamp"] = f.stamp
    tmp = root / f"{MANIFEST}{TEMP_MARK}{uuid.uuid4().hex}"
    tmp.write_bytes(_manifest_bytes(entries))
    tmp.replace(root / MANIFEST)


# ---------------------------------------------------------------- remote side


def list_remote(sftp: Any, root: str) -> tuple[dict[str, int], set[str]]:
    """(relative file path → size, relative directories) under the remote root."""
    files: dict[str, int] = {}
    dirs: set[str] = set()
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = sftp.listdir_attr(posixpath.join(root, rel_dir) if rel_dir else root)
        except FileNotFoundError:
            continue
        for entry in entries:
            rel = posixpath.join(rel_dir, entry.filename) if rel_dir else entry.filename
            if stat.S_ISDIR(entry.st_mode or 0):
                dirs.add(rel)
                stack.append(rel)
            else:
                files[rel] = int(entry.st_size or 0)
    return files, dirs


def read_remote_manifest(sftp: Any, root: str) -> dict[str, dict[str, Any]]:
    try:
        with sftp.open(posixpath.join(root, MANIFEST), "rb") as f:
            return _parse_manifest(f.read())
    except OSError:
        return {}


def _replace(sftp: Any, tmp: str, dest: str) -> None:
    """Rename tmp over dest atomically (posix-rename), falling back to remove + rename."""
    try:
        sftp.posix_rename(tmp, dest)
        return
    except OSError:
        pass
    try:
        sftp.remove(dest)
    except OSError:
        pass
    sftp.rename(tmp, dest)


def _temp_name(dest: str) -> str:
    """A hidden sibling name for a file being written (swept if a run dies)."""
    name = f".{posixpath.basename(dest)}{TEMP_MARK}{uuid.uuid4().hex[:12]}"
    return posixpath.join(posixpath.dirname(dest), name)


def _put_bytes(sftp: Any, dest: str, data: bytes) -> None:
    tmp = _temp_name(dest)
    with sftp.open(tmp, "wb") as f:
        f.write(data)
    _replace(sftp, tmp, dest)


def _mkdirs(sftp: Any, root: str, rels: Iterable[str], existing: set[str]) -> None:
    for rel in sorted(set(rels)):
        parts = rel.split("/")
        for i in range(len(parts)):
            sub = "/".join(parts[: i + 1])
            if sub in existing:
                continue
            try:
                sftp.mkdir(posixpath.join(root, sub))
            except OSError:
                try:
                    sftp.stat(posixpath.join(root, sub))
                except OSError as exc:
                    raise CtsiteError(
                        f"cannot create remote directory {posixpath.join(root, sub)}: {exc}",
                        hint="check the SFTP user's home directory and its permissions",
                    ) from None
            existing.add(sub)


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect, and the host key fingerprint the server must present."""

    host: str
    port: int
    username: str
    pkey: Any  # paramiko.PKey, kept in memory only
    host_key_sha256: str  # "SHA256:<base64>" as published by Transfer Family; several: a,b
    timeout: float = 20.0


def fingerprint(key: Any) -> str:
    """OpenSSH-style SHA256 fingerprint of a paramiko key: 'SHA256:<base64, no padding>'."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def accepted_fingerprints(value: str) -> set[str]:
    """The SHA256 fingerprints in `value`: one or more, comma-separated, each either bare
    base64, 'SHA256:<base64>' or an `ssh-keygen -l` line; base64 padding is ignored."""
    found = set()
    for item in value.split(","):
        words = item.split()
        token = next((w for w in words if w.upper().startswith("SHA256:")), item.strip())
        if token.upper().startswith("SHA256:"):
            token = token[7:]
        if token.rstrip("="):
            found.add(token.rstrip("="))
    return found


def _fast_first(ciphers: tuple[str, ...]) -> tuple[str, ...]:
    """AES-GCM first: one AEAD call per packet is much cheaper in paramiko than CTR + HMAC."""
    fast = [c for c in ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com") if c in ciphers]
    return (*fast, *(c for c in ciphers if c not in fast))


def connect(endpoint: Endpoint, window: int = 32 << 20) -> Any:
    """Open an SFTP session, refusing a server whose host key does not match the expected one."""
    where = f"{endpoint.host}:{endpoint.port}"
    if not accepted_fingerprints(endpoint.host_key_sha256):
        raise CtsiteError(
            f"no host key fingerprint known for {where}; refusing to connect blindly",
            hint="set sftp_host_key_fingerprint (CTSITE_SFTP_HOST_KEY_FINGERPRINT)",
        )
    try:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=endpoint.timeout)
    except OSError as exc:
        raise OSError(f"cannot connect to SFTP server {where}: {exc}") from exc
    transport = paramiko.Transport(
        sock, default_window_size=window, default_max_packet_size=1 << 15
    )
    try:
        options = transport.get_security_options()
        options.ciphers = _fast_first(options.ciphers)
        transport.start_client(timeout=endpoint.timeout)
        seen = fingerprint(transport.get_remote_server_key())
        if seen[7:] not in accepted_fingerprints(endpoint.host_key_sha256):
            raise CtsiteError(
                f"host key mismatch for {where}: server presented {seen}, "
                f"expected {endpoint.host_key_sha256}; refusing to connect",
                hint="someone may be intercepting the connection, or the expected fingerprint "
                "is wrong (sftp_host_key_fingerprint)",
            )
        transport.auth_publickey(endpoint.username, endpoint.pkey)
        return paramiko.SFTPClient.from_transport(transport, window_size=window)
    except paramiko.AuthenticationException as exc:
        transport.close()
        raise CtsiteError(
            f"SFTP login as {endpoint.username!r} on {where} was refused: {exc}",
            hint="check transfer_user and that the user's SSH key was accepted",
        ) from None
    except BaseException:
        transport.close()
        raise


# ---------------------------------------------------------------- planning


def _in_scope(rel: str, delete_under: Iterable[str]) -> bool:
    return any(
        p in {"", "."} or rel == p or rel.startswith(p.rstrip("/") + "/") for p in delete_under
    )


def make_plan(
    local: dict[str, LocalFile],
    remote_files: dict[str, int],
    remote_dirs: set[str],
    manifest: dict[str, dict[str, Any]],
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
        if r not in local and r != MANIFEST and TEMP_MARK not in r and _in_scope(r, scope)
    )
    unchanged = len(local) - len(uploads)
    return Plan(uploads, deletions, temps, unchanged, local, set(remote_dirs))


def plan_offline(root: Path, jobs: int, delete_under: Iterable[str]) -> Plan:
    """A plan from the local manifest copy alone (for --dry-run: no connection needed)."""
    local = scan_local(root, jobs)
    manifest = read_local_manifest(root)
    remote = {k: v["size"] for k, v in manifest.items()}
    return make_plan(local, remote, set(), manifest, delete_under)


def plan_remote(
    sftp: Any, local: dict[str, LocalFile], remote_root: str, delete_under: Iterable[str]
) -> tuple[Plan, dict[str, dict[str, Any]]]:
    """The plan against the live remote tree, plus the remote manifest it used."""
    files, dirs = list_remote(sftp, remote_root)
    manifest = read_remote_manifest(sftp, remote_root)
    return make_plan(local, files, dirs, manifest, delete_under), manifest


# ---------------------------------------------------------------- transfer


class _Stopped(Exception):
    """Raised inside a worker when another worker failed or the run was interrupted."""


TRANSIENT = (EOFError, ConnectionError, TimeoutError, OSError, paramiko.SSHException)


class _Worker:
    """One SFTP connection used by one thread, reconnected after a transient failure."""

    def __init__(self, connect: Connect):
        self.connect = connect
        self.sftp: Any = None

    def get(self) -> Any:
        if self.sftp is None:
            self.sftp = self.connect()
        return self.sftp

    def reset(self) -> None:
        if self.sftp is not None:
            try:
                self.sftp.get_channel().get_transport().close()
            except Exception:  # noqa: S110 - already broken; closing is best effort
                pass
        self.sftp = None


def _is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PermissionError | CtsiteError) or (
        isinstance(exc, OSError) and getattr(exc, "errno", None) in {13, 28, 122}
    )


def sync_tree(
    connect: Connect,
    local_root: Path,
    remote_root: str,
    plan: Plan,
    manifest: dict[str, dict[str, Any]],
    jobs: int = 4,
    on_bytes: Callable[[int], None] | None = None,
    retries: int = 4,
    backoff: float = 0.5,
    main: Any = None,
) -> SyncResult:
    """Execute a plan: upload (temp + rename), delete, verify sizes, write the manifest."""
    started = time.monotonic()
    result = SyncResult()
    lock = threading.Lock()
    entries = {k: v for k, v in manifest.items() if k in plan.local}
    local_workers = threading.local()
    workers: list[_Worker] = []
    stop = threading.Event()
    abandoned: list[str] = []

    def worker() -> _Worker:
        w = getattr(local_workers, "w", None)
        if w is None:
            w = local_workers.w = _Worker(connect)
            with lock:
                workers.append(w)
        return w

    def send(f: LocalFile) -> None:
        dest = posixpath.join(remote_root, f.rel)
        for attempt in range(retries + 1):
            w = worker()
            sent = 0
            tmp = _temp_name(dest)
            try:
                sftp = w.get()
                with (local_root / f.rel).open("rb") as src, sftp.open(tmp, "wb") as out:
                    out.set_pipelined(True)
                    out.MAX_REQUEST_SIZE = WRITE_SIZE
                    while block := src.read(CHUNK):
                        if stop.is_set():
                            raise _Stopped()
                        out.write(block)
                        sent += len(block)
                        if on_bytes:
                            on_bytes(len(block))
                _replace(sftp, tmp, dest)
                with lock:
                    result.files_sent += 1
                    result.bytes_sent += f.size
                    entries[f.rel] = {"size": f.size, "sha256": f.sha256}
                return
            except _Stopped:
                w.reset()
                raise
            except TRANSIENT as exc:
                if on_bytes and sent:
                    on_bytes(-sent)
                if _is_permanent(exc) or attempt == retries:
                    w.reset()
                    raise CtsiteError(
                        f"upload of {f.rel} failed: {exc}",
                        hint="re-run the command: finished files are kept and not sent again",
                    ) from None
                with lock:
                    result.retries += 1
                    abandoned.append(tmp)
                w.reset()
                time.sleep(backoff * 2**attempt)

    boss = _Worker(connect)
    boss.sftp = main or connect()

    def on_main(step: Callable[[Any], None]) -> None:
        """Run a main-connection step, reconnecting and retrying on transient errors."""
        for attempt in range(retries + 1):
            try:
                step(boss.get())
                return
            except TRANSIENT as exc:
                if _is_permanent(exc) or attempt == retries:
                    raise CtsiteError(
                        f"SFTP operation failed: {exc}",
                        hint="re-run the command: finished files are kept and not sent again",
                    ) from None
                result.retries += 1
                boss.reset()
                time.sleep(backoff * 2**attempt)

    def prepare(sftp: Any) -> None:
        for temp in plan.stale_temps:
            try:
                sftp.remove(posixpath.join(remote_root, temp))
            except OSError:
                pass
        _mkdirs(sftp, remote_root, [""], set())
        wanted = {posixpath.dirname(f.rel) for f in plan.uploads} - {""}
        _mkdirs(sftp, remote_root, wanted, set(plan.remote_dirs))

    def delete(sftp: Any) -> None:
        for rel in plan.deletions:
            try:
                sftp.remove(posixpath.join(remote_root, rel))
            except FileNotFoundError:
                pass
            entries.pop(rel, None)
        _remove_empty_dirs(sftp, remote_root, plan)

    def finish(sftp: Any) -> None:
        for tmp in abandoned:  # partial files of retried attempts
            try:
                sftp.remove(tmp)
            except OSError:
                pass
        verify(sftp, remote_root, plan.local)
        if final != manifest:
            _put_bytes(sftp, posixpath.join(remote_root, MANIFEST), _manifest_bytes(final))

    final = {f.rel: {"size": f.size, "sha256": f.sha256} for f in plan.local.values()}
    try:
        on_main(prepare)
        pool = concurrent.futures.ThreadPoolExecutor(max(1, jobs))
        try:
            ordered = sorted(plan.uploads, key=lambda f: -f.size)
            for fut in concurrent.futures.as_completed([pool.submit(send, f) for f in ordered]):
                fut.result()
        except BaseException:
            stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        on_main(delete)
        result.deleted = len(plan.deletions)
        on_main(finish)
        _write_local_manifest(local_root, plan.local)
    except BaseException:
        if boss.sftp is not None:
            _checkpoint(boss.sftp, remote_root, entries)
        raise
    finally:
        for w in [*workers, boss]:
            w.reset()
        result.seconds = time.monotonic() - started
    return result


def _checkpoint(sftp: Any, remote_root: str, entries: dict[str, dict[str, Any]]) -> None:
    """After a failure: record the files known good so a re-run resumes (best effort)."""
    try:
        _put_bytes(sftp, posixpath.join(remote_root, MANIFEST), _manifest_bytes(entries))
    except Exception:  # noqa: S110 - the connection may be gone; the re-run re-sends
        pass


def _remove_empty_dirs(sftp: Any, root: str, plan: Plan) -> None:
    local_dirs = {posixpath.dirname(r) for r in plan.local}
    for rel in list(local_dirs):
        while rel:
            rel = posixpath.dirname(rel)
            local_dirs.add(rel)
    for rel in sorted(plan.remote_dirs - local_dirs, key=lambda r: -r.count("/")):
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

"""SFTP connections and remote file primitives for the upload sync (paramiko, no AWS).

`connect(endpoint)` opens an SFTP session only if the server presents an expected host key
(never a blind AutoAddPolicy), prefers AES-GCM (much cheaper per packet in paramiko) and opens
large windows. The helpers write files under a temporary name and rename them into place, list
a remote tree, and create directories.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import posixpath
import socket
import stat
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import paramiko

from ctsite.errors import CtsiteError
from ctsite.sftp.confirm import confirm

TEMP_MARK = ".ctsite-part-"
LOCK_DIR = ".ctsite-upload.lock"  # an upload's remote lock folder (`ctsite.sftp.lock`)
# SFTP write size that fits one 32 KiB channel packet with its headers (paramiko's default of
# 32768 splits every write into a full packet plus a tiny one).
WRITE_SIZE = 32768 - 128
TRANSIENT = (EOFError, ConnectionError, TimeoutError, OSError, paramiko.SSHException)

Connect = Callable[[], Any]  # returns a fresh paramiko.SFTPClient


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect, and the host key fingerprint the server must present."""

    host: str
    port: int
    username: str
    pkey: Any  # paramiko.PKey, kept in memory only
    host_key_sha256: str  # "SHA256:<base64>" as published by Transfer Family; several: a,b
    timeout: float = 20.0
    stall_timeout: float = 60.0  # a read or write waiting longer than this fails


def configure_paramiko_logging(path: str | None) -> None:
    """Keep paramiko's log (tracebacks of dropped links) out of the terminal: to the file
    `path` at DEBUG level, or nowhere when None."""
    logger = logging.getLogger("paramiko")
    for handler in [h for h in logger.handlers if h.get_name() == "ctsite"]:
        logger.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(path) if path else logging.NullHandler()
    handler.set_name("ctsite")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG if path else logging.CRITICAL)


def open_session(endpoint: Endpoint, attempts: int = 4, backoff: float = 0.5) -> Any:
    """`connect` (the first contact), retried with back-off on a transient failure (a link
    that drops, a port not open yet); what still fails becomes one CtsiteError line."""
    where = f"{endpoint.host}:{endpoint.port}"
    for attempt in range(attempts):
        try:
            return connect(endpoint)
        except TRANSIENT as exc:
            if attempt + 1 < attempts:
                time.sleep(backoff * 2**attempt)
                continue
            reason = str(exc) or type(exc).__name__
            raise CtsiteError(
                f"cannot open an SFTP session to {where}: {reason}",
                hint="is the SFTP server running and the port open? check sftp_host/sftp_port "
                "and the network; the Transfer server is deleted either way",
            ) from None
    raise AssertionError("unreachable")


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
        sock = socket.create_connection(
            (endpoint.host, endpoint.port), timeout=min(endpoint.timeout, endpoint.stall_timeout)
        )
    except OSError as exc:
        raise OSError(f"cannot connect to SFTP server {where}: {exc}") from exc
    transport = paramiko.Transport(
        sock, default_window_size=window, default_max_packet_size=1 << 15
    )
    try:
        options = transport.get_security_options()
        options.ciphers = _fast_first(options.ciphers)
        transport.start_client(timeout=min(endpoint.timeout, endpoint.stall_timeout))
        seen = fingerprint(transport.get_remote_server_key())
        if seen[7:] not in accepted_fingerprints(endpoint.host_key_sha256):
            raise CtsiteError(
                f"host key mismatch for {where}: server presented {seen}, "
                f"expected {endpoint.host_key_sha256}; refusing to connect",
                hint="someone may be intercepting the connection, or the expected fingerprint "
                "is wrong (sftp_host_key_fingerprint)",
            )
        transport.auth_publickey(endpoint.username, endpoint.pkey)
        client = paramiko.SFTPClient.from_transport(transport, window_size=window)
        client.get_channel().settimeout(endpoint.stall_timeout)  # a stalled link fails, not hangs
        return client
    except paramiko.AuthenticationException as exc:
        dropped = not transport.is_active()
        transport.close()
        if dropped:  # paramiko says "Authentication failed" for a link lost mid-login too
            raise ConnectionError(f"the link to {where} dropped during the login ({exc})") from None
        raise CtsiteError(
            f"SFTP login as {endpoint.username!r} on {where} was refused: {exc}",
            hint="check transfer_user and that the user's SSH key was accepted",
        ) from None
    except BaseException:
        transport.close()
        raise


class Reconnecting:
    """One SFTP connection for one thread, dropped and reopened after a transient failure."""

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


def list_remote(sftp: Any, root: str) -> tuple[dict[str, int], set[str]]:
    """(relative file path → size, relative directories) under the remote root; an upload's
    lock folder is not part of the tree (never planned, sent, swept or deleted)."""
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
            if entry.filename == LOCK_DIR:
                continue
            rel = posixpath.join(rel_dir, entry.filename) if rel_dir else entry.filename
            if stat.S_ISDIR(entry.st_mode or 0):
                dirs.add(rel)
                stack.append(rel)
            else:
                files[rel] = int(entry.st_size or 0)
    return files, dirs


def replace(sftp: Any, tmp: str, dest: str) -> None:
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


def temp_name(dest: str) -> str:
    """A hidden sibling name for a file being written (swept if a run dies)."""
    name = f".{posixpath.basename(dest)}{TEMP_MARK}{uuid.uuid4().hex[:12]}"
    return posixpath.join(posixpath.dirname(dest), name)


def put_temp(sftp: Any, dest: str, data: bytes) -> str:
    """Write `data` to a temporary sibling of `dest` and confirm it by reading it back (small
    files: manifests, the pointer); returns the temporary name. Removed again on failure."""
    tmp = temp_name(dest)
    try:
        with sftp.open(tmp, "wb") as f:  # not pipelined: each write's answer is checked
            f.write(data)
        confirm(sftp, tmp, len(data), hashlib.sha256(data).hexdigest())
    except BaseException:
        remove_quietly(sftp, tmp)
        raise
    return tmp


def put_bytes(sftp: Any, dest: str, data: bytes) -> None:
    """Write `dest` as `data`, confirmed on the remote before it takes the name."""
    replace(sftp, put_temp(sftp, dest, data), dest)


def remove_quietly(sftp: Any, path: str) -> bool:
    """Remove a remote file if possible (best effort: the link may be gone); True if removed."""
    try:
        sftp.remove(path)
    except Exception:  # a leftover temp file is swept by the next run
        return False
    return True


def mkdirs(sftp: Any, root: str, rels: Iterable[str], existing: set[str]) -> None:
    for rel in sorted(set(rels)):
        parts = rel.split("/")
        for i in range(len(parts)):
            sub = "/".join(parts[: i + 1])
            if sub in existing:
                continue
            path = posixpath.join(root, sub)
            try:
                sftp.mkdir(path)
            except OSError as refused_by:
                try:
                    sftp.stat(path)  # made meanwhile (or before): fine
                except OSError:
                    raise CtsiteError(
                        f"cannot create remote directory {path}: {server_said(refused_by)}",
                        hint=f"check the SFTP user's permissions on {posixpath.dirname(path)} "
                        "(read-only or immutable?) and the space left on the remote",
                    ) from None
            existing.add(sub)


def server_said(exc: OSError) -> str:
    """The server's own answer to a refused request (its status text), in a few words."""
    if exc.errno is None:  # a bare SSH_FX_FAILURE: SFTP has no finer status for most causes
        return f"the server refused it ({exc}; remote disk full, or no permission?)"
    return exc.strerror or str(exc)

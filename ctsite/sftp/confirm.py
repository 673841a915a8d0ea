"""Confirm bytes on the remote before a file gets its final name (and before a version goes live).

paramiko's pipelined writes (`SFTPFile.set_pipelined`) do not wait for each write's answer, and
`close()` drops the answers it has not read: a write the server refused (a full disk, a quota)
leaves a zero-filled hole or a short file, and the file still closes without an error.
`finish_writes` waits for every answer and raises the first refusal, so pipelining keeps its
throughput without losing an error. `confirm` then checks the remote size and, when a digest is
given, reads the file back and compares its SHA-256 — the one check that also catches bytes
stored wrong without any error, and that `remote_digest` runs on files already on the remote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

READ_AHEAD = 256  # read-back requests in flight per file (× 32 KiB), enough to fill the link
BLOCK = 1 << 20


class RemoteMismatch(OSError):
    """The remote copy is not the bytes sent (wrong size or digest): worth sending again."""


class WriteRefused(OSError):
    """The server answered a write with a plain failure (SFTP has no "disk full" status)."""


def refused(exc: BaseException) -> bool:
    """Whether `exc` is an SFTP status answer without an errno (paramiko raises a bare OSError
    for SSH_FX_FAILURE), as opposed to a dropped link, a timeout or a permission error."""
    return type(exc) is OSError and exc.errno is None


def finish_writes(fh: Any) -> None:
    """Flush `fh` (a pipelined paramiko SFTPFile) and wait for the answer to every write still
    unread, raising `WriteRefused` for the first refusal (paramiko's `close()` drops them).

    paramiko keeps the pending request ids of a file in `SFTPFile._reqs` and reads one answer
    with `SFTPClient._read_response(id)`, which raises on an error status; it has no public
    call for this. A request whose answer was already read elsewhere is skipped (its error, if
    any, is lost), which the size and digest checks of `confirm` still catch.
    """
    try:
        fh.flush()
        pending = fh._reqs
        while pending:
            request = pending.popleft()
            if request in fh.sftp._expecting:
                fh.sftp._read_response(request)
    except OSError as exc:
        if refused(exc):
            raise WriteRefused(
                f"the server refused a write ({exc}; remote disk full or over its quota?)"
            ) from None
        raise


def remote_digest(
    sftp: Any, path: str, size: int, on_bytes: Callable[[int], None] | None = None
) -> str:
    """The SHA-256 of the remote file `path` of `size` bytes, read back with read-ahead."""
    digest = hashlib.sha256()
    with sftp.open(path, "rb") as fh:
        if size:
            fh.prefetch(size, max_concurrent_requests=READ_AHEAD)
        while block := fh.read(BLOCK):
            digest.update(block)
            if on_bytes is not None:
                on_bytes(len(block))
    return digest.hexdigest()


def confirm(
    sftp: Any,
    path: str,
    size: int,
    sha256: str | None,
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    """Raise `RemoteMismatch` unless the remote file `path` has `size` bytes and, when `sha256`
    is given, that digest (read back)."""
    found = sftp.stat(path).st_size
    if found != size:
        raise RemoteMismatch(f"the remote copy has {found} bytes, not {size}")
    if sha256 is not None and remote_digest(sftp, path, size, on_bytes) != sha256:
        raise RemoteMismatch("the remote copy's SHA-256 differs from the bytes sent (read back)")

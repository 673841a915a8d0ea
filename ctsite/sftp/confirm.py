"""Confirm bytes on the remote before a file gets its final name (and before a version goes live).

paramiko's pipelined writes (`SFTPFile.set_pipelined`) do not wait for each write's answer, and
the answers it does not wait for itself are dropped (`close()` never raises them; nor does a
wait for another request that reads them first): a write the server refused (a full disk, a
quota) leaves a zero-filled hole or a short file, and the file still closes without an error.
`PipelinedWrites` sends the writes the same way (many in flight, so the throughput stays) but
receives every answer, in whatever order the server sends them, and raises the first refusal.
`confirm` then checks the remote size and, when a digest is given, reads the file back and
compares its SHA-256 — the one check that also catches bytes stored wrong without any error, and
that `remote_digest` runs on files already on the remote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from paramiko.sftp import CMD_STATUS, CMD_WRITE, SFTPError, int64

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


class PipelinedWrites:
    """Sequential writes to one open remote file, up to `window` of them in flight, every
    answer checked.

    paramiko has no public call for this; it uses what `SFTPFile` itself uses to pipeline
    (`SFTPClient._async_request` / `_read_response`, the file's `handle`), registering this
    object, not `None`, as the receiver of the answers (`_async_response`), so that none is
    dropped. `window` × `size` bytes in flight (default 8 MiB) keep a long link busy.
    """

    def __init__(self, sftp: Any, handle: bytes, size: int, window: int = 256):
        self.sftp, self.handle, self.size, self.window = sftp, handle, size, window
        self.offset = 0
        self.pending: set[int] = set()
        self.error: BaseException | None = None

    def _async_response(self, kind: int, msg: Any, num: int) -> None:
        """Called by paramiko with the answer to request `num` (whatever order it comes in)."""
        self.pending.discard(num)
        if self.error is not None:
            return
        if kind != CMD_STATUS:
            self.error = SFTPError(f"unexpected answer {kind} to a write")
            return
        try:
            self.sftp._convert_status(msg)
        except OSError as exc:
            self.error = explain(exc)
        except EOFError as exc:
            self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def write(self, data: bytes) -> None:
        """Send `data` (in requests of at most `size` bytes), waiting only while `window`
        requests are unanswered; raises the first refusal seen so far."""
        view = memoryview(data)
        for start in range(0, len(view), self.size):
            piece = bytes(view[start : start + self.size])
            num = self.sftp._async_request(self, CMD_WRITE, self.handle, int64(self.offset), piece)
            self.pending.add(num)
            self.offset += len(piece)
            while len(self.pending) >= self.window:
                self.sftp._read_response()  # one answer, dispatched to its receiver
            self._raise()

    def finish(self) -> None:
        """Wait for every answer; raise the first refusal."""
        while self.pending:
            self.sftp._read_response()
        self._raise()


def explain(exc: OSError) -> OSError:
    """A bare SFTP failure answer to a write as `WriteRefused` (with the likely cause)."""
    if refused(exc):
        return WriteRefused(f"the server refused a write ({exc}; remote disk full or over quota?)")
    return exc


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

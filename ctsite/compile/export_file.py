"""Writing an export's bytes where the user asked: standard output, or the path of `-o`.

A regular file (or a path where nothing is yet) is replaced whole: the bytes go to a temp file
beside it, are flushed to disk and their size checked, and only then renamed over it, so a
reader never sees half an export and a failed export leaves the old file as it was. Whatever
else is at the path is the user's and is never replaced: a symbolic link is followed (its
target is replaced as above; the link stays), a named pipe or a character device is written
through (opened and written, every error checked), and anything else (a folder, a socket, a
block device, a link to nothing) is refused. Every failure is one `CtsiteError` line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import sys
from pathlib import Path

from ctsite.errors import CtsiteError

HINT = "choose another -o FILE (a new or existing file, a named pipe or a device)"


def write_stdout(data: bytes) -> None:
    """Write `data` to standard output (a closed pipe stays a `BrokenPipeError` for the CLI)."""
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _error(exc, "standard output", len(data), "the export is incomplete") from None


def write_output(data: bytes, output: Path) -> None:
    """Write `data` to `output` by the rules of the module docstring."""
    path = output
    mode = _lstat_mode(output)
    if mode is not None and stat.S_ISLNK(mode):
        path, mode = _link_target(output)
    if mode is None or stat.S_ISREG(mode):
        _replace(data, output, path, None if mode is None else stat.S_IMODE(mode))
    elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        _write_through(data, output, path)
    elif stat.S_ISDIR(mode):
        raise CtsiteError(f"cannot write {output}: it is a folder", hint="add a file name")
    else:
        kind = "a socket" if stat.S_ISSOCK(mode) else "a block device"
        raise CtsiteError(f"cannot write {output}: it is {kind}, not a file", hint=HINT)


def _lstat_mode(path: Path) -> int | None:
    """The file type and mode at `path` (not following a link); None when nothing is there."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:  # a parent that is a file, no permission to look, ...
        raise _error(exc, str(path), 0, "nothing was written") from None


def _link_target(link: Path) -> tuple[Path, int]:
    """The path a symbolic link leads to and what is there; a link to nothing is refused (the
    file it names would be made somewhere the user may not expect)."""
    try:
        mode = os.stat(link).st_mode
    except OSError as exc:
        what = "loops" if exc.errno == errno.ELOOP else f"leads to nothing ({os.readlink(link)})"
        raise CtsiteError(
            f"cannot write {link}: it is a symbolic link that {what}", hint=HINT
        ) from None
    return Path(os.path.realpath(link)), mode


def _replace(data: bytes, output: Path, path: Path, keep_mode: int | None) -> None:
    """Temp file beside `path`, flushed and size-checked, then renamed over it."""
    folder = path.parent
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise CtsiteError(
            f"cannot write {output}: the folder {folder} {what}",
            hint="create the folder first, or choose another -o FILE",
        )
    tmp = folder / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        try:
            if keep_mode is not None:
                os.fchmod(fd, keep_mode)  # the replaced file's permissions
            _write_all(fd, data)
            os.fsync(fd)
            written = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if written != len(data):
            raise CtsiteError(
                f"cannot write {output}: {written} of {len(data)} bytes reached the disk; "
                "the previous file is unchanged"
            )
        os.replace(tmp, path)
    except OSError as exc:
        raise _error(exc, str(output), len(data), "the previous file is unchanged") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _write_through(data: bytes, output: Path, path: Path) -> None:
    """Open the named pipe or device at `path` and write `data` into it, checking every write."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except BrokenPipeError:
        raise  # the pipe's reader went away: the CLI's quiet exit
    except OSError as exc:
        raise _error(exc, str(output), len(data), "the export is incomplete") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        done = os.write(fd, view)
        if done <= 0:
            raise OSError(errno.EIO, "the write made no progress")
        view = view[done:]


def _error(exc: OSError, where: str, size: int, after: str) -> CtsiteError:
    """One line for a failed write: the cause in words (never an exception's repr), and what
    it left (`after`)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return CtsiteError(
            f"no space left on {where} ({size} bytes to write); {after}",
            hint="free some space, or write the export elsewhere with -o FILE",
        )
    if exc.errno == errno.ENOTDIR:
        return CtsiteError(f"cannot write {where}: a folder on its path is a file", hint=HINT)
    return CtsiteError(f"cannot write {where}: {exc.strerror or exc}; {after}", hint=HINT)

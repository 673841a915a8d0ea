"""Where a compile writes: the store folder's lock, its safety rule and the version publish.

A compile writes its new version completely beside the live ones (`versions/.tmp-…`), renames it
to its id and only then switches the pointer (`ctsite.store.versions`), so readers see the old
version or the new one, never a mix; old versions are pruned (current and previous are kept).
A store in the flat layout of schema 1 is converted: the whole new folder is built beside it and
swapped in with two renames. The compile only ever writes into, converts or sweeps an empty
folder or a folder that is certainly a ctsite store (`ownership`); anything else is refused.
Its lock file (`.<store>.lock`, beside the store) lives as long as the compile; what a killed
compile left is swept by the next one (`leftovers`), the no-change run included (`tidy`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ctsite.compile import leftovers, ownership
from ctsite.errors import CtsiteError, InputError
from ctsite.store import format as fmt
from ctsite.store import versions


def write_error(exc: OSError, dest: Path) -> CtsiteError:
    """A failed write (disk full, quota, permissions, read-only) as one line; the old store is
    untouched."""
    where = exc.filename or dest.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return CtsiteError(
            f"no space left on the device of {where} while compiling; the previous store is "
            "unchanged and the partial output was removed",
            hint="free some space there, or compile elsewhere with --out DIR",
        )
    return CtsiteError(
        f"cannot write the store under {dest.parent}: {exc.strerror or exc} ({where})",
        hint="check that the folder is writable, or compile elsewhere with --out DIR",
    )


def lock_path(dest: Path) -> Path:
    """The lock file of the store `dest` (beside it: the store folder may be swapped whole)."""
    return dest.parent / f".{dest.name}.lock"


def _same_file(fh: IO[str], path: Path) -> bool:
    try:
        on_disk = path.stat()
    except OSError:
        return False
    mine = os.fstat(fh.fileno())
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _acquire(path: Path, dest: Path) -> IO[str]:
    """Open and flock the lock file; the file must still be the one at `path` once locked (its
    previous holder removes it on exit: a lock on the removed file would lock nothing)."""
    while True:
        fh = path.open("a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise CtsiteError(
                f"another compile is writing {dest}", hint="wait for it to finish"
            ) from None
        except BaseException:
            fh.close()
            raise
        if _same_file(fh, path):
            return fh
        fh.close()


def _missing_folders(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; a folder with anything in it stays
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def lock(dest: Path) -> Iterator[None]:
    """Hold the store's write lock; one line (never a traceback) when it cannot be taken.

    The lock file and the folders made for it are removed on exit (the folders only when still
    empty), so nothing of a compile outlives it; a killed compile's lock file is removed by the
    next compile, which can take the lock because the kernel released it.
    """
    made = _missing_folders(dest.parent)
    path = lock_path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fh = _acquire(path, dest)
    except OSError as exc:
        _remove_if_empty(made)
        raise write_error(exc, dest) from None
    except BaseException:
        _remove_if_empty(made)
        raise
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # before unlocking: a waiter then sees the file changed and retries
        fh.close()
        _remove_if_empty(made)


def tidy(dest: Path) -> list[Path]:
    """The no-change run's share of the cleanup: when no compile holds the store's lock, remove
    what killed compiles left (`leftovers.sweep`); when one does, or the folder cannot be
    written, nothing. Returns what was removed."""
    if not dest.is_dir():
        return []
    try:
        with lock(dest):
            recover(dest)
            return leftovers.sweep(dest)
    except CtsiteError:
        return []


def recover(dest: Path) -> None:
    """Finish or undo a swap interrupted between its two renames (call under `lock(dest)`):
    the store aside as `.<store>.old-<pid>` goes back in place. Other leftovers are swept by
    `leftovers.sweep`."""
    olds = sorted(dest.parent.glob(f".{dest.name}.old-*"))
    olds = [o for o in olds if o.name.rpartition("-")[2].isdigit() and o.is_dir()]
    if olds and not dest.exists():
        os.rename(olds[-1], dest)


def is_store(path: Path) -> bool:
    """Whether `path` is certainly a store a ctsite compile wrote (`ownership`: its manifest
    carries ctsite's own keys; a name like `CURRENT` or `manifest.json` alone proves nothing)."""
    return ownership.store_kind(path) is not None


def _describe(entries: list[str]) -> str:
    shown = ", ".join(entries[:5])
    return f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: {shown}" + (
        ", …" if len(entries) > 5 else ""
    )


def check_replaceable(dest: Path) -> None:
    """Refuse an output path the compile must not write into: a file, a path under a file, a
    folder that is not certainly a ctsite store (`ownership`) and not empty, or a flat store
    holding files of the user's (its conversion replaces the folder whole).

    The compile writes into, converts and sweeps only an empty folder or a ctsite store;
    anything else would overwrite or delete the user's files.
    """
    hint = "choose another --out / compiled_dir (a new or empty folder, or an existing store)"
    for parent in dest.parents:  # the nearest existing one must be a folder
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise InputError(f"output path {dest}: {parent} is a file, not a folder", hint=hint)
            break
    if dest.is_symlink() and not dest.is_dir():
        raise InputError(f"output path {dest} is a symbolic link, not a store folder", hint=hint)
    if not dest.exists():
        return
    if not dest.is_dir():
        raise InputError(f"output path {dest} is an existing file, not a store folder", hint=hint)
    kind = ownership.store_kind(dest)
    if kind is ownership.StoreKind.FLAT:
        foreign = ownership.foreign_in_flat(dest)
        if foreign:
            raise InputError(
                f"output folder {dest} is a ctsite store of schema 1 (flat) that also holds "
                f"files of its own ({_describe(foreign)}); converting it to versioned folders "
                "would delete them, so nothing was changed",
                hint="move those files out of the store folder, then compile again",
            )
        return
    if kind is not None:
        return
    try:
        entries = sorted(e.name + ("/" if e.is_dir() else "") for e in dest.iterdir())
    except OSError as exc:
        raise InputError(f"output folder {dest} cannot be read ({exc.strerror})") from None
    if entries:
        named = [e for e in entries if e.rstrip("/") in ownership.STORE_NAMES]
        lookalike = (
            f"; its {' and '.join(named)} {'is' if len(named) == 1 else 'are'} not ctsite's"
            if named
            else ""
        )
        raise InputError(
            f"output folder {dest} is not a ctsite store and is not empty "
            f"({_describe(entries)}){lookalike}; nothing was changed",
            hint=hint,
        )


def swap(tmp: Path, dest: Path) -> None:
    check_replaceable(dest)
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.rename(dest, old)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


@dataclass
class Target:
    """A version being written: its id, its temp folder and the folder to publish it in."""

    dest: Path
    version: str
    work: Path  # write the version's files here
    staging: Path | None  # a whole new store folder, when converting a flat store
    created: tuple[Path, ...] = ()  # folders `begin` made (removed again if a compile fails)


def begin(dest: Path, compile_key: str) -> Target:
    """Prepare the temp folder of a new version of `dest` (call under `lock(dest)`)."""
    version = versions.new_version_id(compile_key)
    flat = ownership.store_kind(dest) is ownership.StoreKind.FLAT
    root = dest.with_name(f".{dest.name}.tmp-{os.getpid()}") if flat else dest
    base = root / fmt.VERSIONS_DIR
    created = tuple(p for p in (base, root) if not p.exists())
    base.mkdir(parents=True, exist_ok=True)
    work = base / leftovers.temp_version_name(version, os.getpid())
    work.mkdir()
    return Target(dest, version, work, root if flat else None, created)


def abandon(target: Target) -> None:
    """Remove what `begin` created for a compile that failed (the live store is untouched)."""
    shutil.rmtree(target.work, ignore_errors=True)
    if target.staging is not None:
        shutil.rmtree(target.staging, ignore_errors=True)
    for folder in target.created:  # only if still empty: never what someone else put there
        with contextlib.suppress(OSError):
            folder.rmdir()


def publish(target: Target, manifest: dict[str, Any], keep: int = versions.MIN_KEEP) -> list[str]:
    """Move the finished version's files into the shared objects, write its manifest (with the
    file map), name it, switch the pointer to it and prune; returns warnings to show."""
    root = target.work.parent.parent
    manifest[fmt.FILES_KEY] = versions.store_objects(
        root, target.work, skip=(fmt.MANIFEST, fmt.FIGURES_DIR)
    )
    tmp = target.work / f"{fmt.TEMP_PREFIX}{fmt.MANIFEST}"
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target.work / fmt.MANIFEST)
    final = target.work.parent / target.version
    os.rename(target.work, final)
    if target.staging is not None:
        old = versions.current_manifest(target.dest) or {}
        versions.write_pointer(target.staging, target.version)
        swap(target.staging, target.dest)
        return [
            f"converted {target.dest} from the flat layout (store schema "
            f"{old.get('schema_version', '?')}) to versioned folders (schema {fmt.SCHEMA_VERSION})"
        ]
    versions.switch(target.dest, target.version)
    versions.prune(target.dest, keep)
    return []

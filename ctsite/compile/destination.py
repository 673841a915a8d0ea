"""Where a compile writes: the store folder's lock, its safety rule and the version publish.

A compile writes its new version completely beside the live ones (`versions/.tmp-…`), renames it
to its id and only then switches the pointer (`ctsite.store.versions`), so readers see the old
version or the new one, never a mix; old versions are pruned (current and previous are kept).
A store in the flat layout of schema 1 is converted: the whole new folder is built beside it and
swapped in with two renames. The compile only ever replaces an empty folder or a ctsite store.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctsite.errors import CtsiteError, InputError
from ctsite.store import format as fmt
from ctsite.store import versions


@contextlib.contextmanager
def lock(dest: Path) -> Iterator[None]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / f".{dest.name}.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CtsiteError(
                f"another compile is writing {dest}", hint="wait for it to finish"
            ) from None
        yield


def recover(dest: Path) -> None:
    """Finish or undo a swap interrupted between its two renames; drop stale temp dirs."""
    olds = sorted(dest.parent.glob(f".{dest.name}.old-*"))
    if olds and not dest.exists():
        os.rename(olds[-1], dest)
        olds = olds[:-1]
    for stale in [*olds, *dest.parent.glob(f".{dest.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def is_store(path: Path) -> bool:
    """Whether `path` is a directory that a ctsite compile wrote (its manifest says so)."""
    if versions.is_versioned(path) and path.is_dir():
        return True  # a pointer or a versions folder: the versioned layout (maybe mid-publish)
    manifest = versions.current_manifest(path)
    return isinstance(manifest, dict) and isinstance(manifest.get("schema_version"), int)


def _describe(entries: list[str]) -> str:
    shown = ", ".join(entries[:5])
    return f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: {shown}" + (
        ", …" if len(entries) > 5 else ""
    )


def check_replaceable(dest: Path) -> None:
    """Refuse an output path the compile must not replace: a file, or a folder of other files.

    The swap replaces `dest` whole, so it may only ever be absent, an empty directory or a
    ctsite store; anything else would delete the user's files.
    """
    hint = "choose another --out / compiled_dir (a new or empty folder, or an existing store)"
    if dest.is_symlink() and not dest.is_dir():
        raise InputError(f"output path {dest} is a symbolic link, not a store folder", hint=hint)
    if not dest.exists():
        return
    if not dest.is_dir():
        raise InputError(f"output path {dest} is an existing file, not a store folder", hint=hint)
    if is_store(dest):
        return
    try:
        entries = sorted(e.name + ("/" if e.is_dir() else "") for e in dest.iterdir())
    except OSError as exc:
        raise InputError(f"output folder {dest} cannot be read ({exc.strerror})") from None
    if entries:
        raise InputError(
            f"output folder {dest} is not a ctsite store and is not empty "
            f"({_describe(entries)}); nothing was changed",
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
    flat = dest.is_dir() and not versions.is_versioned(dest) and any(dest.iterdir())
    root = dest.with_name(f".{dest.name}.tmp-{os.getpid()}") if flat else dest
    base = root / fmt.VERSIONS_DIR
    created = tuple(p for p in (base, root) if not p.exists())
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(f"{fmt.TEMP_PREFIX}*"):  # an interrupted compile's (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    work = base / f"{fmt.TEMP_PREFIX}{version}-{os.getpid()}"
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

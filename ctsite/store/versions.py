"""Versions of a store folder and the pointer that names the current one.

A store folder holds immutable `versions/<id>/` folders and a small pointer file (`CURRENT`) that
names the current version (and the one before it). Writers publish a version by writing it
completely under its final name and then replacing the pointer in one atomic rename; readers
follow the pointer. The rules a reader follows, on a local disk or on NFS/EFS:

- pointer present → open the version it names;
- pointer absent (a server that cannot rename over a file removes `CURRENT` and then renames
  `CURRENT.next` into place) → the complete `CURRENT.next`; absent too → keep what you have
  (`StoreHandle` keeps serving its open version);
- no pointer and no versions → a store in the flat layout of schema 1 (the folder itself).

A writer that cannot rename over a file follows `fallback_switch`, which keeps a pointer this rule
finds at every step, so a kill between any two steps leaves the site on the old or the new version
and a re-run from there ends with `CURRENT` itself naming the new one.

Pruning keeps the current and the previous version always, plus the newest others up to `keep`,
then deletes the objects (`objects/`, content-named files shared by versions) that no kept version
names. The byte-level helpers (`pointer_bytes`, `parse_pointer`, `plan_prune`, `file_map`,
`plan_sweep`) let a remote writer (the upload over SFTP) follow the same rules without a local
folder. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctsite.errors import StoreError
from ctsite.store import format as fmt

MIN_KEEP = 2  # the current and the previous version are never pruned


@dataclass(frozen=True)
class Pointer:
    """What `CURRENT` says: the current version, the one it replaced (if any) and the SHA-256
    of the current version's manifest (None in pointers written before ctsite recorded it), so
    a reader that opens the version knows the manifest is the one published with it."""

    version: str
    previous: str | None = None
    manifest: str | None = None


def new_version_id(compile_key: str, when: datetime | None = None) -> str:
    """A fresh, time-sortable version id: v<UTC time>-<8 hex of the compile key>-<4 random hex>."""
    when = when or datetime.now(UTC)
    key = (compile_key + "0" * 8)[:8].lower()
    if not all(c in "0123456789abcdef" for c in key):
        key = "0" * 8
    return f"v{when.astimezone(UTC):%Y%m%dT%H%M%SZ}-{key}-{secrets.token_hex(2)}"


def is_version_id(name: str) -> bool:
    return bool(fmt.VERSION_ID.match(name))


def is_digest(value: object) -> bool:
    """Whether `value` is a SHA-256 digest as ctsite writes them (64 lowercase hex)."""
    return isinstance(value, str) and len(value) == 64 and all(c in _HEX for c in value)


_HEX = frozenset("0123456789abcdef")


def pointer_bytes(version: str, previous: str | None = None, manifest: str | None = None) -> bytes:
    """The content of a pointer file naming `version` (and the version it replaces, and the
    SHA-256 of `version`'s manifest)."""
    for name in (version, previous):
        if name is not None and not is_version_id(name):
            raise ValueError(f"not a version id: {name!r}")
    doc: dict[str, str | None] = {"version": version, "previous": previous}
    if manifest is not None:
        if not is_digest(manifest):
            raise ValueError(f"not a SHA-256 digest: {manifest!r}")
        doc["manifest"] = manifest
    return (json.dumps(doc) + "\n").encode()


def parse_pointer(data: bytes) -> Pointer | None:
    """The pointer in `data`, or None when it is not a complete, valid pointer."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    version, previous = doc.get("version"), doc.get("previous")
    if not isinstance(version, str) or not is_version_id(version):
        return None
    if previous is not None and (not isinstance(previous, str) or not is_version_id(previous)):
        previous = None
    manifest = doc.get("manifest")
    return Pointer(version, previous, manifest if is_digest(manifest) else None)


def first_pointer(read: Callable[[str], bytes | None]) -> Pointer | None:
    """The pointer a store's files give, `read(name)` returning a file's bytes (None: absent).

    Read in the order a fallback writer changes them (CURRENT, CURRENT.next, CURRENT again), so
    a reader racing with "remove CURRENT; rename CURRENT.next → CURRENT" still finds one. The
    one rule for a local folder (`read_pointer`) and a remote one (the upload over SFTP).
    """
    for name in (fmt.POINTER, fmt.POINTER_NEXT, fmt.POINTER):
        data = read(name)
        found = parse_pointer(data) if data is not None else None
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Move:
    """One step of a pointer switch on a server whose rename cannot replace a file: remove
    `path` (when present), or rename `path` to `to` (which is absent by then)."""

    op: str  # "remove" or "rename"
    path: str
    to: str | None = None
    live: bool = False  # once done, the reading rule finds the new pointer


def fallback_switch(current_ok: bool, next_ok: bool, tmp: str) -> list[Move]:
    """The steps that make the complete pointer file `tmp` the store's `CURRENT` where rename
    cannot replace a file, given whether `CURRENT` and `CURRENT.next` now hold valid pointers.

    Each step keeps a pointer `first_pointer` finds (if there was one): `CURRENT.next` is only
    removed while a valid `CURRENT` is in place, and only renamed over once `CURRENT` is gone; a
    `CURRENT.next` a killed switch left as the only pointer is first renamed back to `CURRENT`.
    """
    steps: list[Move] = []
    if not current_ok and next_ok:  # a killed switch: CURRENT.next is what readers read
        steps += [Move("remove", fmt.POINTER), Move("rename", fmt.POINTER_NEXT, fmt.POINTER)]
    elif not current_ok:  # no valid pointer at all (a first publish): nothing to keep
        return [
            Move("remove", fmt.POINTER),
            Move("remove", fmt.POINTER_NEXT),
            Move("rename", tmp, fmt.POINTER, live=True),
        ]
    return [
        *steps,
        Move("remove", fmt.POINTER_NEXT),  # stale: readers read the valid CURRENT
        Move("rename", tmp, fmt.POINTER_NEXT),  # complete before CURRENT goes away
        Move("remove", fmt.POINTER, live=True),  # readers now read CURRENT.next
        Move("rename", fmt.POINTER_NEXT, fmt.POINTER),
    ]


def read_pointer(root: Path) -> Pointer | None:
    """The pointer of the store folder `root` (its documented fallback when `CURRENT` is missing)."""
    root = Path(root)

    def read(name: str) -> bytes | None:
        try:
            return (root / name).read_bytes()
        except OSError:
            return None

    return first_pointer(read)


def pointer_stamp(root: Path) -> tuple[int, int, int] | None:
    """A cheap change detector for the pointer: (inode, mtime ns, size), None when absent."""
    try:
        st = (Path(root) / fmt.POINTER).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


_TEMP_POINTER = re.compile(rf"^\.{re.escape(fmt.POINTER + fmt.TEMP_PREFIX)}([0-9]+)-[0-9a-f]+$")


def temp_pointer_name(pid: int) -> str:
    """The name of the temp file a process writes a new pointer into (before renaming it)."""
    return f".{fmt.POINTER}{fmt.TEMP_PREFIX}{pid}-{secrets.token_hex(4)}"


def temp_pointer_owner(name: str) -> int | None:
    """The process id in a name `temp_pointer_name` makes; None for any other name (so a
    sweep of a killed writer's temp pointer never touches a file we did not create)."""
    found = _TEMP_POINTER.match(name)
    return int(found.group(1)) if found else None


def write_pointer(root: Path, version: str, previous: str | None = None) -> Pointer:
    """Point `root` at `version` (recording its manifest's SHA-256) with one atomic rename
    (temp file, fsync, os.replace); returns the pointer written."""
    root = Path(root)
    manifest = root / fmt.VERSIONS_DIR / version / fmt.MANIFEST
    if not manifest.is_file():
        raise StoreError(f"{root}: cannot point at {version!r}: it is not a complete version")
    pointer = Pointer(version, previous, digest(manifest))
    tmp = root / temp_pointer_name(os.getpid())
    try:
        with tmp.open("wb") as fh:
            fh.write(pointer_bytes(pointer.version, pointer.previous, pointer.manifest))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, root / fmt.POINTER)
    finally:
        tmp.unlink(missing_ok=True)
    (root / fmt.POINTER_NEXT).unlink(missing_ok=True)  # a left-over fallback is now stale
    return pointer


def switch(root: Path, version: str) -> Pointer:
    """Make `version` current, recording the version it replaces as the previous one."""
    old = read_pointer(root)
    previous = old.version if old and old.version != version else (old.previous if old else None)
    return write_pointer(root, version, previous)


def list_versions(root: Path) -> list[str]:
    """The complete versions of `root`, oldest first (ids sort by creation time)."""
    base = Path(root) / fmt.VERSIONS_DIR
    try:
        names = [e.name for e in base.iterdir() if e.is_dir() and is_version_id(e.name)]
    except OSError:
        return []
    return sorted(n for n in names if (base / n / fmt.MANIFEST).is_file())


def plan_prune(versions: Iterable[str], pointer: Pointer | None, keep: int = MIN_KEEP) -> list[str]:
    """The versions to delete: all but the current, the previous and the newest up to `keep`.

    Without a pointer nothing is deleted (which version is live is unknown).
    """
    if pointer is None:
        return []
    ordered = sorted(set(versions), reverse=True)  # newest first
    kept = {pointer.version} | ({pointer.previous} if pointer.previous else set())
    for name in ordered:
        if len(kept) >= max(keep, MIN_KEEP):
            break
        kept.add(name)
    return sorted(n for n in ordered if n not in kept)


def prune(root: Path, keep: int = MIN_KEEP) -> list[str]:
    """Delete old versions of `root` (see `plan_prune`) and the objects only they named;
    returns the ids deleted."""
    root = Path(root)
    doomed = plan_prune(list_versions(root), read_pointer(root), keep)
    for name in doomed:
        shutil.rmtree(root / fmt.VERSIONS_DIR / name)
    sweep(root)  # also the objects of a compile that died before naming its version
    return doomed


def file_map(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The files of a schema-3 version: relative path → {"object", "size"} ({} for schema 2).

    Entries that are not a plain relative path to a valid object name are refused, so a
    manifest can never point a reader outside the store folder.
    """
    files = manifest.get(fmt.FILES_KEY)
    if files is None:
        return {}
    if not isinstance(files, dict):
        raise ValueError(f"{fmt.FILES_KEY!r} is not a mapping")
    out: dict[str, dict[str, Any]] = {}
    for rel, entry in files.items():
        parts = str(rel).split("/")
        if not rel or any(p in {"", ".", ".."} for p in parts) or "\\" in str(rel):
            raise ValueError(f"bad file name {rel!r}")
        if not isinstance(entry, dict) or not fmt.OBJECT_NAME.match(str(entry.get("object"))):
            raise ValueError(f"bad object entry for {rel!r}")
        out[str(rel)] = {"object": str(entry["object"]), "size": int(entry.get("size", -1))}
    return out


def objects_of(manifest: dict[str, Any]) -> set[str]:
    """The object names a version's manifest refers to (none for schema 2 or a broken one)."""
    try:
        return {e["object"] for e in file_map(manifest).values()}
    except (ValueError, TypeError):
        return set()


def objects_named(data: bytes | None) -> set[str] | None:
    """The objects a version's manifest file (`data`) names: empty for schema 2 (its files are
    in its folder), None when it is absent or unreadable — then which objects it needs is
    unknown, and a sweep must delete none. The one rule of the local and the remote sweep."""
    try:
        doc = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if fmt.FILES_KEY not in doc:
        return set()
    return objects_of(doc) or None


def plan_sweep(objects: Iterable[str], referenced: set[str]) -> list[str]:
    """The object files no kept version names (other names in the folder are left alone)."""
    return sorted(n for n in set(objects) if fmt.OBJECT_NAME.match(n) and n not in referenced)


def sweep(root: Path) -> list[str]:
    """Delete the objects of `root` that none of its versions names; returns their names.

    Run under the store's write lock: a version being written names objects that are not in
    any manifest yet.
    """
    root = Path(root)
    base = root / fmt.VERSIONS_DIR
    try:
        objects = [e.name for e in (root / fmt.OBJECTS_DIR).iterdir()]
    except OSError:
        return []
    referenced: set[str] = set()
    for name in list_versions(root):  # complete versions: those with a manifest
        try:
            data: bytes | None = (base / name / fmt.MANIFEST).read_bytes()
        except OSError:
            data = None
        found = objects_named(data)
        if found is None:
            return []  # a version whose objects are unknown: delete none
        referenced |= found
    doomed = plan_sweep(objects, referenced)
    for name in doomed:
        (root / fmt.OBJECTS_DIR / name).unlink(missing_ok=True)
    return doomed


def digest(path: Path) -> str:
    """The SHA-256 of a file (hex)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def store_objects(root: Path, work: Path, skip: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """Move every file of the version being written in `work` into `root/objects/`, named by
    its content; returns the manifest's file map.

    An object already there is kept (and ours dropped) only when its bytes hash to its name: a
    damaged one is replaced, so `compile --force` repairs what a reader refused. Hashing the
    kept ones costs one read of the store (~15 MB at study scale). Files under the top-level
    names in `skip` (the manifest, precomputed figures) stay put.
    """
    root, work = Path(root), Path(work)
    skipped = set(skip)
    objects = root / fmt.OBJECTS_DIR
    objects.mkdir(exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(work):
        rel_dir = Path(dirpath).relative_to(work)
        if rel_dir.parts and rel_dir.parts[0] in skipped:
            continue
        dirnames[:] = sorted(d for d in dirnames if rel_dir.parts or d not in skipped)
        for name in sorted(filenames):
            rel = (rel_dir / name).as_posix()
            if not rel_dir.parts and name in skipped:
                continue
            path = Path(dirpath) / name
            sha = digest(path)
            obj = fmt.object_name(sha, rel)
            size = path.stat().st_size
            if _intact(objects / obj, sha, size):
                path.unlink()
            else:
                os.replace(path, objects / obj)
            files[rel] = {"object": obj, "size": size}
    for dirpath, _dirs, _files in sorted(os.walk(work), key=lambda x: -len(x[0])):
        if Path(dirpath) != work and not any(Path(dirpath).iterdir()):
            Path(dirpath).rmdir()  # the empty folders left behind
    return dict(sorted(files.items()))


def _intact(path: Path, sha256: str, size: int) -> bool:
    """Whether `path` is a regular file of `size` bytes whose SHA-256 is `sha256`."""
    try:
        if not path.is_file() or path.stat().st_size != size:
            return False
        return digest(path) == sha256
    except OSError:
        return False


def version_path(root: Path) -> Path | None:
    """The folder of the current version of `root`; `root` itself for a flat (schema 1) store."""
    root = Path(root)
    pointer = read_pointer(root)
    if pointer is not None:
        path = root / fmt.VERSIONS_DIR / pointer.version
        return path if (path / fmt.MANIFEST).is_file() else None
    if is_versioned(root):
        return None
    return root if (root / fmt.MANIFEST).is_file() else None


def is_versioned(root: Path) -> bool:
    """Whether `root` uses the versioned layout (a pointer or a versions folder)."""
    root = Path(root)
    return any((root / n).exists() for n in (fmt.POINTER, fmt.POINTER_NEXT, fmt.VERSIONS_DIR))


def manifest_path(root: Path) -> Path:
    """Where the current manifest of `root` is (or would be, for messages)."""
    found = version_path(root)
    return (found or Path(root)) / fmt.MANIFEST


def current_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the current version of `root`, or None when there is none readable."""
    try:
        doc = json.loads(manifest_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None

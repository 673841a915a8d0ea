"""The sync manifest and the local tree scan: sizes and SHA-256 digests of every file.

The remote manifest (`.ctsite-manifest.json` at the remote root) is written as the last step of
a successful sync; a copy beside the local tree also records each file's stat signature, so an
unchanged file is not hashed again and `--dry-run` can plan without a connection.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import posixpath
import time
import uuid
from pathlib import Path
from typing import Any

from ctsite.errors import CtsiteError
from ctsite.sftp.client import LOCK_DIR, TEMP_MARK
from ctsite.store.versions import digest

MANIFEST = ".ctsite-manifest.json"
CHUNK = 1 << 20

Entries = dict[str, dict[str, Any]]  # relative path -> {"size", "sha256"[, "stamp"]}


@dataclasses.dataclass(frozen=True)
class LocalFile:
    rel: str  # POSIX path relative to the tree root
    size: int
    sha256: str  # "" = not hashed yet (hashed while it is uploaded)
    stamp: str = dataclasses.field(default="", compare=False)  # local stat signature


def _stamp(st: os.stat_result) -> str:
    """Changes whenever the content may have: size, mtime, ctime (set by any write or utime)."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _unreadable(path: Path, exc: OSError) -> CtsiteError:
    return CtsiteError(
        f"cannot read {path}: {exc.strerror or exc}",
        hint="fix the file's permissions or remove it from the data directory",
    )


def scan_local(
    root: Path, jobs: int = 2, use_cache: bool = True, lazy: bool = False
) -> dict[str, LocalFile]:
    """Every regular file under `root` with its size and SHA-256 (hashed in parallel);
    symlinked files and folders are followed (a store folder linked into data/ is sent).

    A digest recorded by the last successful sync is reused when the file's stat signature
    (size, mtime, ctime, inode) is unchanged, so a no-change re-sync reads almost nothing.
    With `lazy`, other files are only checked to be readable and keep an empty digest: `hash_some`
    fills in the ones a plan must compare, and the upload hashes the rest as it reads them.
    """
    if not root.is_dir():
        raise CtsiteError(
            f"data directory not found: {root}",
            hint="run `ctsite compile` first, or set data_dir (CTSITE_DATA_DIR)",
        )
    paths: list[tuple[str, Path]] = []
    seen: set[tuple[int, int]] = set()  # folders walked (a symlink loop is walked once)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if d != LOCK_DIR)  # never sent over a lock
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
            if lazy:
                with path.open("rb") as f:
                    f.read(1)  # unreadable files fail now, before any server exists
                return LocalFile(rel, st.st_size, "", stamp)
            return LocalFile(rel, st.st_size, digest(path), stamp)
        except OSError as exc:
            raise _unreadable(path, exc) from None

    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        files = list(pool.map(one, paths))
    return {f.rel: f for f in files}


def hash_some(root: Path, files: list[LocalFile], jobs: int = 2) -> list[LocalFile]:
    """The same files with their SHA-256 computed (in parallel)."""

    def one(f: LocalFile) -> LocalFile:
        try:
            return dataclasses.replace(f, sha256=digest(root / f.rel))
        except OSError as exc:
            raise _unreadable(root / f.rel, exc) from None

    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        return list(pool.map(one, files))


def read_local_manifest(root: Path) -> Entries:
    """The copy of the remote manifest saved by the last successful sync (empty if none)."""
    try:
        return _parse_manifest((root / MANIFEST).read_bytes())
    except OSError:
        return {}


def _parse_manifest(raw: bytes) -> Entries:
    try:
        doc = json.loads(raw)
        files = doc["files"]
        out: Entries = {}
        for k, v in files.items():
            out[str(k)] = {"size": int(v["size"]), "sha256": str(v["sha256"])}
            if "stamp" in v:
                out[str(k)]["stamp"] = str(v["stamp"])
        return out
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}  # unreadable manifest: everything is re-checked by sending it again


def manifest_bytes(entries: Entries) -> bytes:
    written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    doc = {"format": 1, "written": written, "files": dict(sorted(entries.items()))}
    return json.dumps(doc, indent=1).encode()


def write_local_manifest(root: Path, local: dict[str, LocalFile]) -> None:
    """The local copy of the remote manifest, plus each file's stat signature as a cache.

    Files modified in the last few seconds get no signature: a write landing in the same
    timestamp tick as the hash could otherwise go unnoticed.
    """
    recent = time.time_ns() - 2_000_000_000
    entries: Entries = {}
    for f in local.values():
        entries[f.rel] = {"size": f.size, "sha256": f.sha256}
        parts = f.stamp.split(":")
        if len(parts) == 4 and int(parts[1]) < recent and int(parts[2]) < recent:
            entries[f.rel]["stamp"] = f.stamp
    tmp = root / f"{MANIFEST}{TEMP_MARK}{uuid.uuid4().hex}"
    tmp.write_bytes(manifest_bytes(entries))
    tmp.replace(root / MANIFEST)


def read_remote_manifest(sftp: Any, root: str) -> Entries:
    """The manifest at the remote root (empty if missing or unreadable)."""
    try:
        with sftp.open(posixpath.join(root, MANIFEST), "rb") as f:
            return _parse_manifest(f.read())
    except OSError:
        return {}

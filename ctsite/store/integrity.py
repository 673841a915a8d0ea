"""The files of an opened store version: checked in full once, when it is opened; cheaply after.

Schema-3 objects are named by their SHA-256, so opening a version hashes each object once and
compares it with its name (study scale: ~15 MB, tens of milliseconds): a wrong byte anywhere is a
`StoreError` naming the file, never a wrong figure. Each file's stat (inode, size, modification
and change times) is taken from the very descriptor that was hashed; from then on `read()` (a
file read from disk, stat before and after) and `problems()` (every /healthz) only `stat` the
files. A stat that changed makes a file be hashed again, once per change: the same bytes (a
`touch`, a `chmod`, an object re-uploaded) are fine again; another size or other bytes are damage. The change time
cannot be set back, so a same-size edit whose modification time was restored is seen as well.

Everything wrong with a store has a short machine word, the `reason` of its `StoreError`, for the
log, /healthz and alarms (`REASONS`). Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ctsite.errors import StoreError
from ctsite.store import format as fmt
from ctsite.store import versions

REASONS: dict[str, str] = {
    "store-missing": "no compiled store at the path (no pointer, no versions, no manifest)",
    "pointer-missing": "the versioned store has no pointer (CURRENT nor CURRENT.next)",
    "pointer-unreadable": "the pointer is not a valid pointer",
    "version-missing": "the pointer names a version that is not there",
    "manifest-unreadable": "the version's manifest cannot be read or parsed",
    "manifest-changed": "the open version's manifest changed or vanished after it was read",
    "manifest-mismatch": "the version's manifest is not the one its pointer recorded (SHA-256)",
    "manifest-malformed": "the manifest parses but lacks or garbles a field",
    "schema-unsupported": "the store's schema is one this ctsite does not read",
    "object-missing": "a file of the version is absent",
    "object-truncated": "a file of the version is shorter than it should be",
    "object-changed": "a file of the version holds other bytes than its name or its open said",
    "object-unreadable": "a file of the version cannot be parsed",
    "store-unavailable": "the store cannot be opened for another reason (the log says which)",
}
NOT_ITS_NAME = "its bytes do not match its SHA-256 name: the file was changed or damaged"
CHANGED = "its bytes changed since the version was opened"
REPAIR_HINT = "re-publish the data (`ctsite upload-data`) or recompile (`ctsite compile --force`)"


@dataclass(frozen=True)
class Stamp:
    """The stat fields that change whenever a file's bytes (or the file itself) change."""

    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a store: its reason code, the file (as the version names it) and
    what was found (for the log; it may hold server paths, so never for visitors)."""

    reason: str
    rel: str
    detail: str

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"not a store problem reason: {self.reason!r}")

    def __str__(self) -> str:
        return (
            f"{self.reason}: {self.rel}: {self.detail}"
            if self.rel
            else f"{self.reason}: {self.detail}"
        )

    def error(self, where: Path) -> StoreError:
        return StoreError(f"{where}: {self.rel}: {self.detail}", REPAIR_HINT, reason=self.reason)


def reason_of(error: Exception) -> str:
    """The reason code of an error met while opening a store (`store-unavailable` when it has
    none of `REASONS`)."""
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, str) and reason in REASONS else "store-unavailable"


def file_sha256(path: Path) -> tuple[str, Stamp]:
    """The SHA-256 (hex) of a file and the stat of the descriptor it was read from."""
    with Path(path).open("rb") as fh:
        stamp = Stamp.of(os.fstat(fh.fileno()))
        return hashlib.file_digest(fh, "sha256").hexdigest(), stamp


def pointer_problem(root: Path) -> Problem | None:
    """What is wrong with the pointer of the store folder `root`, or None when it names a
    complete version (or `root` does not use the versioned layout)."""
    root = Path(root)
    if not versions.is_versioned(root):
        return None
    pointer = versions.read_pointer(root)
    if pointer is None:
        if any((root / name).exists() for name in (fmt.POINTER, fmt.POINTER_NEXT)):
            return Problem("pointer-unreadable", fmt.POINTER, "not a valid pointer")
        return Problem("pointer-missing", fmt.POINTER, f"neither it nor {fmt.POINTER_NEXT} exist")
    if not (root / fmt.VERSIONS_DIR / pointer.version / fmt.MANIFEST).is_file():
        return Problem("version-missing", fmt.POINTER, f"names {pointer.version}, not a version")
    return None


@dataclass(frozen=True)
class _File:
    """One file of the open version as verified at open: its bytes' digest and size, and the
    stat known to hold them."""

    path: Path
    rels: tuple[str, ...]  # the version's names for it (versions and conditions share objects)
    digest: str
    stamp: Stamp
    is_manifest: bool = False

    @property
    def rel(self) -> str:
        return ", ".join(self.rels)

    def problem(self, reason: str, detail: str) -> Problem:
        if self.is_manifest:
            reason = "manifest-changed"
        where = f"object {self.path.name}: " if self.path.parent.name == fmt.OBJECTS_DIR else ""
        return Problem(reason, self.rel, where + detail)


class OpenedFiles:
    """The files of one open version (in the folder `where`) and the cheap checks of them;
    thread-safe."""

    def __init__(self, files: Iterable[_File], where: Path) -> None:
        self._files = {f.path: f for f in files}
        self.where = where
        self._lock = threading.Lock()
        self._verdicts: dict[Path, tuple[Stamp, Problem | None]] = {}

    def problems(self) -> list[Problem]:
        """What is wrong with the version's files now (one stat each when nothing changed)."""
        found = []
        for f in self._files.values():
            try:
                stamp = Stamp.of(os.stat(f.path))
            except OSError:
                found.append(f.problem("object-missing", "absent"))
                continue
            problem = self._judge(f, stamp, stamp.size, lambda f=f: file_sha256(f.path))
            if problem is not None:
                found.append(problem)
        return found

    def read(self, path: Path) -> bytes:
        """The bytes of one file of the version, exactly as verified at open: the file's stat
        is taken before and after reading it, and when either differs from the verified one
        the bytes read are hashed themselves. Anything else is a `StoreError`."""
        f = self._files[path]
        try:
            with path.open("rb") as fh:
                before = Stamp.of(os.fstat(fh.fileno()))
                data = fh.read()
                after = Stamp.of(os.fstat(fh.fileno()))
        except OSError:
            raise f.problem("object-missing", "absent").error(self.where) from None
        stamp = after if before == after else None  # changed while read: judge the bytes
        problem = self._judge(f, stamp, len(data), lambda: (_sha256(data), after))
        if problem is not None:
            raise problem.error(self.where)
        return data

    def unreadable(self, path: Path, detail: str) -> StoreError:
        """A file with the right bytes that still cannot be parsed (a schema-2 file damaged
        before the open: nothing to check it against). It stays a problem, for /healthz too,
        until the file changes. Returns the error to raise."""
        f = self._files[path]
        problem = f.problem("object-unreadable", detail)
        try:
            stamp = Stamp.of(os.stat(path))
        except OSError:
            return f.problem("object-missing", "absent").error(self.where)
        with self._lock:
            self._verdicts[path] = (stamp, problem)
        return problem.error(self.where)

    def _judge(
        self, f: _File, stamp: Stamp | None, size: int, digest: Callable[[], tuple[str, Stamp]]
    ) -> Problem | None:
        """What is wrong with `f`, found at `stamp` (None: it changed while being read) with
        `size` bytes; `digest()` hashes its bytes, called only when the stat changed."""
        if stamp is not None:
            with self._lock:
                verdict = self._verdicts.get(f.path)
            if verdict is not None and verdict[0] == stamp:
                return verdict[1]
            if stamp == f.stamp:
                return None
        if size != f.stamp.size:
            reason = "object-truncated" if size < f.stamp.size else "object-changed"
            return f.problem(reason, f"{size} bytes, {f.stamp.size} when opened")
        try:  # same size, other stat: the bytes decide (hashed once per change)
            found_digest, now = digest()
        except OSError:
            return f.problem("object-missing", "absent")
        found = None if found_digest == f.digest else f.problem("object-changed", CHANGED)
        if stamp is not None:
            with self._lock:
                self._verdicts[f.path] = (now, found)
        return found


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(
    manifest: Path,
    manifest_digest: str,
    manifest_stamp: Stamp,
    files: dict[str, Path],
    named: bool,
) -> OpenedFiles:
    """Hash each file of a version once; with `named` (schema 3: objects named by their
    SHA-256) a file whose bytes do not match its name is a `StoreError`.

    `files` maps the version's names to their paths (several names may share an object).
    Returns the record `OpenedFiles` checks later.
    """
    by_path: dict[Path, list[str]] = {}
    for rel, path in files.items():
        by_path.setdefault(path, []).append(rel)
    opened = [_File(manifest, (fmt.MANIFEST,), manifest_digest, manifest_stamp, True)]
    for path, rels in by_path.items():
        try:
            digest, stamp = file_sha256(path)
        except OSError as exc:
            problem = Problem("object-missing", ", ".join(rels), f"unreadable ({exc.strerror})")
            raise problem.error(manifest.parent) from None
        f = _File(path, tuple(sorted(rels)), digest, stamp)
        if named and digest != path.name[:64]:
            raise f.problem("object-changed", NOT_ITS_NAME).error(manifest.parent)
        opened.append(f)
    return OpenedFiles(opened, manifest.parent)

"""Publishing a store version over SFTP: send it beside the live one, verify, switch, prune.

The remote store follows the rules of `ctsite.store.versions`, which the site reads by: a version
is complete once its manifest exists, the pointer (`CURRENT`) names the current one and is
replaced in one step, and objects (`objects/<sha256>…`) are shared by versions. So an upload

1. sends only the local current version: the objects it names that the remote lacks (an object's
   name is its content, so one already there is never sent again) and its folder (precomputed
   figures), while the site keeps serving the live version;
2. verifies every file, then writes the version's manifest (its last file), then switches the
   pointer: `posix-rename` over `CURRENT`, or, where a server cannot rename over an existing file,
   `CURRENT.next` first, then `CURRENT` removed and `CURRENT.next` renamed (a reader that finds
   no `CURRENT` reads `CURRENT.next`, or keeps what it has);
3. only then deletes what the new pointer no longer needs: versions beyond `keep` (the current
   and the previous always stay), the objects no kept version names, the leftovers of the flat
   layout and of interrupted uploads.

An upload that dies before step 2 leaves the live pointer as it was; a re-run resumes (the objects
sent are kept). This module plans with plain data; `switch_pointer` is the one remote step.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctsite.errors import CtsiteError
from ctsite.sftp.client import TEMP_MARK, mkdirs, put_bytes, temp_name
from ctsite.sftp.manifest import LocalFile
from ctsite.store import format as fmt
from ctsite.store import versions


@dataclasses.dataclass(frozen=True)
class LocalVersion:
    """The local store's current version, as an upload publishes it."""

    store: str  # the store folder relative to the synced root ("" when it is the root)
    version: str
    manifest: bytes  # its manifest.json, written remotely last (just before the switch)
    objects: frozenset[str]  # the object names it uses

    def rel(self, *parts: str) -> str:
        """A path of the store relative to the synced root."""
        return posixpath.join(self.store, *parts) if self.store else posixpath.join(*parts)

    @property
    def manifest_rel(self) -> str:
        return self.rel(fmt.VERSIONS_DIR, self.version, fmt.MANIFEST)


@dataclasses.dataclass(frozen=True)
class StorePlan:
    """What happens to the remote store after the upload: the switch and what it frees."""

    pointer: versions.Pointer  # the remote pointer after the switch
    old: versions.Pointer | None  # the remote pointer before it
    pruned: list[str]  # versions deleted after the switch
    deletions: list[str]  # remote files (relative to the synced root) deleted after the switch
    unknown_objects: bool = False  # a kept version's manifest was unreadable: no object sweep

    @property
    def switches(self) -> bool:
        return self.old is None or self.old.version != self.pointer.version


def local_version(root: Path, store_rel: str) -> LocalVersion | None:
    """The current version of the store `root/store_rel`; None when it is not versioned."""
    store = root / store_rel if store_rel else root
    pointer = versions.read_pointer(store)
    if pointer is None:
        return None
    path = store / fmt.VERSIONS_DIR / pointer.version / fmt.MANIFEST
    try:
        data = path.read_bytes()
        doc = json.loads(data)
    except (OSError, ValueError):
        raise CtsiteError(
            f"the local store {store} names version {pointer.version}, whose manifest is "
            "missing or unreadable; nothing was sent",
            hint="recompile with `ctsite compile --force`",
        ) from None
    return LocalVersion(store_rel, pointer.version, data, frozenset(versions.objects_of(doc)))


def _inner(rel: str, pub: LocalVersion) -> str | None:
    """`rel` relative to the store folder, or None when it lies outside it."""
    if not pub.store:
        return rel
    prefix = pub.store.rstrip("/") + "/"
    return rel[len(prefix) :] if rel.startswith(prefix) else None


def select_local(local: dict[str, LocalFile], pub: LocalVersion) -> dict[str, LocalFile]:
    """The local files to publish: all outside the store; of the store, the current version's
    objects and folder (its manifest aside: `commit` writes it last)."""
    out: dict[str, LocalFile] = {}
    for rel, f in local.items():
        inner = _inner(rel, pub)
        if inner is None:
            out[rel] = f
            continue
        head, _, rest = inner.partition("/")
        if head == fmt.OBJECTS_DIR and rest in pub.objects:
            out[rel] = f if f.sha256 else dataclasses.replace(f, sha256=rest[:64])
        elif head == fmt.VERSIONS_DIR and rest.startswith(pub.version + "/"):
            if rest != f"{pub.version}/{fmt.MANIFEST}":
                out[rel] = f
    missing = sorted(o for o in pub.objects if pub.rel(fmt.OBJECTS_DIR, o) not in out)
    if missing:
        raise CtsiteError(
            f"the local store's version {pub.version} is incomplete: {len(missing)} of its "
            f"files are missing from {pub.rel(fmt.OBJECTS_DIR)}/ (first: {missing[0]}); "
            "nothing was sent",
            hint="recompile with `ctsite compile --force`",
        )
    return out


def remote_versions(remote_files: dict[str, int], pub: LocalVersion) -> set[str]:
    """The complete versions of the remote store (those with a manifest)."""
    found = set()
    for rel in remote_files:
        inner = _inner(rel, pub)
        parts = inner.split("/") if inner is not None else []
        if len(parts) == 3 and parts[0] == fmt.VERSIONS_DIR and parts[2] == fmt.MANIFEST:
            if versions.is_version_id(parts[1]):
                found.add(parts[1])
    return found


def plan_store(
    pub: LocalVersion,
    remote_files: dict[str, int],
    old: versions.Pointer | None,
    objects_of: Callable[[str], set[str] | None],
    keep: int = versions.MIN_KEEP,
    delete_leftovers: bool = True,
) -> StorePlan:
    """Pure: the remote pointer after the switch and the remote files it frees.

    `objects_of(version)` gives the objects a kept remote version names (None: unknown, so no
    object is deleted). `delete_leftovers`: also delete remote store files that belong to no
    version (the flat layout of earlier releases, folders of interrupted uploads).
    """
    if old is not None and old.version != pub.version:
        new = versions.Pointer(pub.version, old.version)
    else:
        new = versions.Pointer(pub.version, old.previous if old else None)
    present = remote_versions(remote_files, pub) | {pub.version}
    pruned = versions.plan_prune(present, new, keep)
    kept = present - set(pruned)
    referenced: set[str] = set(pub.objects)
    unknown = False
    for name in sorted(kept - {pub.version}):
        names = objects_of(name)
        if names is None:
            unknown = True
        else:
            referenced |= names
    deletions = []
    for rel in sorted(remote_files):
        inner = _inner(rel, pub)
        if inner is None or TEMP_MARK in posixpath.basename(rel):
            continue
        parts = inner.split("/")
        if parts[0] == fmt.VERSIONS_DIR and len(parts) >= 3:
            version = parts[1]
            if version in pruned:
                deletions.append(rel)
            elif version not in present and delete_leftovers:
                deletions.append(rel)  # a folder without a manifest: an interrupted upload's
        elif parts[0] == fmt.OBJECTS_DIR and len(parts) == 2:
            if not unknown and parts[1] not in referenced and fmt.OBJECT_NAME.match(parts[1]):
                deletions.append(rel)
        elif inner in {fmt.POINTER, fmt.POINTER_NEXT} or inner.startswith("."):
            continue  # the pointer; the sync's own manifest and hidden files
        elif delete_leftovers:
            deletions.append(rel)  # the flat layout of an earlier release
    return StorePlan(new, old, pruned, deletions, unknown)


def _read_remote(sftp: Any, path: str) -> bytes | None:
    try:
        with sftp.open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def read_remote_pointer(sftp: Any, remote_root: str, pub: LocalVersion) -> versions.Pointer | None:
    """The remote pointer, by the store's one reading rule (`versions.first_pointer`)."""
    return versions.first_pointer(
        lambda name: _read_remote(sftp, posixpath.join(remote_root, pub.rel(name)))
    )


def remote_objects_of(sftp: Any, remote_root: str, pub: LocalVersion) -> Callable[[str], Any]:
    """`objects_of` for `plan_store` over an open session (reads the remote manifests)."""

    def objects_of(version: str) -> set[str] | None:
        path = posixpath.join(remote_root, pub.rel(fmt.VERSIONS_DIR, version, fmt.MANIFEST))
        return versions.objects_named(_read_remote(sftp, path))

    return objects_of


def switch_pointer(
    sftp: Any, remote_root: str, pub: LocalVersion, pointer: versions.Pointer
) -> str:
    """Write the version's manifest, then point the remote store at it; returns how.

    "rename": one `posix-rename` over `CURRENT`; "fallback": the server cannot rename over a
    file, so `CURRENT.next` is written completely, `CURRENT` removed and `CURRENT.next` renamed.
    """
    mkdirs(sftp, remote_root, [posixpath.dirname(pub.manifest_rel)], set())
    put_bytes(sftp, posixpath.join(remote_root, pub.manifest_rel), pub.manifest)
    current = posixpath.join(remote_root, pub.rel(fmt.POINTER))
    following = posixpath.join(remote_root, pub.rel(fmt.POINTER_NEXT))
    tmp = temp_name(current)
    with sftp.open(tmp, "wb") as fh:
        fh.write(versions.pointer_bytes(pointer.version, pointer.previous))
    try:
        sftp.posix_rename(tmp, current)
    except OSError:
        pass
    else:
        _remove(sftp, following)  # a left-over fallback is stale now
        return "rename"
    _remove(sftp, following)
    sftp.rename(tmp, following)  # complete before CURRENT goes away
    _remove(sftp, current)
    sftp.rename(following, current)
    return "fallback"


def _remove(sftp: Any, path: str) -> None:
    try:
        sftp.remove(path)
    except OSError:
        pass


def trust_objects(
    uploads: list[LocalFile], remote_files: dict[str, int], pub: LocalVersion
) -> list[LocalFile]:
    """Drop the objects the remote already has: their name is their content's digest and they
    are only ever written under a temporary name, so one present with its size is complete."""
    prefix = pub.rel(fmt.OBJECTS_DIR) + "/"
    return [
        f for f in uploads if not (f.rel.startswith(prefix) and remote_files.get(f.rel) == f.size)
    ]


def apply(plan: Any, store: StorePlan, pub: LocalVersion) -> Any:
    """The sync plan (`ctsite.sftp.sync.Plan`) of a publish: objects the remote has are not
    sent; inside the store only `store`'s deletions (never the live version's files)."""
    uploads = trust_objects(plan.uploads, plan.remote_files, pub)
    outside = [d for d in plan.deletions if _inner(d, pub) is None]
    return dataclasses.replace(
        plan,
        uploads=uploads,
        deletions=outside + store.deletions,
        unchanged=len(plan.local) - len(uploads),
    )


@dataclasses.dataclass
class CommitStep:
    """The sync's commit step of a publish: the version's manifest and the pointer switch.

    `record`: the local manifest file as the sync manifest records it; `remote_has`: the remote
    already holds that manifest (a re-run after a complete upload). `how` says what was done:
    "rename", "fallback" (see `switch_pointer`) or "" (the remote already pointed at it).
    """

    pub: LocalVersion
    store: StorePlan
    remote_root: str
    record: LocalFile
    remote_has: bool
    how: str = ""

    def __call__(self, sftp: Any) -> dict[str, LocalFile]:
        if self.store.switches or not self.remote_has:
            self.how = switch_pointer(sftp, self.remote_root, self.pub, self.store.pointer)
        return {self.record.rel: self.record}

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
   layout and of interrupted uploads (the rule: `ctsite.sftp.deletions`).

An upload that dies before step 2 leaves the live pointer as it was; a re-run resumes (the objects
sent are kept). This module plans with plain data; `switch_pointer` is the one remote step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctsite.errors import CtsiteError
from ctsite.lifecycle import signals_held
from ctsite.sftp.client import mkdirs, put_bytes, put_temp
from ctsite.sftp.deletions import publish_deletions, store_deletions, store_inner
from ctsite.sftp.manifest import LocalFile
from ctsite.sftp.plan import Plan
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

    @property
    def manifest_digest(self) -> str:
        """The SHA-256 of its manifest, recorded in the pointer that names it."""
        return hashlib.sha256(self.manifest).hexdigest()


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


def select_local(local: dict[str, LocalFile], pub: LocalVersion) -> dict[str, LocalFile]:
    """The local files to publish: all outside the store; of the store, the current version's
    objects and folder (its manifest aside: `commit` writes it last)."""
    out: dict[str, LocalFile] = {}
    for rel, f in local.items():
        inner = store_inner(rel, pub.store)
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
        inner = store_inner(rel, pub.store)
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
    version (the flat layout of earlier releases, folders of interrupted uploads). What is
    deleted is `ctsite.sftp.deletions.store_deletions`' rule.
    """
    if old is not None and old.version != pub.version:
        new = versions.Pointer(pub.version, old.version, pub.manifest_digest)
    else:
        new = versions.Pointer(pub.version, old.previous if old else None, pub.manifest_digest)
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
    deletions = store_deletions(
        remote_files, pub.store, pruned, present, None if unknown else referenced, delete_leftovers
    )
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


def remote_objects_of(
    sftp: Any, remote_root: str, pub: LocalVersion
) -> Callable[[str], set[str] | None]:
    """`objects_of` for `plan_store` over an open session (reads the remote manifests)."""

    def objects_of(version: str) -> set[str] | None:
        path = posixpath.join(remote_root, pub.rel(fmt.VERSIONS_DIR, version, fmt.MANIFEST))
        return versions.objects_named(_read_remote(sftp, path))

    return objects_of


def remote_manifest_is(sftp: Any, remote_root: str, pub: LocalVersion) -> bool:
    """Whether the remote holds the version's manifest byte for byte (read back: it is small)."""
    return _read_remote(sftp, posixpath.join(remote_root, pub.manifest_rel)) == pub.manifest


def pointer_settled(
    sftp: Any, remote_root: str, pub: LocalVersion, pointer: versions.Pointer | None
) -> bool:
    """Whether the remote `CURRENT` itself names `pointer` and no `CURRENT.next` is left: when
    not (a fallback switch killed half-way), the commit switches again, restoring `CURRENT`."""
    if pointer is None:
        return False
    current = _read_remote(sftp, posixpath.join(remote_root, pub.rel(fmt.POINTER)))
    if current is None or versions.parse_pointer(current) != pointer:
        return False
    return not _exists(sftp, posixpath.join(remote_root, pub.rel(fmt.POINTER_NEXT)))


def switch_pointer(
    sftp: Any,
    remote_root: str,
    pub: LocalVersion,
    pointer: versions.Pointer,
    on_live: Callable[[], None] = lambda: None,
    on_only_next: Callable[[bool], None] = lambda _flag: None,
) -> str:
    """Write the version's manifest, then point the remote store at it; returns how.
    `on_live()` runs as soon as a reader would find the new pointer; `on_only_next(flag)` says
    whether `CURRENT.next` is, for now, the only pointer (a fallback switch half-way).

    Both files are confirmed on the remote (read back) before they take their names. "rename":
    one `posix-rename` over `CURRENT`; "fallback": the server cannot rename over a file, so the
    steps of `versions.fallback_switch` (through `CURRENT.next`), which leave a readable pointer
    after any step and restore `CURRENT` when a killed switch left only `CURRENT.next`.
    """
    mkdirs(sftp, remote_root, [posixpath.dirname(pub.manifest_rel)], set())
    put_bytes(sftp, posixpath.join(remote_root, pub.manifest_rel), pub.manifest)

    def path(name: str) -> str:
        return posixpath.join(remote_root, pub.rel(name))

    tmp = put_temp(sftp, path(fmt.POINTER), versions.pointer_bytes(*dataclasses.astuple(pointer)))
    try:
        sftp.posix_rename(tmp, path(fmt.POINTER))
    except OSError:
        pass
    else:
        on_live()
        _remove(sftp, path(fmt.POINTER_NEXT))  # a left-over fallback is stale now
        return "rename"

    def valid(name: str) -> bool:
        data = _read_remote(sftp, path(name))
        return data is not None and versions.parse_pointer(data) is not None

    current_ok, next_ok = valid(fmt.POINTER), valid(fmt.POINTER_NEXT)
    on_only_next(next_ok and not current_ok)
    steps = versions.fallback_switch(current_ok, next_ok, posixpath.basename(tmp))
    with signals_held():  # a stop waits until CURRENT is back (a kill still leaves a pointer)
        for step in steps:
            if step.op == "remove":
                _remove(sftp, path(step.path))
                if step.path == fmt.POINTER and step.live:  # readers now read CURRENT.next
                    on_only_next(True)
            else:
                assert step.to is not None
                sftp.rename(path(step.path), path(step.to))
                if step.to == fmt.POINTER:
                    on_only_next(False)
            if step.live:
                on_live()
    return "fallback"


def _exists(sftp: Any, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


def _remove(sftp: Any, path: str) -> None:
    """Remove `path` if it exists; any other failure is raised (a rename would fail next)."""
    if _exists(sftp, path):
        sftp.remove(path)


def trust_objects(
    uploads: list[LocalFile], remote_files: dict[str, int], pub: LocalVersion
) -> list[LocalFile]:
    """Drop the objects the remote already has with their size from the files to send: their
    name is their content's digest and they only take it once confirmed. Whether their bytes
    are still right is what `checks` re-reads (unless the remote is trusted)."""
    prefix = pub.rel(fmt.OBJECTS_DIR) + "/"
    return [
        f for f in uploads if not (f.rel.startswith(prefix) and remote_files.get(f.rel) == f.size)
    ]


def in_version(rel: str, pub: LocalVersion) -> bool:
    """Whether a selected file belongs to the published store version (its objects and its
    folder), as opposed to the files outside the store."""
    return store_inner(rel, pub.store) is not None


def read_back_rule(pub: LocalVersion | None) -> Callable[[str], bool]:
    """Which sent files are read back and re-hashed before they take their name: the files of
    the store version (`pub`; None: a tree without a versioned store, so none). A store is
    small (~15 MB at study scale) and what the site serves; reading back every file of a large
    tree would halve the throughput (see benchmarks/bench_upload.py), so other files are
    confirmed by every write's answer and their size."""
    if pub is None:
        return lambda _rel: False
    return lambda rel: in_version(rel, pub)


def apply(plan: Plan, store: StorePlan, pub: LocalVersion) -> Plan:
    """The sync plan of a publish: objects the remote has are not
    sent; every file of the version the remote already holds is re-read and re-hashed before
    the switch (`checks`; the caller drops them to trust the remote); inside the store only
    `store`'s deletions (never the live version's files)."""
    uploads = trust_objects(plan.uploads, plan.remote_files, pub)
    sending = {f.rel for f in uploads}
    checks = [f for f in plan.local.values() if in_version(f.rel, pub) and f.rel not in sending]
    return dataclasses.replace(
        plan,
        uploads=uploads,
        deletions=publish_deletions(plan.deletions, pub.store, store.deletions),
        unchanged=len(plan.local) - len(uploads),
        checks=sorted(checks, key=lambda f: f.rel),
    )


@dataclasses.dataclass
class CommitStep:
    """The sync's commit step of a publish: the version's manifest and the pointer switch.

    `record`: the local manifest file as the sync manifest records it; `remote_has`: the remote
    already holds that manifest, byte for byte (a re-run after a complete upload); `settled`:
    the remote `CURRENT` itself names the pointer already (see `pointer_settled`). `how` says
    what was done: "rename", "fallback" (see `switch_pointer`) or "" (nothing to do); `live`:
    the new pointer is what readers find (set during the switch, or at once when nothing
    changes); `only_next`: `CURRENT.next` is the only pointer for now (a fallback switch
    stopped half-way: readers use it, a re-run restores `CURRENT`).
    """

    pub: LocalVersion
    store: StorePlan
    remote_root: str
    record: LocalFile
    remote_has: bool
    settled: bool = True
    how: str = ""
    live: bool = False
    only_next: bool = False  # CURRENT.next is the only pointer (a fallback switch half-way)

    def __call__(self, sftp: Any) -> dict[str, LocalFile]:
        old = self.store.old
        digest_missing = old is not None and old.manifest != self.store.pointer.manifest
        if self.store.switches or not self.remote_has or not self.settled or digest_missing:
            self.how = switch_pointer(
                sftp,
                self.remote_root,
                self.pub,
                self.store.pointer,
                self.went_live,
                self.pointer_only_next,
            )
        self.live = True
        return {self.record.rel: self.record}

    def went_live(self) -> None:
        self.live = True

    def pointer_only_next(self, flag: bool) -> None:
        self.only_next = flag

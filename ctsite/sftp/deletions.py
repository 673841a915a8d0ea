"""What an upload may delete on the remote: every deletion rule of a sync or publish, in one place.

An upload deletes what these rules name and nothing else, and only once what it sends is
confirmed (`ctsite.sftp.sync` runs the deletions last):

- the delete scope (`delete_scope`): the folders under which a remote file missing locally is
  deleted. By default only the compiled store's folder (nothing when the store lies outside the
  uploaded folder), everywhere with `--delete`, nowhere with `--no-delete`;
- a tree sync (`tree_deletions`): the remote files missing locally inside the scope, never the
  sync manifest or a temporary file; then the remote folders no local file lives in, inside the
  scope and only when empty (`empty_dirs`);
- a store, after the pointer switch (`store_deletions`): the files of the versions the switch
  prunes (which ones: `ctsite.store.versions.plan_prune`, the store's own rule), the objects no
  kept version names (none when a kept version's manifest is unreadable), and, when the store's
  folder is in the scope, leftovers: version folders without a manifest (interrupted uploads)
  and the files of the flat layout of earlier releases. Never a pointer, a hidden file or a
  temporary file;
- a publish (`publish_deletions`): the tree rule outside the store, the store rule inside it,
  so the live version's files are never deleted;
- temporary files (`stale_temps`): every remote file with ctsite's temporary mark, wherever it
  lies, removed before anything is sent (left by an upload that died mid-file; the remote
  upload lock means no other upload is writing one now).

Pure functions of paths relative to the synced root (POSIX).
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable

from ctsite.sftp.client import TEMP_MARK
from ctsite.sftp.manifest import MANIFEST
from ctsite.store import format as fmt


def delete_scope(delete: bool | None, store: str | None) -> list[str]:
    """The folders (relative to the synced root; "" the root itself) under which remote files
    missing locally are deleted: `delete` True everywhere, False nowhere, None (the default)
    only under the store's folder `store` (None: the store lies outside, nothing)."""
    if delete is False:
        return []
    if delete is True:
        return [""]
    return [] if store is None else [store]


def in_scope(rel: str, scope: Iterable[str]) -> bool:
    """Whether `rel` lies under one of the folders of the delete scope."""
    return any(p in {"", "."} or rel == p or rel.startswith(p.rstrip("/") + "/") for p in scope)


def stale_temps(remote_files: Iterable[str]) -> list[str]:
    """The remote temporary files a sync removes first (sorted): those left by a stopped
    upload, in or out of the delete scope (never a file anyone kept)."""
    return sorted(r for r in remote_files if TEMP_MARK in posixpath.basename(r))


def store_inner(rel: str, store: str) -> str | None:
    """`rel` relative to the store folder `store` ("": the synced root), None when outside."""
    if not store:
        return rel
    prefix = store.rstrip("/") + "/"
    return rel[len(prefix) :] if rel.startswith(prefix) else None


def tree_deletions(
    remote_files: Iterable[str], local: Collection[str], scope: Iterable[str]
) -> list[str]:
    """The remote files a tree sync deletes: missing locally and inside the scope; never the
    sync manifest or a temporary file (an upload in flight, or swept by its own rule)."""
    scope = list(scope)
    return sorted(
        r
        for r in remote_files
        if r not in local and r != MANIFEST and TEMP_MARK not in r and in_scope(r, scope)
    )


def empty_dirs(remote_dirs: Iterable[str], local: Iterable[str], scope: Iterable[str]) -> list[str]:
    """The remote folders a sync removes, deepest first: inside the scope and holding no local
    file (the removal itself fails harmlessly on a folder that still holds kept files)."""
    local_dirs = {posixpath.dirname(r) for r in local}
    for rel in list(local_dirs):
        while rel:
            rel = posixpath.dirname(rel)
            local_dirs.add(rel)
    scope = list(scope)
    gone = {d for d in set(remote_dirs) - local_dirs if in_scope(d, scope)}
    return sorted(gone, key=lambda r: -r.count("/"))


def store_deletions(
    remote_files: Iterable[str],
    store: str,
    pruned: Collection[str],
    present: Collection[str],
    referenced: Collection[str] | None,
    delete_leftovers: bool,
) -> list[str]:
    """The remote store files deleted after the switch (sorted).

    `pruned`: the versions the switch prunes; `present`: every complete version (those kept and
    the published one); `referenced`: the objects the kept versions name (None: a kept version's
    manifest was unreadable, so no object is deleted); `delete_leftovers`: the store's folder is
    in the delete scope, so files that belong to no version go too.
    """
    deletions = []
    for rel in sorted(remote_files):
        inner = store_inner(rel, store)
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
            name = parts[1]
            if referenced is not None and name not in referenced and fmt.OBJECT_NAME.match(name):
                deletions.append(rel)
        elif inner in {fmt.POINTER, fmt.POINTER_NEXT} or inner.startswith("."):
            continue  # the pointer; the sync's own manifest and hidden files
        elif delete_leftovers:
            deletions.append(rel)  # the flat layout of an earlier release
    return deletions


def publish_deletions(tree: Iterable[str], store: str, in_store: list[str]) -> list[str]:
    """A publish's deletions: the tree sync's outside the store folder `store`, and inside it
    only `in_store` (the store plan's: never the live version's files)."""
    return [d for d in tree if store_inner(d, store) is None] + in_store

"""The plan of an SFTP tree sync: which files to send, which remote files to re-read, delete, sweep.

A file is sent when it is new locally, its SHA-256 differs from the remote manifest (see
`ctsite.sftp.manifest`), or the remote size disagrees, so EFS/SFTP mtimes never matter. `checks`
are files the remote already holds whose bytes are re-read and re-hashed before anything goes
live (a store version's files, see `ctsite.sftp.publish.apply`); one that differs is sent again.
What may be deleted is `ctsite.sftp.deletions`' rule. Pure functions, plus the listing
`plan_remote` reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ctsite.sftp.client import list_remote
from ctsite.sftp.deletions import stale_temps, tree_deletions
from ctsite.sftp.manifest import (
    Entries,
    LocalFile,
    hash_some,
    read_local_manifest,
    read_remote_manifest,
    scan_local,
)


@dataclasses.dataclass
class Plan:
    """What a sync will do: files to send, remote files to delete, leftovers to clean."""

    uploads: list[LocalFile]
    deletions: list[str]
    stale_temps: list[str]
    unchanged: int
    local: dict[str, LocalFile]
    remote_dirs: set[str]
    scope: list[str] = dataclasses.field(default_factory=list)  # where deleting is allowed
    remote_files: dict[str, int] = dataclasses.field(default_factory=dict)  # the listing used
    checks: list[LocalFile] = dataclasses.field(default_factory=list)  # re-read, re-hashed

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.uploads)

    @property
    def check_bytes(self) -> int:
        return sum(f.size for f in self.checks)


def make_plan(
    local: dict[str, LocalFile],
    remote_files: dict[str, int],
    remote_dirs: set[str],
    manifest: Entries,
    delete_under: Iterable[str] = ("",),
) -> Plan:
    """Pure: compare local files with the remote listing and manifest."""
    scope = list(delete_under)
    uploads: list[LocalFile] = []
    for f in local.values():
        known = manifest.get(f.rel)
        same = known is not None and known["size"] == f.size and known["sha256"] == f.sha256
        if not (same and remote_files.get(f.rel) == f.size):
            uploads.append(f)
    temps = stale_temps(remote_files)
    deletions = tree_deletions(remote_files, local, scope)
    unchanged = len(local) - len(uploads)
    return Plan(
        uploads, deletions, temps, unchanged, local, set(remote_dirs), scope, dict(remote_files)
    )


def plan_offline(
    root: Path, jobs: int, delete_under: Iterable[str], local: dict[str, LocalFile] | None = None
) -> Plan:
    """A plan from the local manifest copy alone (for --dry-run: no connection needed);
    `local`: the files to send (default: every file under `root`)."""
    local = scan_local(root, jobs) if local is None else local
    manifest = read_local_manifest(root)
    remote = {k: v["size"] for k, v in manifest.items()}
    return make_plan(local, remote, set(), manifest, delete_under)


def plan_remote(
    sftp: Any,
    local: dict[str, LocalFile],
    remote_root: str,
    delete_under: Iterable[str],
    local_root: Path | None = None,
    jobs: int = 2,
) -> tuple[Plan, Entries]:
    """The plan against the live remote tree, plus the remote manifest it used.

    Files scanned lazily (no digest yet) are hashed here only if the comparison needs it: the
    manifest knows them and sizes agree. Others will be sent, and hashed as they are read.
    """
    files, dirs = list_remote(sftp, remote_root)
    manifest = read_remote_manifest(sftp, remote_root)
    compare = [
        f
        for f in local.values()
        if not f.sha256
        and manifest.get(f.rel, {}).get("size") == f.size
        and files.get(f.rel) == f.size
    ]
    if compare:
        if local_root is None:
            raise ValueError("lazily scanned files need local_root to be hashed")
        local = {**local, **{f.rel: f for f in hash_some(local_root, compare, jobs)}}
    return make_plan(local, files, dirs, manifest, delete_under), manifest

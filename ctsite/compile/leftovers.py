"""What a killed compile leaves beside a store, and its removal by the next compile.

A compile names everything it writes for a moment after its process id: the version being
written (`versions/.tmp-<version id>-<pid>/`), the pointer being replaced
(`.CURRENT.tmp-<pid>-<hex>`, `ctsite.store.versions`), a flat store being converted
(`.<store>.tmp-<pid>/` and `.<store>.old-<pid>/` beside it). A compile that exits removes its
own; one that is killed (SIGKILL, out of memory, power loss) cannot. The next compile of the same
store — any compile, the no-change run included — removes them, under the store's lock, and only
names of exactly these patterns whose process is gone: a file of a live process, or a name we
never make, is never touched. Standard library only (the no-change run stays light).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from ctsite.store import format as fmt
from ctsite.store import versions

_TEMP_VERSION = re.compile(
    rf"^{re.escape(fmt.TEMP_PREFIX)}({fmt.VERSION_ID.pattern[1:-1]})-([0-9]+)$"
)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (another user's counts; so does a
    zombie). Doubt means alive: only a certainly dead owner's files are removed."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. EPERM: it exists, it is someone else's
    return True


def temp_version_name(version: str, pid: int) -> str:
    """The folder name of a version being written by process `pid`."""
    return f"{fmt.TEMP_PREFIX}{version}-{pid}"


def temp_version_owner(name: str) -> int | None:
    """The process id in a name `temp_version_name` makes; None for any other name."""
    found = _TEMP_VERSION.match(name)
    return int(found.group(2)) if found else None


def _beside_owner(dest: Path, name: str, kind: str) -> int | None:
    """The pid in `.<store>.<kind>-<pid>` (a flat store's conversion), None for other names."""
    prefix = f".{dest.name}.{kind}-"
    rest = name[len(prefix) :] if name.startswith(prefix) else ""
    return int(rest) if rest.isdigit() else None


def _candidates(dest: Path) -> list[tuple[Path, int]]:
    """(path, owner pid) of every leftover name of the store `dest`."""
    found: list[tuple[Path, int]] = []
    for folder, owner in (
        (dest / fmt.VERSIONS_DIR, temp_version_owner),
        (dest, versions.temp_pointer_owner),
    ):
        try:
            names = sorted(e.name for e in folder.iterdir())
        except OSError:
            continue
        found += [(folder / n, pid) for n in names if (pid := owner(n)) is not None]
    try:
        beside = sorted(e.name for e in dest.parent.iterdir())
    except OSError:
        beside = []
    for name in beside:
        for kind in ("tmp", "old"):
            pid = _beside_owner(dest, name, kind)
            if pid is not None:
                found.append((dest.parent / name, pid))
    return found


def sweep(dest: Path) -> list[Path]:
    """Remove the leftovers of compiles of `dest` whose process is gone; returns what was removed.

    Call it holding the store's lock (`destination.lock`), after `destination.recover` has put
    back a store an interrupted swap left aside.
    """
    removed: list[Path] = []
    for path, pid in _candidates(dest):
        if process_alive(pid):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        if not path.exists() and not path.is_symlink():
            removed.append(path)
    return removed

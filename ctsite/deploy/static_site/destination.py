"""The folder an export writes: new, empty, or a previous export of ctsite — never anything else.

A previous export is recognised by its marker file (`.ctsite-export.json`, listing the files the
export wrote); a folder holding any other file is the user's and is refused, never written into
or deleted. The site is written to a temporary folder beside the destination and only renamed
into place once complete, so a failed or stopped export leaves the old site as it was (and no
half a site); the old one, which only ever held our own files, is then removed. What a killed
export left beside the folder (`.<DIR>.tmp-<pid>`, `.<DIR>.old-<pid>`) is removed by the next
export once that process is gone (the rule of `ctsite.compile.leftovers`).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from ctsite.compile.leftovers import process_alive
from ctsite.errors import CtsiteError

MARKER = ".ctsite-export.json"
MARKER_KIND = "ctsite export-site"
HINT = "choose a new or empty folder (or one a previous `ctsite export-site` wrote)"


def files_under(folder: Path) -> set[str]:
    """Every file and link below `folder`, as paths relative to it (with "/")."""
    found = set()
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_dir():
            found.add(path.relative_to(folder).as_posix())
    return found


def previous_export(folder: Path) -> set[str] | None:
    """The files of the export in `folder`, or None when the marker is missing or not ours."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("kind") != MARKER_KIND:
        return None
    files = marker.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files) | {MARKER}


def check_destination(folder: Path) -> bool:
    """Whether `folder` is there (empty or a previous export) to be replaced; raise the one
    line that says why it cannot be written otherwise."""
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CtsiteError(f"cannot use {folder}: {exc.strerror}", hint=HINT) from None
    if stat.S_ISLNK(mode):
        raise CtsiteError(
            f"{folder} is a symbolic link", hint="give the folder it leads to, or a new folder"
        )
    if not stat.S_ISDIR(mode):
        raise CtsiteError(f"{folder} is a file, not a folder", hint=HINT)
    present = files_under(folder)
    if not present and not any(folder.iterdir()):
        return True
    ours = previous_export(folder)
    if ours is None:
        raise CtsiteError(f"{folder} is not empty and not a previous export of the site", hint=HINT)
    foreign = sorted(present - ours)
    if foreign:
        raise CtsiteError(
            f"{folder} holds files a previous export did not write (e.g. {foreign[0]})",
            hint="move them away, or choose another folder",
        )
    return True


def leftovers(folder: Path) -> list[Path]:
    """The temporary folders killed exports of `folder` left beside it (their process gone)."""
    found = []
    for kind in ("tmp", "old"):
        prefix = f".{folder.name}.{kind}-"
        for path in folder.parent.glob(f"{prefix}*"):
            pid = path.name[len(prefix) :]
            if pid.isdigit() and not process_alive(int(pid)) and path.is_dir():
                found.append(path)
    return found


def temporary_folder(folder: Path) -> Path:
    """A new, empty folder beside `folder` to write the site into (what killed exports left
    there is removed first)."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        for path in leftovers(folder):
            shutil.rmtree(path)
        temp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
        if temp.exists():
            shutil.rmtree(temp)  # our own name and process id: left by this very process
        temp.mkdir()
    except OSError as exc:
        raise CtsiteError(
            f"cannot write beside {folder}: {exc.strerror or exc}",
            hint="choose a folder in a place you can write to",
        ) from None
    return temp


def write_marker(site: Path, version: str | None) -> None:
    """Record the files of the export (what a later export may replace)."""
    files = sorted(files_under(site))
    marker = {"kind": MARKER_KIND, "version": version, "files": files}
    (site / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


def publish(temp: Path, folder: Path) -> bool:
    """Move the finished site `temp` to `folder`, replacing an empty folder or a previous export
    (checked again now); whether something was replaced."""
    existed = check_destination(folder)
    if not existed:
        os.rename(temp, folder)
        return False
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    os.rename(folder, old)
    try:
        os.rename(temp, folder)
    except OSError:
        os.rename(old, folder)
        raise
    # the previous export: only files it wrote itself (checked above); what a failure leaves
    # here, the next export removes (`leftovers`)
    shutil.rmtree(old, ignore_errors=True)
    return True

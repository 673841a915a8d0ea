"""Whether a folder is certainly a store ctsite wrote: the positive marks a compile looks for
before it writes into, converts or sweeps a folder.

A name alone proves nothing (`CURRENT`, `manifest.json`, `versions/` and `objects/` are common
names: a LevelDB folder has a `CURRENT`, many tools write a `manifest.json` with a
`schema_version`). A folder is a ctsite store only when a manifest in it carries ctsite's own
keys (`ctsite_version`, a SHA-256 `compile_key`, the `conditions` list, a whole-number
`schema_version`, as every ctsite compile since the first wrote) where a store keeps it: the
version the pointer names, any complete version, or, for the flat layout of schema 1, the
folder itself. A folder holding nothing but what a killed first compile leaves (temp versions
named with their process id, content-named objects, temp pointers) is one too. Anything else
is the user's, and a compile refuses it (`destination.check_replaceable`). Standard library only.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from ctsite.compile import leftovers
from ctsite.store import format as fmt
from ctsite.store import versions

_COMPILE_KEY = re.compile(r"^[0-9a-f]{64}$")
# What a flat (schema 1) store holds: converting it replaces the folder whole, so nothing else
# may be in it.
FLAT_NAMES = frozenset(
    {fmt.MANIFEST, fmt.GENES, fmt.EXPRESSION, fmt.INTERACTIONS, fmt.CONDITIONS_DIR, fmt.FIGURES_DIR}
)
# Names a store uses; in a folder that is not one, the refusal says they are not ctsite's.
STORE_NAMES = (fmt.MANIFEST, fmt.POINTER, fmt.POINTER_NEXT, fmt.VERSIONS_DIR, fmt.OBJECTS_DIR)


class StoreKind(StrEnum):
    VERSIONED = "versioned"  # a pointer and versions (schema 2 and 3)
    FLAT = "flat"  # schema 1: the store's files in the folder itself
    UNFINISHED = "unfinished"  # only what a killed first compile left


def is_ctsite_manifest(doc: object) -> bool:
    """Whether a parsed manifest is one a ctsite compile wrote (its own keys, their types)."""
    if not isinstance(doc, dict):
        return False
    schema = doc.get("schema_version")
    key = doc.get("compile_key")
    return (
        isinstance(schema, int)
        and not isinstance(schema, bool)
        and schema >= 1
        and isinstance(doc.get("ctsite_version"), str)
        and isinstance(key, str)
        and bool(_COMPILE_KEY.match(key))
        and isinstance(doc.get("conditions"), list)
    )


def _manifest(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _names(folder: Path) -> list[str] | None:
    try:
        return sorted(e.name for e in folder.iterdir())
    except OSError:
        return None


def _only_leftovers(folder: Path) -> bool:
    """Whether `folder` holds nothing but what a killed first compile of it leaves: a
    `versions/` folder of temp versions only (or empty), content-named objects, temp pointers
    (nothing there can be the user's)."""
    names = _names(folder)
    temps = _names(folder / fmt.VERSIONS_DIR) if (folder / fmt.VERSIONS_DIR).is_dir() else None
    if names is None or temps is None or (folder / fmt.VERSIONS_DIR).is_symlink():
        return False
    for name in names:
        path = folder / name
        if name == fmt.VERSIONS_DIR:
            continue
        if name == fmt.OBJECTS_DIR and path.is_dir() and not path.is_symlink():
            objects = _names(path)
            if objects is not None and all(fmt.OBJECT_NAME.match(n) for n in objects):
                continue
        if versions.temp_pointer_owner(name) is not None and path.is_file():
            continue
        return False
    return all(
        leftovers.temp_version_owner(n) is not None and (folder / fmt.VERSIONS_DIR / n).is_dir()
        for n in temps
    )


def store_kind(folder: Path) -> StoreKind | None:
    """What kind of ctsite store `folder` is; None when it is not certainly one."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    base = folder / fmt.VERSIONS_DIR
    pointer = versions.read_pointer(folder)
    if pointer is not None and is_ctsite_manifest(_manifest(base / pointer.version / fmt.MANIFEST)):
        return StoreKind.VERSIONED
    if any(
        is_ctsite_manifest(_manifest(base / n / fmt.MANIFEST))
        for n in versions.list_versions(folder)
    ):
        return StoreKind.VERSIONED
    if not versions.is_versioned(folder) and is_ctsite_manifest(_manifest(folder / fmt.MANIFEST)):
        return StoreKind.FLAT
    if _only_leftovers(folder):
        return StoreKind.UNFINISHED
    return None


def foreign_in_flat(folder: Path) -> list[str]:
    """The entries of a flat (schema 1) store that a schema-1 compile does not write (the user's
    own files: converting the store would delete them), as `name` or `conditions/name`."""
    foreign = [n for n in _names(folder) or [] if n not in FLAT_NAMES]
    conditions = folder / fmt.CONDITIONS_DIR
    for name in _names(conditions) or []:
        path = conditions / name
        if not (fmt.CONDITION_ID.match(name) and path.is_dir() and not path.is_symlink()):
            foreign.append(f"{fmt.CONDITIONS_DIR}/{name}")
            continue
        files = _names(path) or []
        foreign += [
            f"{fmt.CONDITIONS_DIR}/{name}/{f}"
            for f in files
            if not (f.endswith((".feather", ".npy")) and (path / f).is_file())
        ]
    return foreign

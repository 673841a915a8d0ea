"""Cheap fingerprints of the inputs and parameters: decides whether a compile has work to do.

Standard library only, so `ctsite compile` answers "up to date" without importing the
scientific stack.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ctsite.compile.dataset import DataSpec
from ctsite.store.figure_defaults import FigureChoices
from ctsite.store.format import SCHEMA_VERSION
from ctsite.store.identity import Identity
from ctsite.store.versions import current_manifest


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Size, mtime and a SHA-256 of the first and last MiB: cheap, and catches real changes."""
    st = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        if st.st_size > 2 << 20:
            fh.seek(-(1 << 20), os.SEEK_END)
            digest.update(fh.read(1 << 20))
    return {
        "path": str(path),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sample_sha256": digest.hexdigest(),
    }


def compile_key(
    spec: DataSpec,
    fingerprints: dict[str, dict[str, Any]],
    identity: Identity | None = None,
    figures: FigureChoices | None = None,
) -> str:
    """One hash of the store schema, the inputs' fingerprints (not their paths), parameters
    and the study's identity (a new title is a new version: it travels with the data)."""
    content = {
        role: {k: v for k, v in fp.items() if k != "path"} for role, fp in fingerprints.items()
    }
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "inputs": content,
        "parameters": spec.parameters(),
    }
    if identity is not None:
        doc["identity"] = identity.to_json()
    if figures is not None:  # the [figures] choices: a new seed is a new version
        doc["figures"] = figures.to_json()
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def read_manifest(store: Path) -> dict[str, Any] | None:
    """The manifest of the store folder's current version (follows its pointer)."""
    return current_manifest(store)


def up_to_date(
    spec: DataSpec,
    store: Path,
    identity: Identity | None = None,
    figures: FigureChoices | None = None,
) -> dict[str, Any] | None:
    """The store's manifest when it was compiled from exactly these inputs, parameters and
    identity."""
    files = spec.input_files()
    if not all(p.is_file() for p in files.values()):
        return None
    manifest = read_manifest(store)
    if not manifest:
        return None
    fingerprints = {role: file_fingerprint(p) for role, p in files.items()}
    key = compile_key(spec, fingerprints, identity, figures)
    return manifest if manifest.get("compile_key") == key else None

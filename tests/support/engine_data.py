"""The static site's data folder for a compiled store, as the browser engine reads it (test-only).

A minimal writer of the contract in the issue-26 design (the exporter's `data/` folder):
`data/<sha256>.arrow` (every Feather table rewritten as uncompressed Arrow IPC), `data/<sha256>.npy`
(copied verbatim) and the index `data/store.<sha256-prefix-16>.json` mapping each store-relative
path to its content-named file, with the manifest (less its "files"), identity, figure defaults
and the figures' spec. The engine's tests use it until `ctsite export-site` writes the same
folder (ctsite/deploy/static_site/), which should then replace it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.feather as feather

from ctsite.figures.browser_spec import figure_spec
from ctsite.store import Store
from ctsite.store import format as fmt

INDEX_VERSION = 1


def _json_file(store: Store, rel: str) -> Any:
    """A JSON file of the version (site.json, figure_defaults.json), or None when absent."""
    if store.manifest.get(fmt.FILES_KEY) and rel not in store.manifest[fmt.FILES_KEY]:
        return None
    path = store.file(rel)
    return json.loads(path.read_bytes().decode("utf-8")) if path.is_file() else None


def _arrow_bytes(path: Path) -> bytes:
    sink = pa.BufferOutputStream()
    feather.write_feather(feather.read_table(path), sink, compression="uncompressed")
    return bytes(sink.getvalue().to_pybytes())


def write_engine_data(store: Store, out: Path) -> Path:
    """Write `out/data/` for `store`; returns the index's path."""
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for rel in store.expected_files():
        path = store.file(rel)
        if rel.endswith(".feather"):
            content, suffix = _arrow_bytes(path), ".arrow"
        else:
            content, suffix = path.read_bytes(), Path(rel).suffix
        name = hashlib.sha256(content).hexdigest() + suffix
        (data / name).write_bytes(content)
        files[rel] = name
    index = {
        "index_version": INDEX_VERSION,
        "version": store.version,
        "manifest": {k: v for k, v in store.manifest.items() if k != fmt.FILES_KEY},
        "files": files,
        "identity": _json_file(store, fmt.IDENTITY),
        "figure_defaults": _json_file(store, fmt.FIGURE_DEFAULTS),
        "spec": figure_spec(),
    }
    text = json.dumps(index, ensure_ascii=False, sort_keys=True, allow_nan=False).encode("utf-8")
    target = data / f"store.{hashlib.sha256(text).hexdigest()[:16]}.json"
    target.write_bytes(text)
    return target

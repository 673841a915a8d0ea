"""The store's data for the browser: `data/` of the static site (the contract with the engine).

Every file of the store version the figures read is written as `data/<sha256 of its bytes>.<ext>`:
feather tables as uncompressed Arrow IPC files (`.arrow`: the browser reads them with no
decompressor, and the host's gzip or brotli compresses them better than LZ4/ZSTD would), `.npy`
arrays verbatim. `data/store.<first 16 hex of its SHA-256>.json` is the index the pages name:

    {"index_version": 1, "version": <store version id>,
     "manifest": <the version's manifest without "files">,
     "files": {<store-relative path>: <name in data/>, ...},
     "identity": <site.json or null>, "figure_defaults": <figure_defaults.json or null>,
     "spec": <ctsite.figures.browser_spec.figure_spec()>}

The paths in "files" are the store's own (`ctsite.store.format`), so the engine's store reader
mirrors `ctsite.store.reader`. Names are content hashes: a host may cache them for ever, and an
export of a new version shares every unchanged file's name. Precomputed figures are not exported
(the browser computes every view).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from ctsite.figures.browser_spec import figure_spec
from ctsite.store import Store
from ctsite.store import format as fmt

INDEX_VERSION = 1
DATA_DIR = "data"
SUFFIXES = {".feather": ".arrow", ".npy": ".npy"}  # store file → exported file


@dataclass(frozen=True)
class DataExport:
    """What `write_data` wrote: the index (relative to the site's root), file count and bytes."""

    index: str
    files: int
    bytes: int


def text_as_dictionary(table: pa.Table) -> pa.Table:
    """Text columns dictionary-encoded: a gene or cell-type name is stored once and each row
    holds a small integer (the pairs table of a study-scale store: ~6x smaller compressed). The
    engine reads the names back as text, as pandas does."""
    columns = [
        pc.dictionary_encode(column)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def browser_bytes(rel: str, data: bytes) -> tuple[bytes, str]:
    """The bytes the browser reads for the store file `rel`, and their suffix."""
    suffix = Path(rel).suffix
    if suffix == ".feather":
        table = text_as_dictionary(feather.read_table(pa.BufferReader(data)))
        sink = io.BytesIO()
        feather.write_feather(table, sink, compression="uncompressed")
        return sink.getvalue(), SUFFIXES[suffix]
    if suffix == ".npy":
        return data, SUFFIXES[suffix]
    raise ValueError(f"no browser form for the store file {rel!r}")


def optional_json(store: Store, rel: str, present: bool) -> Any:
    """A JSON file of the version, as written (None when the reader would not read one)."""
    return json.loads(store.file_bytes(rel).decode("utf-8")) if present else None


def index_document(store: Store, files: dict[str, str]) -> dict[str, Any]:
    manifest = {k: v for k, v in store.manifest.items() if k != fmt.FILES_KEY}
    return {
        "index_version": INDEX_VERSION,
        "version": store.version,
        "manifest": manifest,
        "files": files,
        "identity": optional_json(store, fmt.IDENTITY, store.identity is not None),
        "figure_defaults": optional_json(
            store, fmt.FIGURE_DEFAULTS, store.figure_defaults is not None
        ),
        "spec": figure_spec(),
    }


def write_data(store: Store, site: Path) -> DataExport:
    """Write `site/data/`: the figures' files and their index (see the module docstring)."""
    folder = site / DATA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    total = 0
    for rel in store.expected_files():
        body, suffix = browser_bytes(rel, store.file_bytes(rel))
        name = hashlib.sha256(body).hexdigest() + suffix
        if not (folder / name).exists():  # versions and conditions share identical files
            (folder / name).write_bytes(body)
            total += len(body)
        files[rel] = name
    index = json.dumps(
        index_document(store, files), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    index_name = f"store.{hashlib.sha256(index).hexdigest()[:16]}.json"
    (folder / index_name).write_bytes(index)
    return DataExport(
        index=f"{DATA_DIR}/{index_name}",
        files=len(set(files.values())) + 1,
        bytes=total + len(index),
    )

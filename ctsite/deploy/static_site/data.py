"""The store's data for the browser: `data/` of the static site (the contract with the engine).

Every file of the store version the figures read is written under the SHA-256 of the bytes
written (`data/<sha256>.<ext>`): feather tables as uncompressed Arrow IPC files (`.arrow`: the
browser reads them with no decompressor, and the host's gzip or brotli compresses them better
than LZ4/ZSTD would), `.npy` arrays verbatim — and where a page reads only a part of a file:

- each condition's circos table is also written as a projection, a table of the columns the
  Ligand-effects figure reads (`format.EFFECTS_CIRCOS_COLUMNS`), so the Effects page does not
  fetch the per-threshold counts (the Circos and Pairwise pages fetch the whole table, as one
  file: a host's brotli compresses it better whole than in parts);
- each single condition's per-entry ligand-effects arrays are written in blocks of whole rows
  (`effects_blocks`) instead, which the Effects page fetches as its propagation reaches them.

`data/store.<first 16 hex of its SHA-256>.json` is the index the pages name:

    {"index_version": 2, "version": <store version id>,
     "manifest": <the version's manifest without "files">,
     "files": {<store-relative path>: <name in data/>, ...},
     "projections": {<store-relative path of a file in "files">:
                     [{"columns": [<some of its columns, in its order>], "file": <name>}], ...},
     "effects_rows": {<single condition id>: <name in data/ of its block list>, ...},
     "identity": <site.json or null>, "figure_defaults": <figure_defaults.json or null>,
     "spec": <ctsite.figures.browser_spec.figure_spec()>}

Every store file the reader reads is in "files" or (the per-entry effects arrays) in a block
list. The paths are the store's own (`ctsite.store.format`), so the engine's store
reader mirrors `ctsite.store.reader`. Names are content hashes: a host may cache them for ever,
and an export of a new version shares every unchanged file's name. Precomputed figures are not
exported (the browser computes every view).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from ctsite.deploy.static_site import effects_blocks
from ctsite.figures.browser_spec import figure_spec
from ctsite.store import Store
from ctsite.store import format as fmt

INDEX_VERSION = 2  # 2: effects arrays in row blocks, projections of the circos tables
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


def arrow_bytes(table: pa.Table) -> bytes:
    """A table as the browser reads it: uncompressed Arrow IPC, text dictionary-encoded."""
    sink = io.BytesIO()
    feather.write_feather(text_as_dictionary(table), sink, compression="uncompressed")
    return sink.getvalue()


def browser_bytes(rel: str, data: bytes) -> tuple[bytes, str]:
    """The bytes the browser reads for the store file `rel`, and their suffix."""
    suffix = Path(rel).suffix
    if suffix == ".feather":
        return arrow_bytes(feather.read_table(pa.BufferReader(data))), SUFFIXES[suffix]
    if suffix == ".npy":
        return data, SUFFIXES[suffix]
    raise ValueError(f"no browser form for the store file {rel!r}")


def effects_projection(table: pa.Table) -> pa.Table:
    """The columns of a circos table the Ligand-effects figure reads, in the table's order."""
    wanted = set(fmt.EFFECTS_CIRCOS_COLUMNS)
    return table.select([c for c in table.column_names if c in wanted])


def optional_json(store: Store, rel: str, present: bool) -> Any:
    """A JSON file of the version, as written (None when the reader would not read one)."""
    return json.loads(store.file_bytes(rel).decode("utf-8")) if present else None


@dataclass
class ContentWriter:
    """Writes bytes into data/ under their content name, once per distinct content."""

    folder: Path
    names: set[str] = field(default_factory=set)
    written: int = 0

    def put(self, body: bytes, suffix: str) -> str:
        name = hashlib.sha256(body).hexdigest() + suffix
        if name not in self.names:
            self.names.add(name)
            if not (self.folder / name).exists():
                (self.folder / name).write_bytes(body)
                self.written += len(body)
        return name


@dataclass
class DataLayout:
    """Where the index says each store file went ("files", "projections", "effects_rows")."""

    files: dict[str, str] = field(default_factory=dict)
    projections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    effects_rows: dict[str, str] = field(default_factory=dict)


def write_files(store: Store, writer: ContentWriter) -> DataLayout:
    """Every file the figures read, as the module docstring says."""
    layout = DataLayout()
    circos = {f"{fmt.CONDITIONS_DIR}/{cond.id}/{fmt.CIRCOS}" for cond in store.conditions}
    blocked = effects_blocks.blocked_files(store)
    for rel in store.expected_files():
        if rel in blocked:
            continue
        body, suffix = browser_bytes(rel, store.file_bytes(rel))
        layout.files[rel] = writer.put(body, suffix)
        if rel in circos:
            projection = effects_projection(feather.read_table(pa.BufferReader(body)))
            name = writer.put(arrow_bytes(projection), ".arrow")
            layout.projections[rel] = [{"columns": projection.column_names, "file": name}]
    for cond in store.conditions:
        if cond.kind == "single":
            layout.effects_rows[cond.id] = effects_blocks.write_blocks(store, cond, writer.put)
    return layout


def index_document(store: Store, layout: DataLayout) -> dict[str, Any]:
    manifest = {k: v for k, v in store.manifest.items() if k != fmt.FILES_KEY}
    return {
        "index_version": INDEX_VERSION,
        "version": store.version,
        "manifest": manifest,
        "files": layout.files,
        "projections": layout.projections,
        "effects_rows": layout.effects_rows,
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
    writer = ContentWriter(folder)
    layout = write_files(store, writer)
    index = json.dumps(
        index_document(store, layout), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    index_name = f"store.{hashlib.sha256(index).hexdigest()[:16]}.json"
    (folder / index_name).write_bytes(index)
    return DataExport(
        index=f"{DATA_DIR}/{index_name}",
        files=len(writer.names) + 1,
        bytes=writer.written + len(index),
    )

"""The ligand-effects rows of a single condition as small files the browser fetches on demand.

A condition's effects arrays are CSR-like (`ctsite.store.format`): EFFECT_OFFSETS gives each
(cell type, target) row its entries in the per-entry arrays (EFFECT_GENES and one float array
per EFFECT_LAYERS). A view of the Ligand-effects figure reads only the rows its propagation
visits — a handful of the ~10,000 of a study — so the static site cuts the per-entry arrays into
blocks of consecutive whole rows, each an uncompressed Arrow IPC table (one column per array,
named by its store file, dtypes as stored) under the SHA-256 of its bytes, and lists them in a
JSON document, itself content-named and named by the data index:

    {"arrays": [<store file of each column>, ...],
     "starts": [0, s1, s2, ..., rows],        block k holds rows starts[k] .. starts[k+1] - 1,
     "files": [<name in data/ of block k>, ...]}   i.e. entries offsets[starts[k]] .. offsets[starts[k+1]]

EFFECT_OFFSETS itself is exported whole (the engine needs it for every row it reads). A block
holds about BLOCK_BYTES of entries (a row is never split, so a long row makes a bigger block):
small enough that a view's few rows cost tens of kilobytes, big enough that a study's condition
is a few hundred files.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from ctsite.errors import StoreError
from ctsite.store import Store
from ctsite.store import format as fmt
from ctsite.store.reader import Condition

BLOCK_BYTES = 16 * 1024
REPAIR_HINT = "recompile the store (ctsite compile --force) and export again"

Put = Callable[[bytes, str], str]  # (bytes, suffix) → their content name in data/


def per_entry_files() -> list[str]:
    """The store files (in a condition's folder) that are exported in blocks, in column order."""
    return [fmt.EFFECT_GENES, *(layer.file for layer in fmt.EFFECT_LAYERS)]


def blocked_files(store: Store) -> set[str]:
    """Every store-relative path exported in blocks rather than whole."""
    return {
        f"{fmt.CONDITIONS_DIR}/{cond.id}/{name}"
        for cond in store.conditions
        if cond.kind == "single"
        for name in per_entry_files()
    }


def block_starts(
    offsets: np.ndarray, entry_bytes: int, block_bytes: int = BLOCK_BYTES
) -> list[int]:
    """The first row of each block and, last, the number of rows: consecutive whole rows, a new
    block when the next row would take the current one past `block_bytes` (so a block holds at
    least one row). No rows: no blocks, `[0]`."""
    counts = np.diff(np.asarray(offsets, dtype=np.int64))
    starts = [0]
    size = 0
    for row, count in enumerate(counts.tolist()):
        row_bytes = count * entry_bytes
        if size and size + row_bytes > block_bytes:
            starts.append(row)
            size = 0
        size += row_bytes
    if len(counts):
        starts.append(len(counts))
    return starts


def _read(store: Store, rel: str) -> np.ndarray:
    return np.load(io.BytesIO(store.file_bytes(rel)), allow_pickle=False)


def block_table(arrays: dict[str, np.ndarray], start: int, stop: int) -> bytes:
    """One block: the entries start..stop of each array, as an uncompressed Arrow IPC file."""
    table = pa.table({name: pa.array(values[start:stop]) for name, values in arrays.items()})
    sink = io.BytesIO()
    feather.write_feather(table, sink, compression="uncompressed")
    return sink.getvalue()


def write_blocks(store: Store, cond: Condition, put: Put) -> str:
    """Write one single condition's blocks and their list (see the module docstring); the list's
    name in data/."""
    base = f"{fmt.CONDITIONS_DIR}/{cond.id}"
    offsets = _read(store, f"{base}/{fmt.EFFECT_OFFSETS}").astype(np.int64)
    arrays = {name: _read(store, f"{base}/{name}") for name in per_entry_files()}
    entries = int(offsets[-1]) if len(offsets) else 0
    for name, values in arrays.items():
        if values.ndim != 1 or len(values) != entries or (len(offsets) and offsets[0] != 0):
            raise StoreError(
                f"{base}/{name}: {values.shape} values, its offsets imply {entries}",
                hint=REPAIR_HINT,
            )
    entry_bytes = sum(values.dtype.itemsize for values in arrays.values())
    starts = block_starts(offsets, entry_bytes)
    files = [
        put(block_table(arrays, int(offsets[a]), int(offsets[b])), ".arrow")
        for a, b in itertools.pairwise(starts)
    ]
    listing = {"arrays": list(arrays), "starts": starts, "files": files}
    return put(json.dumps(listing, separators=(",", ":")).encode("utf-8"), ".json")

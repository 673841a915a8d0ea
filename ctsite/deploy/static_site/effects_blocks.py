"""The ligand-effects rows of a single condition as small files the browser fetches on demand.

A condition's effects arrays are CSR-like (`ctsite.store.format`): EFFECT_OFFSETS gives each
(cell type, target) row its entries in the per-entry arrays (EFFECT_GENES and one float array
per EFFECT_LAYERS). A view of the Ligand-effects figure reads only the rows its propagation
visits — a handful of the ~10,000 of a study — so the static site cuts the per-entry arrays into
blocks of whole rows, each an uncompressed Arrow IPC table (one column per array, named by its
store file, dtypes as stored) under the SHA-256 of its bytes, and lists them in a JSON document,
itself content-named and named by the data index:

    {"arrays": [<store file of each column>, ...],
     "blocks": [{"file": <name in data/>, "rows": [[a, b], ...]}, ...]}

A block holds the entries of rows a..b-1 of each of its ranges, in that order; every row is in
exactly one block. EFFECT_OFFSETS itself is exported whole (the engine needs it for every row).

Which rows share a block decides how many files a view fetches: a propagation step reaches a
receptor in every cell type it passes in, so a block holds whole targets — every cell type's row
of one target — targets in name order, about BLOCK_BYTES of entries each (a target is never
split, so a long one makes a bigger block). Small enough that a view's few rows cost tens of
kilobytes, big enough that a study's condition is a few hundred files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence

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


def target_groups(targets: Sequence[str], rows: Sequence[int], n_rows: int) -> list[list[int]]:
    """The rows (0 … n_rows-1) in groups a view reads together: each target's rows (one per
    cell type), targets in name order; a row no target names (none in a compiled store) alone."""
    by_target: dict[str, list[int]] = {}
    for target, row in zip(targets, rows, strict=True):
        by_target.setdefault(str(target), []).append(int(row))
    groups = [sorted(by_target[t]) for t in sorted(by_target)]
    named = [row for group in groups for row in group]
    if len(set(named)) != len(named) or any(not 0 <= row < n_rows for row in named):
        raise StoreError(
            f"the circos table's rows do not match the {n_rows} ligand-effects rows",
            hint=REPAIR_HINT,
        )
    rest = sorted(set(range(n_rows)) - set(named))
    return groups + [[row] for row in rest]


def pack(groups: list[list[int]], row_bytes: np.ndarray, block_bytes: int) -> list[list[int]]:
    """Consecutive groups in blocks: a new block when the next group would take the current one
    past `block_bytes` (a block holds at least one group); each block's rows in order."""
    blocks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for group in groups:
        group_bytes = int(row_bytes[group].sum())
        if current and size + group_bytes > block_bytes:
            blocks.append(sorted(current))
            current, size = [], 0
        current += group
        size += group_bytes
    if current:
        blocks.append(sorted(current))
    return blocks


def ranges(rows: list[int]) -> list[list[int]]:
    """Increasing rows as half-open ranges [a, b) of consecutive rows."""
    out: list[list[int]] = []
    for row in rows:
        if out and out[-1][1] == row:
            out[-1][1] = row + 1
        else:
            out.append([row, row + 1])
    return out


def _read(store: Store, rel: str) -> np.ndarray:
    return np.load(io.BytesIO(store.file_bytes(rel)), allow_pickle=False)


def block_table(
    arrays: dict[str, np.ndarray], offsets: np.ndarray, spans: list[list[int]]
) -> bytes:
    """One block: the entries of its row ranges in each array, as an uncompressed Arrow IPC file."""
    columns = {
        name: pa.array(np.concatenate([values[offsets[a] : offsets[b]] for a, b in spans]))
        for name, values in arrays.items()
    }
    sink = io.BytesIO()
    feather.write_feather(pa.table(columns), sink, compression="uncompressed")
    return sink.getvalue()


def write_blocks(store: Store, cond: Condition, put: Put, block_bytes: int = BLOCK_BYTES) -> str:
    """Write one single condition's blocks and their list (see the module docstring); the list's
    name in data/."""
    base = f"{fmt.CONDITIONS_DIR}/{cond.id}"
    offsets = _read(store, f"{base}/{fmt.EFFECT_OFFSETS}").astype(np.int64)
    arrays = {name: _read(store, f"{base}/{name}") for name in per_entry_files()}
    n_rows = len(offsets) - 1
    for name, values in arrays.items():
        if n_rows < 0 or offsets[0] != 0 or values.ndim != 1 or len(values) != offsets[-1]:
            raise StoreError(
                f"{base}/{name}: {values.shape} values, its offsets imply "
                f"{offsets[-1] if len(offsets) else 'none'}",
                hint=REPAIR_HINT,
            )
    keys = store.mast_table(cond.name)
    groups = target_groups(list(keys["target"]), list(keys["row"]), n_rows)
    entry_bytes = sum(values.dtype.itemsize for values in arrays.values())
    blocks = []
    for rows in pack(groups, np.diff(offsets) * entry_bytes, block_bytes):
        spans = ranges(rows)
        blocks.append({"file": put(block_table(arrays, offsets, spans), ".arrow"), "rows": spans})
    listing = {"arrays": list(arrays), "blocks": blocks}
    return put(json.dumps(listing, separators=(",", ":")).encode("utf-8"), ".json")

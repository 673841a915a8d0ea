"""The ligand-effects rows of the static site in blocks, and what the Effects page fetches.

The export cuts each single condition's per-entry effects arrays into blocks of whole rows
(ctsite/deploy/static_site/effects_blocks.py) and writes the circos tables' effects columns
apart (a projection); the browser engine, run in Node through a fetch-like function that counts
what it is asked for (run_fetches.mjs), fetches only the blocks a view's propagation reads and
never the whole circos tables — on a study-scale generated store, whose conditions span dozens
of blocks. A damaged block is an error naming its rows, like any damaged file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from ctsite.deploy.static_site import effects_blocks
from ctsite.deploy.static_site.data import write_data
from ctsite.store import Store
from ctsite.store import format as fmt
from tests.support.engine import node

RUNNER = Path(__file__).with_name("run_fetches.mjs")
ARRAYS = [fmt.EFFECT_GENES, *(e.file for e in fmt.EFFECT_LAYERS)]


def exported_data(store_path: Path, folder: Path) -> tuple[Store, Path, dict[str, Any]]:
    """The store, its data index as export-site writes it, and the index's JSON."""
    store = Store.open(store_path)
    index = folder / write_data(store, folder).index
    return store, index, json.loads(index.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_data(demo_store: Path, tmp_path_factory: pytest.TempPathFactory):
    return exported_data(demo_store, tmp_path_factory.mktemp("demo-data"))


@pytest.fixture(scope="module")
def study_data(study_store: Path, tmp_path_factory: pytest.TempPathFactory):
    return exported_data(study_store, tmp_path_factory.mktemp("study-data"))


def listing(index: Path, doc: dict[str, Any], condition: str) -> dict[str, Any]:
    return json.loads((index.parent / doc["effects_rows"][condition]).read_text("utf-8"))


def fetches(index: Path, cases: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The engine's answers in Node: the opening, then each case, with the files fetched."""
    done = subprocess.run(
        [node(), "--no-warnings", str(RUNNER)],
        input=json.dumps({"index": str(index), "cases": cases}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("which", ["demo", "study"])
def test_the_blocks_hold_the_stores_arrays_in_whole_rows(which, request):
    store, index, doc = request.getfixturevalue(f"{which}_data")
    for cond in (c for c in store.conditions if c.kind == "single"):
        base = f"{fmt.CONDITIONS_DIR}/{cond.id}"
        offsets = np.load(index.parent / doc["files"][f"{base}/{fmt.EFFECT_OFFSETS}"])
        blocks = listing(index, doc, cond.id)
        assert blocks["arrays"] == ARRAYS
        starts = blocks["starts"]
        assert starts[0] == 0 and starts[-1] == len(offsets) - 1
        assert all(a < b for a, b in itertools.pairwise(starts))
        assert len(blocks["files"]) == len(starts) - 1 > 1
        tables = []
        for k, name in enumerate(blocks["files"]):
            data = (index.parent / name).read_bytes()
            assert name == hashlib.sha256(data).hexdigest() + ".arrow"
            table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
            assert table.num_rows == offsets[starts[k + 1]] - offsets[starts[k]]
            # about BLOCK_BYTES each: a block is cut before the row that would overflow it
            size = sum(table[c].nbytes for c in ARRAYS)
            assert size <= effects_blocks.BLOCK_BYTES or starts[k + 1] - starts[k] == 1
            tables.append(table)
        for name in ARRAYS:  # side by side, the blocks are the store's arrays, dtypes included
            stored = np.load(store.file(f"{base}/{name}"), allow_pickle=False)
            joined = np.concatenate([t[name].to_numpy() for t in tables])
            assert joined.dtype == stored.dtype and np.array_equal(joined, stored, equal_nan=True)


def test_block_starts_keep_rows_whole():
    entry = 16  # bytes of one entry in every array
    offsets = np.array([0, 2, 2, 10, 11, 11, 12, 40, 41])  # entries per row: 2 0 8 1 0 1 28 1
    assert effects_blocks.block_starts(offsets, entry, 10 * entry) == [0, 3, 6, 7, 8]
    assert effects_blocks.block_starts(offsets, entry, 1000 * entry) == [0, 8]  # one block
    assert effects_blocks.block_starts(offsets, entry, 1) == [0, 1, 3, 4, 6, 7, 8]  # row by row
    assert effects_blocks.block_starts(np.array([0]), entry) == [0]  # no rows: no blocks
    assert effects_blocks.block_starts(np.array([0, 0, 0]), entry) == [0, 2]  # empty rows


def test_the_effects_view_fetches_only_the_rows_it_reads(study_data):
    """The default view, a view of more steps and a change of condition: each fetches the few
    blocks its propagation reaches (of dozens), the circos table's effects columns and not the
    whole table, and nothing twice; the figures are drawn (the conformance suite checks their
    values)."""
    store, index, doc = study_data
    c1, c2 = (c.id for c in store.conditions if c.kind == "single")
    blocks = {c: set(listing(index, doc, c)["files"]) for c in (c1, c2)}
    circos = {doc["files"][rel] for rel in doc["projections"]}  # with every threshold's counts
    effects_part = {
        c: doc["projections"][f"conditions/{c}/{fmt.CIRCOS}"][0]["file"] for c in (c1, c2)
    }
    other = next(c.name for c in store.conditions if c.id == c2)
    opening, default, more, again, condition = fetches(
        index,
        [
            {"figure": "effects", "query": ""},
            {"figure": "effects", "query": "steps=5&fdr_i=0.25&fdr_l=0.25&min_log2fc=0"},
            {"figure": "effects", "query": ""},
            {"figure": "effects", "query": f"condition={other}"},
        ],
    )
    assert opening["status"] == 200
    for answer in (default, more, again, condition):
        assert answer["status"] == 200 and answer["edges"], answer
    seen: list[str] = [
        name for a in (opening, default, more, again, condition) for name in a["fetched"]
    ]
    assert len(seen) == len(set(seen))  # each file once
    assert not circos & set(seen)
    assert effects_part[c1] in default["fetched"] and effects_part[c2] in condition["fetched"]
    for answer, cond in ((default, c1), (more, c1), (condition, c2)):
        got = blocks[cond] & set(answer["fetched"])
        assert 1 <= len(got) <= len(blocks[cond]) // 4, (len(got), len(blocks[cond]))
        assert not blocks[c2 if cond == c1 else c1] & set(answer["fetched"])
    assert again["fetched"] == []  # the same view again: nothing new
    fetched = blocks[c1] & set(default["fetched"] + more["fetched"])
    assert len(fetched) < len(blocks[c1]) // 2  # the second view reached further, still a few


def test_a_damaged_block_the_view_reads_is_an_error_naming_it(study_data, tmp_path):
    store, index, doc = study_data
    c1 = next(c.id for c in store.conditions if c.kind == "single")
    blocks = listing(index, doc, c1)
    _, default = fetches(index, [{"figure": "effects", "query": ""}])
    k = min(blocks["files"].index(name) for name in default["fetched"] if name in blocks["files"])
    data = tmp_path / "data"
    shutil.copytree(index.parent, data)
    damaged = data / blocks["files"][k]
    damaged.write_bytes(damaged.read_bytes()[:-9] + b"000000000")
    _, answer = fetches(data / index.name, [{"figure": "effects", "query": ""}])
    assert answer["status"] == 500 and answer["reason"] == "object-changed", answer
    rows = f"conditions/{c1}/effects_*.npy rows {blocks['starts'][k]}–{blocks['starts'][k + 1] - 1}"
    assert answer["error"].startswith("StoreError: ") and rows in answer["error"]
    assert blocks["files"][k] in answer["error"]  # its URL

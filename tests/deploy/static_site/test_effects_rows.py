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
from ctsite.errors import StoreError
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


def block_name(cond: str, block: dict[str, Any], k: int) -> str:
    """How the engine names a block in its errors (store.js _blockWhat)."""
    spans = [f"{a}" if b - a == 1 else f"{a}–{b - 1}" for a, b in block["rows"][:3]]
    more = ", …" if len(block["rows"]) > 3 else ""
    return f"conditions/{cond}/effects_*.npy block {k} (rows {', '.join(spans)}{more})"


@pytest.mark.parametrize("which", ["demo", "study"])
def test_the_blocks_hold_the_stores_arrays_in_whole_targets(which, request):
    """Every row in exactly one block, a block holding every cell type's row of its targets;
    the blocks' entries, row by row, are the store's arrays (dtypes included)."""
    store, index, doc = request.getfixturevalue(f"{which}_data")
    for cond in (c for c in store.conditions if c.kind == "single"):
        base = f"{fmt.CONDITIONS_DIR}/{cond.id}"
        offsets = np.load(index.parent / doc["files"][f"{base}/{fmt.EFFECT_OFFSETS}"])
        blocks = listing(index, doc, cond.id)
        assert blocks["arrays"] == ARRAYS
        assert len(blocks["blocks"]) > 1
        rows_of = [[r for a, b in block["rows"] for r in range(a, b)] for block in blocks["blocks"]]
        assert sorted(r for rows in rows_of for r in rows) == list(range(len(offsets) - 1))
        keys = store.mast_table(cond.name)
        block_of = {row: k for k, rows in enumerate(rows_of) for row in rows}
        for target, rows in keys.groupby("target")["row"]:
            assert len({block_of[r] for r in rows}) == 1, target  # a target is never split
        stored = {
            name: np.load(store.file(f"{base}/{name}"), allow_pickle=False) for name in ARRAYS
        }
        for block, rows in zip(blocks["blocks"], rows_of, strict=True):
            data = (index.parent / block["file"]).read_bytes()
            assert block["file"] == hashlib.sha256(data).hexdigest() + ".arrow"
            assert rows == sorted(rows)
            table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
            assert table.column_names == ARRAYS
            size = sum(table[c].nbytes for c in ARRAYS)
            targets = set(keys.loc[keys["row"].isin(rows), "target"])
            assert size <= effects_blocks.BLOCK_BYTES or len(targets) == 1  # about that size
            for name in ARRAYS:
                want = np.concatenate([stored[name][offsets[r] : offsets[r + 1]] for r in rows])
                got = table[name].to_numpy()
                assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)


def test_blocks_pack_whole_groups_and_list_their_rows_as_ranges():
    row_bytes = np.array([32, 0, 128, 16, 0, 16, 448, 16])  # bytes of each row's entries
    groups = [[0, 3], [1], [2], [4, 5, 7], [6]]
    assert effects_blocks.pack(groups, row_bytes, 160) == [[0, 1, 3], [2, 4, 5, 7], [6]]
    assert effects_blocks.pack(groups, row_bytes, 10_000) == [list(range(8))]  # one block
    assert effects_blocks.pack(groups, row_bytes, 1) == [[0, 3], [1], [2], [4, 5, 7], [6]]
    assert effects_blocks.pack([], row_bytes, 160) == []  # no rows: no blocks
    assert effects_blocks.ranges([0, 1, 3, 4, 5, 9]) == [[0, 2], [3, 6], [9, 10]]
    assert effects_blocks.ranges([]) == []
    groups = effects_blocks.target_groups(["b", "a", "b", "a"], [0, 1, 2, 3], 5)
    assert groups == [[1, 3], [0, 2], [4]]  # targets by name, each's rows; a row unnamed alone


def test_rows_the_circos_table_names_twice_are_refused():
    with pytest.raises(StoreError, match="do not match"):
        effects_blocks.target_groups(["a", "b"], [0, 0], 2)
    with pytest.raises(StoreError, match="do not match"):
        effects_blocks.target_groups(["a"], [5], 2)


def test_the_effects_view_fetches_only_the_rows_it_reads(study_data):
    """The default view, a view of more steps and a change of condition: each fetches the few
    blocks its propagation reaches (of dozens), the circos table's effects columns and not the
    whole table, and nothing twice; the figures are drawn (the conformance suite checks their
    values)."""
    store, index, doc = study_data
    c1, c2 = (c.id for c in store.conditions if c.kind == "single")
    blocks = {c: {b["file"] for b in listing(index, doc, c)["blocks"]} for c in (c1, c2)}
    circos = {doc["files"][rel] for rel in doc["projections"]}  # with every threshold's counts
    effects_part = {
        c: doc["projections"][f"conditions/{c}/{fmt.CIRCOS}"][0]["file"] for c in (c1, c2)
    }
    other = next(c.name for c in store.conditions if c.id == c2)
    opening, default, more, again, condition = fetches(
        index,
        [
            {"figure": "effects", "query": ""},
            {"figure": "effects", "query": "fdr_l=0.25&steps=4"},  # further: more rows
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
    files = [block["file"] for block in blocks["blocks"]]
    k = min(files.index(name) for name in default["fetched"] if name in files)
    data = tmp_path / "data"
    shutil.copytree(index.parent, data)
    damaged = data / files[k]
    damaged.write_bytes(damaged.read_bytes()[:-9] + b"000000000")
    _, answer = fetches(data / index.name, [{"figure": "effects", "query": ""}])
    assert answer["status"] == 500 and answer["reason"] == "object-changed", answer
    assert answer["error"].startswith("StoreError: ")
    assert block_name(c1, blocks["blocks"][k], k) in answer["error"]
    assert files[k] in answer["error"]  # its URL

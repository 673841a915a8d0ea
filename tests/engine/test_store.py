"""The browser engine's store reader (web-assets/engine/store.js) against ctsite.store.reader.

Every figure-facing method is called with the same arguments on both (names, ids and unknown
names; every threshold; every cell type; genes in other cases; every ligand-effects row of the
small stores, a sample of the study-scale one) on the demo, the tiny and a study-scale store,
read by the engine from its static-site data folder in Node; results compared canonically
(tests/support/engine.py: exact, floats to 1e-9 relative, NaN equal to NaN, dtypes included).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.engine.cases import call, effects_calls, name_calls, table_calls
from tests.engine.conftest import Site
from tests.support.engine import EngineOpenError, assert_same, run_engine, run_python


def test_every_figure_facing_method_answers_as_python(site: Site) -> None:
    rng = random.Random(26)
    calls = name_calls(site.store) + table_calls(site.store) + effects_calls(site.store, rng)
    assert_same(calls, run_python(site.store, calls), run_engine(site.index, calls))


def test_the_answers_are_not_vacuous(demo_site: Site) -> None:
    """The comparison above compares real tables: rows, genes with effects, counts above 0."""
    calls = [
        call("circos_table", "highCIN_vs_lowCIN", 0.25),
        call("ligand_effects", "highCIN_vs_lowCIN", "Tumor cells", "Ccr2"),
        call("pairwise_table", "highCIN_vs_lowCIN", 0.25, None),
        {"fn": "store", "method": "tested_lr_gene_count"},
    ]
    circos, effects, pairs, tested = (r["ok"] for r in run_engine(demo_site.index, calls))
    assert circos["$frame"]["length"] > 100 and max(circos["$frame"]["columns"]["numSigI1"]) > 10
    assert effects["$frame"]["length"] > 0
    assert pairs["$frame"]["length"] > 100
    assert tested > 10


def test_methods_need_their_condition_prepared(demo_site: Site) -> None:
    """Loading is asynchronous, the methods synchronous: before `prepare(condition)` a method
    says which call is missing; after it, it answers as Python."""
    table = call("circos_table", "highCIN_vs_lowCIN", 0.05)
    calls = [table, {"fn": "prepare", "args": ["highCIN_vs_lowCIN", ["circos"]]}, table]
    before, prepared, after = run_engine(demo_site.index, calls, prepare_all=False)
    assert before["error"]["type"] == "StoreError"
    assert "await store.prepare(condition)" in before["error"]["message"]
    assert prepared == {"ok": None}
    assert_same([table], run_python(demo_site.store, [table]), [after])


def test_a_view_of_ligand_effects_fetches_its_rows_on_demand(study_site: Site) -> None:
    """Prepared for one view ("effects_lazy": what the Effects page asks), the store answers
    the row index and the receptor rules at once; reading a row of effects not fetched yet is
    `NotLoaded` (a StoreError saying what to call), and the circos counts were never fetched."""
    cond = study_site.store.conditions[0]
    ct, target = next(
        (c, t)
        for c, t, r in study_site.store.mast_table(cond.name)[["cell_type", "target", "row"]].values
        if len(study_site.store.ligand_effects(cond.name, c, t))
    )
    calls = [
        {"fn": "prepare", "args": [cond.name, ["effects_lazy"]]},
        call("mast_table", cond.name),
        call("has_row", cond.name, ct, target),
        call("ligand_effects", cond.name, ct, target),
        call("require_effects", cond.name, [[ct, target]]),
        call("circos_table", cond.name, 0.05),
    ]
    results = run_engine(study_site.index, calls, prepare_all=False)
    assert results[0] == {"ok": None}
    assert_same(calls[1:3], run_python(study_site.store, calls[1:3]), results[1:3])
    for result in results[3:5]:
        assert result["error"]["type"] == "NotLoaded", result
        assert result["error"]["reason"] == "not-loaded"
        assert "await store.load(error.needed)" in result["error"]["message"]
    assert "await store.prepare(condition)" in results[5]["error"]["message"]


def _damaged_copy(site: Site, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """A copy of the site's data folder, and where each store file's copy is."""
    data = tmp_path / "data"
    shutil.copytree(site.index.parent, data)
    index = data / site.index.name
    files = json.loads(index.read_text(encoding="utf-8"))["files"]
    return index, {rel: data / name for rel, name in files.items()}


def test_a_damaged_or_missing_data_file_is_an_error_naming_it(
    demo_site: Site, tmp_path: Path
) -> None:
    """A file whose bytes differ from its content name, a missing file and a file that is no
    Arrow table are StoreErrors naming the file (with the store's reason codes), never a
    wrong table or a crash."""
    index, files = _damaged_copy(demo_site, tmp_path)
    changed = files["conditions/c1/circos.feather"]
    changed.write_bytes(changed.read_bytes()[:-9] + b"000000000")
    files["conditions/c2/circos.feather"].unlink()
    garbage = b"not an arrow file"
    unreadable = files["conditions/c3/circos.feather"]
    unreadable.unlink()
    # a file of garbage under its own content name: it passes the hash, fails to parse
    named = unreadable.with_name(hashlib.sha256(garbage).hexdigest() + ".arrow")
    named.write_bytes(garbage)
    text = index.read_text(encoding="utf-8").replace(unreadable.name, named.name)
    index.write_text(text, encoding="utf-8")
    calls = [{"fn": "prepare", "args": [c, ["circos"]]} for c in ("c1", "c2", "c3")]
    results = run_engine(index, calls, prepare_all=False)
    reasons = [r["error"]["reason"] for r in results]
    assert reasons == ["object-changed", "object-missing", "object-unreadable"]
    for result, rel in zip(results, ("c1", "c2", "c3"), strict=True):
        assert result["error"]["type"] == "StoreError"
        assert f"conditions/{rel}/circos.feather" in result["error"]["message"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda index: index | {"index_version": 1}, "schema-unsupported"),  # before blocks
        (lambda index: index | {"index_version": 3}, "schema-unsupported"),
        (lambda index: {k: v for k, v in index.items() if k != "manifest"}, "manifest-malformed"),
        (lambda index: index | {"files": {}}, "object-missing"),
    ],
)
def test_an_index_the_engine_cannot_read_is_one_store_error(
    demo_site: Site, tmp_path: Path, change: Any, reason: str
) -> None:
    index, _ = _damaged_copy(demo_site, tmp_path)
    index.write_text(json.dumps(change(json.loads(index.read_text("utf-8")))), "utf-8")
    with pytest.raises(EngineOpenError) as caught:
        run_engine(index, [])
    assert caught.value.error["type"] == "StoreError"
    assert caught.value.error["reason"] == reason
    assert str(index.name) in caught.value.error["message"] or reason == "object-missing"


def test_an_array_the_engine_cannot_read_exactly_is_refused(
    demo_site: Site, tmp_path: Path
) -> None:
    """.npy files of another dtype, byte order or layout than the store writes, or cut short,
    are StoreErrors naming the file (a wrong value would be a wrong figure)."""
    import io

    import numpy as np

    index, files = _damaged_copy(demo_site, tmp_path)
    text = index.read_text(encoding="utf-8")
    odd = {
        "conditions/c1/effects_offsets.npy": np.arange(6, dtype=">i8"),  # big-endian
        "conditions/c2/effects_offsets.npy": np.asfortranarray(np.ones((3, 2), dtype="<i8")),
    }
    for rel, array in odd.items():
        buffer = io.BytesIO()
        np.save(buffer, array)
        content = buffer.getvalue()
        if rel.startswith("conditions/c2"):  # and one cut short
            odd_name = hashlib.sha256(content[:-3]).hexdigest() + ".npy"
            content = content[:-3]
        else:
            odd_name = hashlib.sha256(content).hexdigest() + ".npy"
        (index.parent / odd_name).write_bytes(content)
        text = text.replace(files[rel].name, odd_name)
    index.write_text(text, encoding="utf-8")
    calls = [
        {"fn": "prepare", "args": ["c1", ["effects"]]},
        {"fn": "prepare", "args": ["c2", ["effects"]]},
    ]
    results = run_engine(index, calls, prepare_all=False)
    for result in results:
        assert result["error"]["reason"] == "object-unreadable", result
        assert "effects_" in result["error"]["message"] and ".npy" in result["error"]["message"]


def _block_table(columns: dict[str, Any]) -> bytes:
    import pyarrow as pa
    import pyarrow.feather as feather

    sink = pa.BufferOutputStream()
    feather.write_feather(pa.table(columns), sink, compression="uncompressed")
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("damage", ["changed", "missing", "no column", "short", "text column"])
def test_a_damaged_block_of_effects_rows_is_an_error_naming_it(
    demo_site: Site, tmp_path: Path, damage: str
) -> None:
    """A block of ligand-effects rows is checked as every file is (its bytes against its
    content name, present) and against the offsets (the arrays the store writes, as many
    entries as its rows hold): each is a StoreError naming the block's rows and its URL."""
    import numpy as np

    index, _ = _damaged_copy(demo_site, tmp_path)
    doc = json.loads(index.read_text(encoding="utf-8"))
    data = index.parent
    listing = json.loads((data / doc["effects_rows"]["c1"]).read_text(encoding="utf-8"))
    block = data / listing["blocks"][1]["file"]
    rows = "conditions/c1/effects_*.npy block 1 (rows "
    n = 5
    good = {
        "effects_genes.npy": np.arange(n, dtype=np.int32),
        "effects_log2FC.npy": np.zeros(n, np.float32),
        "effects_fdr.npy": np.zeros(n, np.float32),
        "effects_fdr_i1.npy": np.zeros(n, np.float32),
    }
    odd = {
        "no column": {k: v for k, v in good.items() if k != "effects_fdr.npy"},
        "short": good,  # fewer entries than the block's rows hold
        "text column": good | {"effects_log2FC.npy": ["0.5"] * n},
    }
    if damage == "changed":
        block.write_bytes(block.read_bytes()[:-9] + b"000000000")
    elif damage == "missing":
        block.unlink()
    else:  # other content under its own name, listed in place of the block
        content = _block_table(odd[damage])
        name = hashlib.sha256(content).hexdigest() + ".arrow"
        (data / name).write_bytes(content)
        listing["blocks"][1]["file"] = name
        text = json.dumps(listing).encode("utf-8")
        list_name = hashlib.sha256(text).hexdigest() + ".json"
        (data / list_name).write_bytes(text)
        doc["effects_rows"]["c1"] = list_name
        index.write_text(json.dumps(doc), encoding="utf-8")
    calls = [{"fn": "prepare", "args": ["c1", ["effects"]]}]
    [result] = run_engine(index, calls, prepare_all=False)
    reason = {"changed": "object-changed", "missing": "object-missing"}.get(
        damage, "object-unreadable"
    )
    assert result["error"]["type"] == "StoreError", result
    assert result["error"]["reason"] == reason, result
    assert rows in result["error"]["message"], result
    assert listing["blocks"][1]["file"] in result["error"]["message"]


def test_arrow_tables_read_as_pandas_reads_them() -> None:
    """Text that is not ASCII (a leading BOM, combining marks, emoji), nulls in every kind of
    column, several record batches, int64 and float32: the engine's columns are pandas'."""
    import base64

    import pyarrow as pa
    import pyarrow.feather as feather

    batch = {
        "text": ["Ccl2", "\ufeffBOM", "é", None, "😀x", "", "Tumor cells", "a\u0301"],
        "ascii": ["a", "bb", None, "", "ccc", "d", "e", "f"],
        "flag": [True, False, True, False, True, True, False, False],
        "maybe": [True, None, False, True, None, False, True, True],
        "count": pa.array([1, 2, 3, 4, 5, 6, 7, 2**53 - 1], pa.int64()),
        "holes": pa.array([1, None, 3, 4, 5, None, 7, 8], pa.int32()),
        "small": pa.array([0.1, float("nan"), None, -0.0, 1e-45, 3.4e38, 2.5, 1 / 3], pa.float32()),
        "value": pa.array([0.1, float("nan"), None, float("inf"), -1e308, 5e-324, 0.0, 1.0]),
    }
    table = pa.Table.from_batches(
        [pa.RecordBatch.from_pydict(batch), pa.RecordBatch.from_pydict(batch).slice(2, 5)]
    )
    sink = pa.BufferOutputStream()
    feather.write_feather(table, sink, compression="uncompressed")
    data = base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii")
    calls = [{"fn": "frameFromIPC", "args": [data]}]
    expected = run_python(None, calls)
    assert expected[0]["ok"]["$frame"]["length"] == 13
    assert_same(calls, expected, run_engine(None, calls))


def test_dictionary_encoded_text_reads_as_the_same_text() -> None:
    """The export writes names dictionary-encoded (the engine decodes each dictionary once):
    the engine reads them as the same text as the plain column, nulls and non-ASCII text too,
    over several record batches."""
    import base64

    import pyarrow as pa
    import pyarrow.feather as feather

    names = ["Tumor cells", None, "é", "Tumor cells", "", "😀x", "B cells", "é", "a\u0301"]
    batch = pa.RecordBatch.from_pydict(
        {"plain": pa.array(names), "coded": pa.array(names).dictionary_encode()}
    )
    table = pa.Table.from_batches([batch, batch.slice(1, 6)])
    sink = pa.BufferOutputStream()
    feather.write_feather(table, sink, compression="uncompressed")
    data = base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii")
    [answer] = run_engine(None, [{"fn": "frameFromIPC", "args": [data]}])
    frame = answer["ok"]["$frame"]
    assert frame["columns"]["coded"] == frame["columns"]["plain"] == names + names[1:7]
    assert frame["dtypes"]["coded"] == frame["dtypes"]["plain"] == "object"

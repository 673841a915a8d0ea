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

from ctsite.store import Store
from tests.engine.conftest import Site
from tests.support.engine import Call, EngineOpenError, assert_same, run_engine, run_python

PROPERTIES = (
    "thresholds", "cell_types", "cell_type_colors", "conditions", "version", "fingerprint",
    "identity", "figure_defaults", "genes", "lr_gene_count", "tested_lr_gene_count",
    "effects_t_max",
)  # fmt: skip
BIG = 1000  # rows in a circos table above which only a sample of thresholds and rows is asked


def call(method: str, *args: Any) -> Call:
    return {"fn": "store", "method": method, "args": list(args)}


def name_calls(store: Store) -> list[Call]:
    """Properties and the name lookups (conditions, thresholds, cell types, genes)."""
    calls: list[Call] = [{"fn": "store", "method": m} for m in PROPERTIES]
    calls += [call("default_condition", False), call("default_condition", True)]
    conditions = [c.name for c in store.conditions] + [c.id for c in store.conditions]
    for name in [*conditions, "nope", "C1", " c1", "", 'it\'s "quoted" \\ é']:
        calls.append(call("condition", name))
    calls += [call("fdr", t) for t in store.thresholds] + [call("fdr", 0.3), call("fdr", 0.051)]
    for text in ["0.05", "0.0500000000001", " 0.1 ", "1e-2", "0.26", "abc", "nan", "", "0,05"]:
        calls.append(call("fdr", text))
    calls += [call("cell_type", c) for c in [*store.cell_types, "Nope", "tumor cells", ""]]
    genes = store.genes[:40] + store.genes[40::17]
    for gene in genes:
        calls += [call("gene", gene), call("gene", gene.lower()), call("gene", gene.upper())]
    calls += [call("gene", g) for g in ["", "nope", "CCL2 ", "Ccl2,Apoe", "ÄÖ'\"\\"]]
    return calls


def table_calls(store: Store) -> list[Call]:
    """The circos and pairwise tables, expression and the ligand–receptor list."""
    big = len(store.circos_table(store.conditions[0].name, store.thresholds[0])) > BIG
    thresholds = [store.thresholds[i] for i in (0, 4, -1)] if big else store.thresholds
    types = store.cell_types
    subsets: list[list[str] | None] = [None, types[:2], types[:1], [types[-1], *types[:2]]]
    calls: list[Call] = []
    for cond in store.conditions:
        calls += [call("circos_table", cond.name, t) for t in thresholds]
        calls.append(call("circos_table", cond.id, "0.05"))
        for t in thresholds[:: 6 if not big else 1]:
            calls += [call("pairwise_table", cond.name, t, s) for s in subsets]
        calls.append(call("pairwise_table", cond.name, store.thresholds[0], ["Nope"]))
    calls.append(call("circos_table", "nope", 0.05))
    calls.append(call("circos_table", store.conditions[0].name, 0.5))
    genes = [*store.genes[:: max(1, len(store.genes) // 60)], "nope"]
    calls += [call("expression", c, g) for c in [*types, "Nope"] for g in genes]
    calls.append(call("lr_pairs"))
    for gene in [*store.genes, "nope"]:
        calls += [call("receptors_of", gene), call("ligands_of", gene)]
    return calls


def effects_calls(store: Store, rng: random.Random) -> list[Call]:
    """Rows, targets and ligand effects (all rows of a small store, a sample of a big one)."""
    calls: list[Call] = []
    for cond in store.conditions:
        table = store.circos_table(cond.name, store.thresholds[0])
        keys = list(zip(table["cell_type"], table["target"], strict=True))
        sample = keys if len(keys) <= BIG else rng.sample(keys, 300)
        calls += [call("targets", cond.name, c) for c in [*store.cell_types, "Nope"]]
        for ct, target in sample[:50]:
            calls += [
                call("has_row", cond.name, ct, target),
                call("effects_row", cond.id, ct, target),
            ]
        calls += [
            call("has_row", cond.name, "Nope", "x"),
            call("effects_row", cond.name, "Nope", "x"),
        ]
        calls.append(call("effects_row", cond.name, store.cell_types[0], "no-such-target"))
        if cond.kind != "single":
            continue
        calls += [call("ligand_effects", cond.name, ct, target) for ct, target in sample]
        genes = store.condition_genes(cond.name)
        calls.append(call("condition_genes", cond.id))
        index = [0, len(genes) - 1, len(genes) // 2, 0]
        values = {
            "log2FC": [0.5, -1.25, 0.0, 2.0],
            "fdr": [0.01, 0.2, 1.0, 0.0],
            "i1.fdr": [0.1] * 4,
        }
        for ct in store.cell_types[:3]:
            calls.append(call("effects_frame", cond.name, ct, index, values))
    return calls


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
        (lambda index: index | {"index_version": 2}, "schema-unsupported"),
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

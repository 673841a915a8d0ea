"""The reader over a compiled store: ligand-effect rows, name checks, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.compile.build import compile_store
from ctsite.compile.dataset import parse_data_spec
from ctsite.config import load_settings
from ctsite.errors import NotFoundError, StoreError
from ctsite.store import Store


def compile_project(root: Path, **kwargs) -> Store:
    s = load_settings(root=root, environ={})
    result = compile_store(parse_data_spec(s.data, s.root), s.compiled_path, **kwargs)
    assert result.status == "built"
    return Store.open(s.compiled_path)


def test_combined_condition_has_no_ligand_effects(small_dataset):
    store = compile_project(small_dataset(), jobs=1)
    with pytest.raises(StoreError):
        store.ligand_effects("a AND b", "M", "R1")


def test_ligand_effects_row(small_dataset):
    store = compile_project(small_dataset(), jobs=2)
    assert store.effects_t_max == 0.25
    # Stored: ligand/receptor genes with i1.fdr < 0.25 and fdr < 0.25, in gene order.
    e = store.ligand_effects("a", "M", "R1").set_index("gene")
    assert list(e.index) == ["L1", "R1"]  # B: i1.fdr 0.9; g0, g1, g5: not ligand/receptor
    assert e.loc["L1", "i1.fdr"] == pytest.approx(0.24)
    assert e.loc["L1", "fdr"] == pytest.approx(0.2)
    assert bool(e.loc["L1", "gene_is_ligand"]) and not bool(e.loc["L1", "gene_is_receptor"])
    assert e.loc["R1", "gene_expression"] == 1.0
    assert e.loc["R1", "gene_max_ligand_expression"] == 0.75  # L1 in T
    t = store.ligand_effects("a", "T", "L1").set_index("gene")
    assert list(t.index) == ["L1", "R1", "B"]
    assert bool(t.loc["B", "gene_is_ligand"]) and bool(t.loc["B", "gene_is_receptor"])
    assert store.ligand_effects("a", "T", "B").empty  # fdr 0.3 / 0.011 but i1.fdr 0.3
    with pytest.raises(NotFoundError):
        store.ligand_effects("a", "M", "L1")
    with pytest.raises(NotFoundError):
        store.ligand_effects("nope", "M", "R1")


def test_store_name_validation(small_dataset):
    store = compile_project(small_dataset(), jobs=1)
    for bad in ["../etc", "c1/../../x", "", "a AND", "A"]:
        if bad in ("A",):
            continue
        with pytest.raises(NotFoundError):
            store.condition(bad)
    assert store.condition("c1").name == "a"
    with pytest.raises(NotFoundError):
        store.fdr("0.255")
    with pytest.raises(NotFoundError):
        store.fdr("abc")
    assert store.fdr("0.05") == 0.05
    assert store.gene("l1") == "L1"
    with pytest.raises(NotFoundError):
        store.gene("../../passwd")


def test_mast_table_is_the_circos_tables_threshold_free_columns(small_dataset):
    """What the ligand-effects propagation reads: the circos table's receptor flags and MAST
    values (equal at every threshold) with each row's position in the effects arrays."""
    store = compile_project(small_dataset(), jobs=1)
    for cond in store.conditions:
        mast = store.mast_table(cond.name)
        assert list(mast.columns) == [
            "cell_type",
            "target",
            "row",
            "receptor",
            "MAST_log2FC",
            "MAST_fdr",
        ]
        for t in (store.thresholds[0], store.thresholds[-1]):
            circos = store.circos_table(cond.name, t)
            for column in ("cell_type", "target", "receptor", "MAST_log2FC", "MAST_fdr"):
                assert mast[column].equals(circos[column]), (cond.name, t, column)
        if cond.kind == "single":
            for ct, target, row in zip(mast["cell_type"], mast["target"], mast["row"], strict=True):
                assert store.effects_row(cond.name, ct, target)[1] == row
    with pytest.raises(NotFoundError):
        store.mast_table("nope")

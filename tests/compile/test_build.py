"""End-to-end compile on hand-built inputs: exact values, combined rules, pairs, effects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctsite.compile.build import compile_store
from ctsite.compile.dataset import parse_data_spec
from ctsite.config import load_settings
from ctsite.errors import NotFoundError
from ctsite.store import Store


def compile_project(root: Path, **kwargs) -> Store:
    s = load_settings(root=root, environ={})
    spec = parse_data_spec(s.data, s.root)
    result = compile_store(spec, s.compiled_path, **kwargs)
    assert result.status == "built"
    return Store.open(s.compiled_path)


def row(frame, cell_type, target):
    found = frame[(frame.cell_type == cell_type) & (frame.target == target)]
    assert len(found) == 1
    return found.iloc[0]


@pytest.mark.parametrize(("jobs", "block_rows"), [(1, 2), (2, 2), (2, 0)])
def test_counts_at_several_thresholds(small_dataset, jobs, block_rows):
    store = compile_project(small_dataset(), jobs=jobs, block_rows=block_rows)
    expected_sig = {  # (cell type, target) → {t: numSigI1 shown in the Circos table}
        ("T", "L1"): {0.01: 0, 0.02: 0, 0.25: 0},  # ligand, not receptor → reported 0
        ("T", "R1"): {0.01: 1, 0.05: 2, 0.06: 4, 0.25: 4},  # NaN and 0.25 never count
        ("T", "B"): {0.01: 0, 0.25: 0},
        ("M", "R1"): {0.01: 1, 0.03: 3, 0.25: 5},
        ("M", "L2"): {0.01: 0, 0.25: 0},
        ("M", "B"): {0.05: 0, 0.06: 3, 0.11: 4, 0.21: 5, 0.25: 5},
    }
    expected_deg = {
        ("T", "L1"): {0.01: 0, 0.02: 1, 0.05: 4, 0.25: 6},
        ("T", "R1"): {0.01: 0, 0.02: 1},
        ("T", "B"): {0.01: 1, 0.02: 2},
        ("M", "R1"): {0.2: 0, 0.21: 5},
        ("M", "L2"): {0.25: 0},
        ("M", "B"): {0.01: 6, 0.25: 6},
    }
    for key, by_t in expected_sig.items():
        for t, value in by_t.items():
            assert row(store.circos_table("a", t), *key)["numSigI1"] == value, (key, t)
    for key, by_t in expected_deg.items():
        for t, value in by_t.items():
            assert row(store.circos_table("a", t), *key)["numDEG"] == value, (key, t)
    meta = {c["name"]: c for c in store.manifest["conditions"]}
    assert meta["a"]["nan_fdr"] == 1 and meta["a"]["nan_fdr_i1"] == 1
    assert any("NaN" in w for w in store.manifest["warnings"])


def test_combined_condition_rules(small_dataset):
    store = compile_project(small_dataset(), jobs=1)
    combined = store.conditions[2]
    assert combined.name == "a AND b" and combined.kind == "combined" and combined.of == ("a", "b")
    c = store.circos_table("a AND b", 0.25)
    assert row(c, "T", "R1")["numSigI1"] == 0  # b has none → 0
    assert row(c, "M", "R1")["numSigI1"] == 6  # max(5, 6)
    assert row(store.circos_table("a AND b", 0.01), "M", "R1")["numSigI1"] == 6
    assert row(c, "M", "B")["numSigI1"] == 5
    assert row(store.circos_table("a AND b", 0.05), "M", "B")["numSigI1"] == 0
    assert row(c, "T", "L1")["numSigI1"] == 0  # ligand-only rule still applies
    # MAST: the larger |log2FC| wins; different signs → (0, 1).
    assert (row(c, "T", "L1")["MAST_log2FC"], row(c, "T", "L1")["MAST_fdr"]) == (0.6, 0.02)
    assert (row(c, "T", "R1")["MAST_log2FC"], row(c, "T", "R1")["MAST_fdr"]) == (0.2, 0.02)
    assert (row(c, "T", "B")["MAST_log2FC"], row(c, "T", "B")["MAST_fdr"]) == (0.0, 1.0)
    assert (row(c, "M", "R1")["MAST_log2FC"], row(c, "M", "R1")["MAST_fdr"]) == (0.3, 0.05)
    assert not row(c, "M", "B")["MAST_same_sign"] and row(c, "M", "L2")["MAST_same_sign"]
    assert row(c, "M", "L2")["MAST_fdr_all"] == pytest.approx(0.03)
    assert row(c, "T", "R1")["numSigI1_all"] == 0


def test_expression_fractions_and_pairs(small_dataset):
    store = compile_project(small_dataset(), jobs=1)
    assert store.expression("T", "L1") == 0.75
    assert store.expression("M", "L1") == 0.0
    assert store.expression("M", "R1") == 1.0
    assert store.expression("T", "R1") == 0.25
    assert store.expression("M", "B") == pytest.approx(0.2)
    pairs = store.pairwise_table("a", 0.25)
    keys = set(
        zip(
            pairs.ligand,
            pairs.cell_type_ligand,
            pairs.receptor,
            pairs.cell_type_receptor,
            strict=True,
        )
    )
    assert keys == {
        ("L1", "T", "R1", "T"), ("L1", "T", "R1", "M"),
        ("L2", "M", "B", "T"), ("L2", "M", "B", "M"),
        ("B", "T", "R1", "T"), ("B", "T", "R1", "M"), ("B", "M", "R1", "T"), ("B", "M", "R1", "M"),
    }  # fmt: skip
    r = pairs[(pairs.ligand == "L1") & (pairs.cell_type_receptor == "M")].iloc[0]
    assert (r.numSigI1, r.numDEG) == (5, 5)
    assert (r.MAST_log2FC_ligand, r.MAST_fdr_ligand) == (0.5, 0.01)
    assert (r.expression_ligand, r.expression_receptor) == (0.75, 1.0)
    only_m = store.pairwise_table("a", 0.25, ["M"])
    assert set(only_m.cell_type_ligand) == {"M"} and set(only_m.cell_type_receptor) == {"M"}
    assert len(only_m) == 2


def test_sparse_layers_give_the_same_store(small_dataset, tmp_path):
    dense = compile_project(small_dataset(), jobs=1)
    expected = dense.circos_table("a", 0.1)
    root = small_dataset(deg_a={"sparse_layers": True})
    sparse = compile_project(root, jobs=1, force=True)
    got = sparse.circos_table("a", 0.1)
    # Implicit zeros of a sparse layer are zeros, exactly like the dense zeros they replace.
    assert got.equals(expected)
    # The stored row: ligand/receptor genes with i1.fdr < 0.25 and fdr < 0.25 (L1, R1).
    assert sparse.ligand_effects("a", "M", "R1")["i1.fdr"].tolist() == pytest.approx([0.24, 0.249])


def test_manifest_contents(small_dataset):
    store = compile_project(small_dataset(), jobs=1)
    m = json.loads((store.path / "manifest.json").read_text())
    for key in ("schema_version", "ctsite_version", "inputs", "parameters", "cell_types",
                "conditions", "thresholds", "compile_key"):  # fmt: skip
        assert key in m
    assert set(m["inputs"]) == {"interactions", "expression", "deg:a", "deg:b"}
    assert m["thresholds"][0] == 0.01 and m["thresholds"][-1] == 0.25
    assert sorted(m["cell_types"]) == ["M", "T"]
    assert all(c.startswith("#") for c in m["cell_type_colors"].values())


def test_exclude_and_order_cell_types(small_dataset):
    toml = """
compiled_dir = "out"
[data]
interactions = "lr.tsv"
expression = "expr.h5ad"
exclude_cell_types = ["T"]
[[data.conditions]]
name = "a"
file = "deg_a.h5ad"
"""
    store = compile_project(small_dataset(toml=toml), jobs=1)
    assert store.cell_types == ["M"]
    assert set(store.circos_table("a", 0.25).cell_type) == {"M"}
    assert set(store.pairwise_table("a", 0.25).cell_type_ligand) == {"M"}
    with pytest.raises(NotFoundError):
        store.cell_type("T")


def test_incremental_and_force(small_dataset):
    root = small_dataset()
    s = load_settings(root=root, environ={})
    spec = parse_data_spec(s.data, s.root)
    first = compile_store(spec, s.compiled_path, jobs=1)
    assert first.status == "built"
    steps: list[str] = []  # every step a compile takes reports progress first
    again = compile_store(spec, s.compiled_path, jobs=1, progress=lambda key, *_: steps.append(key))
    # up to date: no step run (nothing read, validated or written), the same version current
    assert again.status == "up-to-date" and steps == []
    assert again.manifest == first.manifest
    forced = compile_store(
        spec, s.compiled_path, jobs=1, force=True, progress=lambda k, *_: steps.append(k)
    )
    assert forced.status == "built" and "validate" in steps  # (so the empty list above means it)
    # A changed input → rebuilt.
    (root / "lr.tsv").write_text((root / "lr.tsv").read_text() + "L1\tR2\n")
    assert compile_store(spec, s.compiled_path, jobs=1).status == "built"
    # A changed parameter → rebuilt.
    spec2 = parse_data_spec({**s.data, "exclude_cell_types": ["T"]}, s.root)
    assert compile_store(spec2, s.compiled_path, jobs=1).status == "built"


def test_real_interactions_list(real_interactions):
    from ctsite.compile.inputs import read_interactions

    lr = read_interactions(real_interactions)
    assert len(lr) == 1885
    assert lr["ligand"].nunique() == 571 and lr["receptor"].nunique() == 571
    assert ("Ccl2", "Ccr2") in set(zip(lr.ligand, lr.receptor, strict=True))

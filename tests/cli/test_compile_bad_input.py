"""Bad input: one clear line, a non-zero exit, no traceback, and the previous store untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from ctsite.store import versions


def run_ctsite(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTSITE_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "ctsite", *args],
        cwd=root, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


@pytest.fixture
def compiled(small_dataset):
    """A project whose store was compiled once; yields (root, manifest bytes)."""
    root = small_dataset()
    result = run_ctsite(root, "compile", "-q", "-j", "1")
    assert result.returncode == 0, result.stderr
    return root, versions.manifest_path(root / "out").read_bytes()


def assert_clean_failure(root: Path, before: bytes, *needles: str) -> str:
    result = run_ctsite(root, "compile", "-q", "-j", "1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "error:" in output
    for needle in needles:
        assert needle in output, (needle, output)
    assert versions.manifest_path(root / "out").read_bytes() == before
    assert not list(root.glob(".out.tmp-*")), "temporary directory left behind"
    assert not list(root.glob("out/versions/.tmp-*")), "temporary version left behind"
    return output


def test_missing_file(compiled):
    root, before = compiled
    (root / "deg_b.h5ad").unlink()
    assert_clean_failure(root, before, "not found", "deg_b.h5ad")


def test_not_hdf5(compiled):
    root, before = compiled
    (root / "deg_a.h5ad").write_text("cell type,target\nT,L1\n")
    assert_clean_failure(root, before, "not an HDF5/AnnData", "deg_a.h5ad")


def test_truncated_file(compiled):
    root, before = compiled
    data = (root / "deg_a.h5ad").read_bytes()
    (root / "deg_a.h5ad").write_bytes(data[: len(data) // 2])
    assert_clean_failure(root, before, "deg_a.h5ad", "truncated")


def test_missing_obs_column_lists_what_is_there(small_dataset):
    root = small_dataset(deg_a={"drop_obs": ("DA_score",)})
    out = run_ctsite(root, "compile", "-q", "-j", "1")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "'DA_score'" in out.stderr and "obs has:" in out.stderr and "cell_type_dc1" in out.stderr


def test_missing_layer_lists_layers(compiled):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "a") as f:
        del f["layers/fdr.i1"]
    assert_clean_failure(root, before, "fdr.i1", "layers present:", "pval")


def test_layer_shape_mismatch(compiled):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "a") as f:
        del f["layers/fdr"]
        f["layers"].create_dataset("fdr", data=np.zeros((6, 4)))
    assert_clean_failure(root, before, "layer fdr has shape 6×4", "6×6")


def test_targets_absent_from_interactions(compiled):
    root, before = compiled
    (root / "lr.tsv").write_text("ligand\treceptor\nL1\tR1\n")
    assert_clean_failure(root, before, "not in the ligand–receptor list", "B")


def test_cell_types_differ_between_files(compiled):
    root, before = compiled
    import anndata as ad

    adata = ad.read_h5ad(root / "expr.h5ad")
    adata.obs["Cell Type"] = ["Tumour"] * 4 + ["M"] * 5
    adata.write_h5ad(root / "expr.h5ad")
    assert_clean_failure(root, before, "'T'", "not found in the expression file")


def test_nan_fdr_is_counted_and_reported(small_dataset):
    root = small_dataset()
    out = run_ctsite(root, "compile", "-q", "-j", "1")
    assert out.returncode == 0, out.stderr
    assert "1 NaN values in layer fdr.i1" in out.stderr
    assert "treated as not significant" in out.stderr


def test_empty_dataset(compiled, deg_writer):
    root, before = compiled
    genes = ["g0", "g1"]
    empty = np.zeros((0, 2))
    deg_writer(root / "deg_a.h5ad", [], genes, fdr=empty, i1=empty, comparison="A")
    assert_clean_failure(root, before, "empty dataset", "0 rows")


def test_duplicate_rows(compiled):
    root, before = compiled
    import anndata as ad

    adata = ad.read_h5ad(root / "deg_a.h5ad")
    obs = adata.obs.copy()
    obs["target"] = obs["target"].astype(str)
    obs.iloc[1, obs.columns.get_loc("target")] = "L1"
    adata.obs = obs
    adata.write_h5ad(root / "deg_a.h5ad")
    assert_clean_failure(root, before, "share a (cell type, target)", "T/L1")


def test_tsv_without_header(compiled):
    root, before = compiled
    (root / "lr.tsv").write_text("L1\tR1\nL2\tR2\n")
    assert_clean_failure(root, before, "header", "ligand<TAB>receptor")


def test_unknown_config_key(compiled):
    root, before = compiled
    (root / "ctsite.toml").write_text('bogus_key = 1\ncompiled_dir = "out"\n')
    assert_clean_failure(root, before, "unknown setting(s): bogus_key")


def test_no_data_section(tmp_path):
    out = run_ctsite(tmp_path, "compile", "-q")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "no ligand–receptor list configured" in out.stderr


def _replace_layer(path: Path, name: str, data: np.ndarray) -> None:
    with h5py.File(path, "a") as f:
        del f[f"layers/{name}"]
        f["layers"].create_dataset(name, data=data)


@pytest.mark.parametrize(
    ("layer", "value", "needles"),
    [
        ("fdr", -5.0, ("layer fdr", "outside [0, 1]", "-5.0")),
        ("fdr.i1", -np.inf, ("layer fdr.i1", "outside [0, 1]", "-inf")),
        ("fdr", 1.5, ("layer fdr", "outside [0, 1]", "row 2")),
        ("log2FC", np.inf, ("layer log2FC", "infinite", "row 2")),
        ("log2FC", -np.inf, ("layer log2FC", "infinite")),
    ],
)
def test_out_of_range_layer_values_are_errors(compiled, layer, value, needles):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "r") as f:
        data = np.array(f[f"layers/{layer}"])
    data[2, 3] = value
    _replace_layer(root / "deg_a.h5ad", layer, data)
    assert_clean_failure(root, before, "deg_a.h5ad", *needles)


@pytest.mark.parametrize(
    ("kind", "needle"),
    [("complex", "complex values"), ("bool", "boolean values"), ("str", "string values")],
)
def test_layers_of_non_real_values_are_errors(compiled, kind, needle):
    root, before = compiled
    with h5py.File(root / "deg_a.h5ad", "r") as f:
        data = np.array(f["layers/fdr"])
    converted = {
        "complex": data.astype(np.complex128),
        "bool": data < 0.1,
        "str": data.astype("S8"),
    }[kind]
    _replace_layer(root / "deg_a.h5ad", "fdr", converted)
    assert_clean_failure(root, before, "layer fdr holds", needle)


def _set_obs(path: Path, column: str, values: list) -> None:
    import anndata as ad

    adata = ad.read_h5ad(path)
    obs = adata.obs.copy()
    obs[column] = values
    adata.obs = obs
    adata.write_h5ad(path)


def test_text_in_a_mast_column_is_an_error(compiled):
    root, before = compiled
    _set_obs(root / "deg_a.h5ad", "MAST_log2FC_A", ["0.5", "up", "-0.3", "0.1", "0.4", "0.2"])
    assert_clean_failure(root, before, "MAST_log2FC_A", "not numbers", "'up'")


def test_mast_fdr_outside_unit_interval_is_an_error(compiled):
    root, before = compiled
    _set_obs(root / "deg_b.h5ad", "MAST_fdr_A", [0.02, 0.01, 7.0, 0.05, 0.03, 0.04])
    assert_clean_failure(root, before, "MAST_fdr_A", "outside [0, 1]")


def test_duplicate_gene_names_are_an_error(compiled):
    root, before = compiled
    import anndata as ad

    adata = ad.read_h5ad(root / "deg_a.h5ad")
    adata.var_names = ["g0", "g1", "L1", "R1", "g1", "g5"]
    adata.write_h5ad(root / "deg_a.h5ad")
    assert_clean_failure(root, before, "duplicate gene names", "g1")


def test_two_conditions_with_one_name_are_an_error(compiled):
    root, before = compiled
    toml = (root / "ctsite.toml").read_text().replace('name = "b"', 'name = "a"')
    toml = toml.replace('of = ["a", "b"]', 'of = ["a", "c"]')
    (root / "ctsite.toml").write_text(toml)
    assert_clean_failure(root, before, "condition name 'a' is used twice")


def test_worker_errors_keep_their_hint(compiled):
    """An error raised in a compile worker process reaches the user with its hint."""
    root, _ = compiled
    with h5py.File(root / "deg_a.h5ad", "r") as f:
        data = np.array(f["layers/fdr.i1"])
    data[0, 0] = 2.0
    _replace_layer(root / "deg_a.h5ad", "fdr.i1", data)
    result = run_ctsite(root, "compile", "-q", "-j", "2")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "hint:" in result.stderr and "FDRs must lie in [0, 1]" in result.stderr

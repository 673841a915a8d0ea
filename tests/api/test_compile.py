"""Compiling through the API: in-memory AnnData equals the same data on disk; bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pyarrow.feather as feather
import pytest

import ctsite.api as ct
from ctsite.compile.demo import COMBINED, CONDITIONS
from ctsite.errors import ConfigError, CtsiteError, InputError
from ctsite.store.format import IDENTITY
from ctsite.store.versions import list_versions, manifest_path, version_path

LABELS = {
    CONDITIONS[0]: "CIN-dependent interactions",
    CONDITIONS[1]: "STING-dependent interactions",
    COMBINED: "CIN & STING-dependent interactions",
}
ORDER = ["Macrophages/mMDSC", "Tumor cells", "Endothelial cells", "T cells", "PMN/gMDSC",
         "B cells", "pDC", "cDC", "NK cells"]  # fmt: skip
VOLATILE = {"created", "compile_key", "inputs", "compile_seconds", "version"}


def store_contents(store: Path) -> dict[str, object]:
    """Every file of a store's current version, loaded: tables, matrices and the manifest minus
    run details (the version id, times, input paths)."""
    root = version_path(store) or store
    contents: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".feather":
            contents[rel] = feather.read_feather(path)
        elif path.suffix == ".npy":
            contents[rel] = np.load(path)
        elif path.name == "manifest.json":
            manifest = json.loads(path.read_text())
            # the study's identity comes from each project's [site], not from the inputs
            manifest.get("files", {}).pop(IDENTITY, None)
            contents[rel] = {k: v for k, v in manifest.items() if k not in VOLATILE}
        elif path.is_file():
            contents[rel] = path.read_bytes()
    return contents


def assert_same_store(a: Path, b: Path) -> None:
    left, right = store_contents(a), store_contents(b)
    assert sorted(left) == sorted(right)
    for key, value in left.items():
        other = right[key]
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, other, check_exact=True)
        elif isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and np.array_equal(value, other, equal_nan=True), key
        else:
            assert value == other, key


def test_in_memory_equals_on_disk(demo_dir, tmp_path):
    on_disk = ct.compile_config(demo_dir / "ctsite.toml", out=tmp_path / "disk", jobs=1)
    # the demo's [site] travels with its store; a project without a ctsite.toml has the defaults
    assert on_disk.identity is not None and on_disk.identity.demo
    assert on_disk.identity.title == "ContactTracing demo (synthetic data)"
    in_memory = ct.compile_results(
        tmp_path / "memory",
        interactions=pd.read_csv(demo_dir / "interactions.tsv", sep="\t"),
        expression=ad.read_h5ad(demo_dir / "expression.h5ad"),
        conditions={c: ad.read_h5ad(demo_dir / f"deg_{c}.h5ad") for c in CONDITIONS},
        combined=[COMBINED],
        labels=LABELS,
        cell_type_order=ORDER,
        jobs=1,
    )
    assert in_memory.conditions == on_disk.conditions
    assert_same_store(on_disk.path, in_memory.path)
    # Nothing of the temporary inputs is left beside the store.
    assert not list(tmp_path.glob(".memory.inputs-*"))
    # The same as the command line's store of the same inputs (built by the session fixture).
    assert_same_store(demo_dir / "compiled", on_disk.path)


def test_paths_and_backed_anndata_compile_the_files_themselves(demo_dir, tmp_path):
    backed = ad.read_h5ad(demo_dir / f"deg_{CONDITIONS[0]}.h5ad", backed="r")
    try:
        store = ct.compile_results(
            tmp_path / "store",
            interactions=demo_dir / "interactions.tsv",
            expression=str(demo_dir / "expression.h5ad"),
            conditions={
                CONDITIONS[0]: backed,
                CONDITIONS[1]: demo_dir / f"deg_{CONDITIONS[1]}.h5ad",
            },
            combined=[CONDITIONS],
            labels=LABELS,
            cell_type_order=ORDER,
            jobs=1,
        )
    finally:
        backed.file.close()
    inputs = json.loads(manifest_path(store.path).read_text())["inputs"]
    assert {Path(fp["path"]).parent for fp in inputs.values()} == {demo_dir.resolve()}
    assert_same_store(demo_dir / "compiled", store.path)
    # Unchanged files: the second call has nothing to do.
    created = json.loads(manifest_path(store.path).read_text())["created"]
    again = ct.compile_results(
        tmp_path / "store",
        interactions=demo_dir / "interactions.tsv",
        expression=demo_dir / "expression.h5ad",
        conditions={c: demo_dir / f"deg_{c}.h5ad" for c in CONDITIONS},
        combined=[CONDITIONS],
        labels=LABELS,
        cell_type_order=ORDER,
        jobs=1,
    )
    assert json.loads(manifest_path(again.path).read_text())["created"] == created


def test_several_mast_pairs_need_columns(demo_dir, tmp_path):
    deg = ad.read_h5ad(demo_dir / f"deg_{CONDITIONS[1]}.h5ad")
    deg.obs["MAST_log2FC_highCIN_vs_noSTING"] = deg.obs["MAST_log2FC_highCIN_vs_lowCIN"] * 2
    deg.obs["MAST_fdr_highCIN_vs_noSTING"] = deg.obs["MAST_fdr_highCIN_vs_lowCIN"]
    kwargs = dict(
        interactions=demo_dir / "interactions.tsv",
        expression=demo_dir / "expression.h5ad",
        conditions={"sting": deg},
        jobs=1,
    )
    with pytest.raises(InputError) as info:
        ct.compile_results(tmp_path / "a", **kwargs)
    assert "several obs column(s) MAST_log2FC_*" in info.value.message
    store = ct.compile_results(
        tmp_path / "b",
        mast_columns={"sting": ("MAST_log2FC_highCIN_vs_noSTING", "MAST_fdr_highCIN_vs_noSTING")},
        **kwargs,
    )
    manifest = json.loads(manifest_path(store.path).read_text())
    assert manifest["conditions"][0]["mast_columns"] == [
        "MAST_log2FC_highCIN_vs_noSTING",
        "MAST_fdr_highCIN_vs_noSTING",
    ]


def test_bad_inputs_are_ctsite_errors(demo_dir, tmp_path):
    good = dict(
        interactions=demo_dir / "interactions.tsv",
        expression=demo_dir / "expression.h5ad",
        conditions={"a": demo_dir / f"deg_{CONDITIONS[0]}.h5ad"},
        jobs=1,
    )
    cases = [
        ({"interactions": pd.DataFrame({"from": ["A"], "to": ["B"]})}, ConfigError, "'ligand'"),
        ({"interactions": 42}, ConfigError, "expected a path or a DataFrame"),
        ({"expression": [1, 2]}, ConfigError, "expected a path or an anndata.AnnData"),
        ({"conditions": {}}, ConfigError, "no conditions configured"),
        ({"combined": [("a", "b")]}, ConfigError, "unknown condition(s): b"),
        ({"expression": tmp_path / "missing.h5ad"}, InputError, "not found"),
    ]
    for change, kind, message in cases:
        with pytest.raises(kind) as info:
            ct.compile_results(tmp_path / "out", **{**good, **change})
        assert message in str(info.value), change
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.inputs-*"))


def test_compile_config_finds_problems_like_the_cli(demo_dir, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(demo_dir, project, ignore=shutil.ignore_patterns("compiled"))
    (project / "expression.h5ad").unlink()
    with pytest.raises(CtsiteError) as info:
        ct.compile_config(project / "ctsite.toml")
    assert "not found" in info.value.message and "expression.h5ad" in info.value.message


def test_compile_warnings_are_python_warnings_at_the_caller(demo_dir, tmp_path):
    lr = pd.read_csv(demo_dir / "interactions.tsv", sep="\t")
    lr = pd.concat([lr, pd.DataFrame({"ligand": ["NotAGene1"], "receptor": ["NotAGene2"]})])
    with pytest.warns(UserWarning, match=r"ligand/receptor genes are not in the expression") as rec:
        ct.compile_results(
            tmp_path / "store",
            interactions=lr,
            expression=demo_dir / "expression.h5ad",
            conditions={c: demo_dir / f"deg_{c}.h5ad" for c in CONDITIONS},
            jobs=1,
        )
    assert [w.filename for w in rec] == [__file__]  # the line that called the API


def test_compile_config_keeps_the_configured_versions_like_the_cli(demo_dir, tmp_path):
    """[compile] keep_versions of ctsite.toml holds for the API as for `ctsite compile`."""
    project = tmp_path / "project"
    shutil.copytree(demo_dir, project, ignore=shutil.ignore_patterns("compiled"))
    config = project / "ctsite.toml"
    config.write_text(config.read_text() + "\n[compile]\nkeep_versions = 3\n")
    for _ in range(4):
        ct.compile_config(config, jobs=1, force=True)
    assert len(list_versions(project / "compiled")) == 3

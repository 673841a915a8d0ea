"""Inputs given as Python objects staged as the [data] table (`ctsite.compile.staging`), as
`ctsite.api.compile_results` uses it: objects written beside the store and removed afterwards,
paths and backed AnnData kept as they are, the options carried into the table."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from ctsite.compile.staging import staged_data
from ctsite.errors import ConfigError


def small_anndata() -> ad.AnnData:
    return ad.AnnData(
        X=np.ones((2, 3), dtype=np.float32),
        obs=pd.DataFrame({"Cell Type": ["A", "B"]}, index=["c1", "c2"]),
        var=pd.DataFrame(index=["g1", "g2", "g3"]),
    )


def test_objects_are_staged_beside_the_store_and_removed(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "store"
    lr = pd.DataFrame({"ligand": ["L"], "receptor": ["R"], "extra": [1]})
    with staged_data(
        dest,
        interactions=lr,
        expression=small_anndata(),
        conditions={"x": small_anndata(), "y": tmp_path / "y.h5ad"},
        combined=["x AND y"],
        labels={"x": "X label", "x AND y": "both"},
        mast_columns={"y": ("MAST_log2FC_a", "MAST_fdr_a")},
        cell_type_order=["B", "A"],
        expression_layer="counts",
    ) as table:
        folder = Path(str(table["interactions"])).parent
        assert folder.parent == dest.parent and folder.name.startswith(".store.inputs-")
        assert pd.read_csv(table["interactions"], sep="\t").to_dict("list") == {
            "ligand": ["L"],
            "receptor": ["R"],
        }
        assert ad.read_h5ad(str(table["expression"])).obs["Cell Type"].tolist() == ["A", "B"]
        assert table["conditions"] == [
            {"name": "x", "file": str(folder / "deg-1.h5ad"), "label": "X label"},
            {
                "name": "y",
                "file": str((tmp_path / "y.h5ad").resolve()),
                "log2fc_column": "MAST_log2FC_a",
                "fdr_column": "MAST_fdr_a",
            },
        ]
        assert table["combined"] == [{"of": ["x", "y"], "label": "both"}]
        assert (table["cell_type_order"], table["expression_layer"]) == (["B", "A"], "counts")
    assert not folder.exists()
    assert [p.name for p in dest.parent.iterdir()] == []  # nothing left, no store made


def test_paths_and_backed_anndata_stage_nothing(tmp_path: Path) -> None:
    small_anndata().write_h5ad(tmp_path / "deg.h5ad")
    backed = ad.read_h5ad(tmp_path / "deg.h5ad", backed="r")
    try:
        with staged_data(
            tmp_path / "store",
            interactions=str(tmp_path / "lr.tsv"),
            expression=tmp_path / "expr.h5ad",
            conditions={"x": backed},
            combined=[("x", "x")],
        ) as table:
            assert table["interactions"] == str(tmp_path / "lr.tsv")
            assert table["conditions"] == [{"name": "x", "file": str(tmp_path / "deg.h5ad")}]
            assert table["combined"] == [{"of": ["x", "x"]}]
            assert "expression_layer" not in table
    finally:
        backed.file.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deg.h5ad"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"interactions": pd.DataFrame({"from": ["A"]})}, "needs columns 'ligand' and 'receptor'"),
        ({"interactions": 42}, "interactions: expected a path or a DataFrame, got int"),
        ({"expression": [1]}, "expression: expected a path or an anndata.AnnData, got list"),
        ({"conditions": {"x": None}}, "deg-1: expected a path or an anndata.AnnData, got NoneType"),
    ],
)
def test_what_cannot_be_staged_is_a_config_error(tmp_path: Path, change, message) -> None:
    good = {"interactions": "lr.tsv", "expression": small_anndata(), "conditions": {}}
    with pytest.raises(ConfigError) as info, staged_data(tmp_path / "store", **{**good, **change}):
        pass
    assert message in info.value.message
    assert list(tmp_path.iterdir()) == []  # what was staged before the error is gone

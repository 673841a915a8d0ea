"""The API's figures and rows equal what the website's API serves for the same parameters."""

from __future__ import annotations

import io
import json

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import ctsite.api as ct
from ctsite.errors import CtsiteError, StoreError
from ctsite.figures.params import format_value
from tests.support.demo_truth import num_sig_i1

CASES = [
    ("circos", {}),
    (
        "circos",
        {
            "condition": "highCIN_vs_lowCIN",
            "fdr_i": 0.1,
            "min_numsigi1": 5,
            "genes": ["Ccl2", "ccr2"],
        },
    ),
    ("circos", {"condition": "c3", "fdr_l": 0.25, "min_log2fc": 0.05}),
    ("pairwise", {}),
    (
        "pairwise",
        {
            "cell_type1": "Tumor cells",
            "cell_type2": "T cells",
            "cell_type3": "Macrophages/mMDSC",
            "bidirectional": True,
            "fdr_i": 0.2,
            "min_expression": 0.1,
        },
    ),
    ("effects", {}),
    ("effects", {"condition": "highCIN_vs_noSTING", "seeds": "Ccl2, Apoe", "steps": 3}),
]
METHODS = {"circos": "circos", "pairwise": "pairwise", "effects": "ligand_effects"}


def as_json(value):
    return json.loads(json.dumps(value, default=list))


def web_query(params: dict) -> dict[str, str]:
    return {k: format_value(v) for k, v in params.items()}


@pytest.mark.parametrize(("name", "params"), CASES)
def test_figure_equals_the_web_api(api_store, client, name, params):
    fig = getattr(api_store, METHODS[name])(**params)
    assert isinstance(fig, go.Figure)
    response = client.get(f"/api/figure/{name}", query_string=web_query(params))
    assert response.status_code == 200, response.json
    doc = response.json
    assert json.loads(pio.to_json(fig)) == doc["figure"]
    view = api_store.view(name, **params)
    assert as_json(view.params) == doc["params"]
    assert view.message == doc["message"]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_rows_equal_the_web_csv(api_store, client, name, params):
    table = getattr(api_store, f"{METHODS[name]}_data")(**params)
    assert isinstance(table, pd.DataFrame)
    response = client.get(f"/api/data/{name}.csv", query_string=web_query(params))
    assert response.status_code == 200
    text = response.get_data(as_text=True)  # the rows after the `#` provenance lines
    rows = "".join(line for line in text.splitlines(True) if not line.startswith("# "))
    assert table.to_csv(index=False, lineterminator="\n") == rows
    assert len(pd.read_csv(io.StringIO(response.get_data(as_text=True)), comment="#")) == len(table)


def test_circos_rows_count_what_the_inputs_hold(api_store, demo_dir):
    """The rows' numSigI1 against the input h5ad itself (not the figure code both sides share)."""
    nodes = api_store.circos_data(condition="highCIN_vs_lowCIN", fdr_i=0.1).query("kind == 'node'")
    got = dict(zip(zip(nodes["cell_type"], nodes["target"], strict=True), nodes["numSigI1"]))
    expected = num_sig_i1(demo_dir, "highCIN_vs_lowCIN", 0.1)
    assert got and any(got.values())
    assert got == {key: expected[key] for key in got}


def test_figures_have_no_template_like_the_site(api_store):
    fig = api_store.pairwise()
    assert "template" not in json.loads(pio.to_json(fig))["layout"]


def test_defaults_and_names(api_store):
    assert api_store.conditions[-1] == "highCIN_vs_lowCIN AND highCIN_vs_noSTING"
    assert "Tumor cells" in api_store.cell_types
    assert api_store.thresholds[0] == 0.01 and api_store.thresholds[-1] == 0.25
    params = api_store.parameters("circos")
    assert params["condition"] == "highCIN_vs_lowCIN AND highCIN_vs_noSTING"
    assert api_store.parameters("circos", fdr_i=None) == params  # None is the default
    assert api_store.parameters("effects", seeds=["ccl2"])["seeds"] == ("Ccl2",)
    assert "fdr_i" in ct.CompiledStore.circos.__doc__


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.circos(fdr=0.1), "unknown parameter(s) fdr"),
        (
            lambda s: s.circos(fdr_i=0.3),
            "Interaction-effect FDR cutoff (fdr_i) must be from 0.01 to 0.25",
        ),
        (lambda s: s.circos(condition="nope"), "unknown condition 'nope'"),
        (lambda s: s.pairwise(cell_type1="Neurons"), "unknown cell type 'Neurons'"),
        (
            lambda s: s.pairwise(min_expression=2),
            "Minimum expression fraction (min_expression) must be from 0 to 1",
        ),
        (
            lambda s: s.ligand_effects(condition="highCIN_vs_lowCIN AND highCIN_vs_noSTING"),
            "needs a single condition",
        ),
        (lambda s: s.ligand_effects(seeds=["NotAGene"]), "unknown gene(s): NotAGene"),
        (lambda s: s.view("heatmap"), "unknown figure 'heatmap'"),
    ],
)
def test_bad_parameters_are_ctsite_errors(api_store, call, message):
    with pytest.raises(CtsiteError) as info:
        call(api_store)
    assert message in str(info.value)


def test_the_same_errors_as_the_web(api_store, client):
    with pytest.raises(CtsiteError) as info:
        api_store.circos(min_numsigi1=1000)
    response = client.get("/api/figure/circos", query_string={"min_numsigi1": "1000"})
    assert response.status_code == 400
    assert response.json["error"] == info.value.message


def test_open_a_missing_store(tmp_path):
    with pytest.raises(StoreError) as info:
        ct.open_store(tmp_path / "nowhere")
    assert "no compiled store" in info.value.message and "ctsite compile" in info.value.hint

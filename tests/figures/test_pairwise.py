"""Pairwise interactions: selection by direction, exact filters, ordering, layout, demo store."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.utils
import pytest

from ctsite.figures import FIGURES, parse_params

SPEC = FIGURES["pairwise"]


def build(store, **query):
    params = parse_params(SPEC, store, {k: str(v) for k, v in query.items()})
    return params, SPEC.build(store, params)


def edges_of(result):
    t = result.table
    return list(
        zip(t["ligand"], t["cell_type_ligand"], t["receptor"], t["cell_type_receptor"], strict=True)
    )


def edge_traces(result):
    return [t for t in result.figure["data"] if "ligand" in (t.get("meta") or {})]


# ------------------------------------------------------------------ hand-made store

TINY = {"condition": "P", "cell_type1": "Alpha", "cell_type2": "Beta"}


def test_defaults_filter_out_numsigi1_below_ten(tiny_store):
    _, r = build(tiny_store, **TINY)
    assert edges_of(r) == []
    assert r.message == "No interactions — try loosening the filters"
    assert r.figure["layout"]["annotations"][0]["text"].startswith("No interactions")


def test_exact_filters(tiny_store):
    # Alpha → Beta: only R1 (numSigI1 9). L2 has |log2FC| == 0.12, L3 has MAST_fdr == 0.05.
    _, r = build(tiny_store, **TINY, min_numsigi1=9)
    assert edges_of(r) == [("L1", "Alpha", "R1", "Beta")]
    _, r = build(tiny_store, **TINY, min_numsigi1=9, min_log2fc=0.11)
    assert set(edges_of(r)) == {("L1", "Alpha", "R1", "Beta"), ("L2", "Alpha", "R1", "Beta")}
    _, r = build(tiny_store, **TINY, min_numsigi1=9, fdr_l=0.06)
    assert ("L3", "Alpha", "R1", "Beta") in edges_of(r)
    # expression: R1 in Beta is expressed in exactly 30 % of cells (≥ keeps it)
    assert tiny_store.expression("Beta", "R1") == pytest.approx(0.3)
    _, r = build(tiny_store, **TINY, min_numsigi1=9, min_expression=0.3)
    assert edges_of(r) == [("L1", "Alpha", "R1", "Beta")]
    _, r = build(tiny_store, **TINY, min_numsigi1=9, min_expression=0.31)
    assert edges_of(r) == []


def test_bidirectional_adds_the_reverse_direction(tiny_store):
    _, r = build(tiny_store, **TINY, min_numsigi1=9, bidirectional=1)
    # ordered by numDEG descending: Beta L1 → Alpha R1 (12) before Alpha L1 → Beta R1 (9)
    assert edges_of(r) == [("L1", "Beta", "R1", "Alpha"), ("L1", "Alpha", "R1", "Beta")]
    cols = {
        (t["meta"]["ligand"], t["meta"]["receptor"]): (t["x"][0] < t["x"][1])
        for t in edge_traces(r)
    }
    assert cols == {("Beta|L1", "Alpha|R1"): False, ("Alpha|L1", "Beta|R1"): True}


def test_same_cell_type_puts_ligands_left_and_receptors_right(tiny_store):
    _, r = build(tiny_store, condition="P", cell_type1="Alpha", cell_type2="Alpha")
    assert edges_of(r) == [("L1", "Alpha", "R1", "Alpha")]
    nodes = next(t for t in r.figure["data"] if t.get("name") == "genes")
    x = dict(zip(nodes["text"], nodes["x"], strict=True))
    assert x["L1"] < x["R1"]
    assert [a["text"] for a in r.figure["layout"]["annotations"]] == ["<b>Alpha</b>"] * 2


def test_third_cell_type(tiny_store):
    _, r = build(
        tiny_store,
        condition="P",
        cell_type1="Beta",
        cell_type2="Alpha",
        cell_type3="Beta",
        min_numsigi1=9,
    )
    # 1 → 2: Beta L1 → Alpha R1; 2 → 3: Alpha L1 → Beta R1
    assert set(edges_of(r)) == {("L1", "Beta", "R1", "Alpha"), ("L1", "Alpha", "R1", "Beta")}
    assert len(r.figure["layout"]["shapes"]) == 3


# ------------------------------------------------------------------ demo store


def check(result):
    text = json.dumps(result.figure, cls=plotly.utils.PlotlyJSONEncoder)
    go.Figure(json.loads(text))
    assert "NaN" not in text


@pytest.mark.parametrize(
    "condition",
    ["highCIN_vs_lowCIN", "highCIN_vs_noSTING", "highCIN_vs_lowCIN AND highCIN_vs_noSTING"],
)
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"bidirectional": "1"},
        {"cell_type3": "T cells", "bidirectional": "1", "min_numsigi1": 5},
        {"cell_type1": "Macrophages/mMDSC", "cell_type2": "Macrophages/mMDSC"},
        {"min_expression": 0.3, "min_log2fc": 0.05, "fdr_l": 0.1},
    ],
)
def test_demo_matches_the_reference(demo_store, reference, condition, query):
    params, r = build(demo_store, condition=condition, **query)
    check(r)
    expected = reference.pairwise_reference(demo_store, params)
    got = edges_of(r)
    assert sorted(got) == sorted(expected)
    numdeg = list(r.table["numDEG"])
    assert numdeg == sorted(numdeg, reverse=True)
    drawn = [(t["meta"]["ligand"], t["meta"]["receptor"]) for t in edge_traces(r)]
    assert drawn == [(f"{ctl}|{lig}", f"{ctr}|{rec}") for lig, ctl, rec, ctr in got]
    if got:
        assert r.message is None


def test_default_view_has_edges_and_encodings(demo_store):
    _, r = build(demo_store)
    edges = edge_traces(r)
    assert edges
    widths = [t["line"]["width"] for t in edges]
    assert min(widths) >= 2 and max(widths) <= 6
    nodes = next(t for t in r.figure["data"] if t.get("name") == "genes")
    assert set(nodes["marker"]["symbol"]) <= {"circle", "square", "diamond"}
    assert all(0 <= c <= 1 for c in nodes["marker"]["color"])
    assert all(
        h.startswith("Name: ") and "Type:" in h and "Expression:" in h and "logFC" in h
        for h in nodes["hovertext"]
    )
    hover = next(t for t in r.figure["data"] if t.get("name") == "edges")["hovertext"]
    assert len(hover) == len(edges)
    assert all(
        "Ligand:" in h
        and "Receptor:" in h
        and "Interactions (numSigI1)" in h
        and "Ligand logFC" in h
        for h in hover
    )
    legend = {t["name"] for t in r.figure["data"] if t.get("showlegend")}
    assert {"Ligand", "Receptor", "Ligand & receptor"} <= legend
    bands = r.figure["layout"]["shapes"]
    assert [s["x0"] < 0 < s["x1"] for s in bands][:1] == [True]
    assert list(r.table.columns[:4]) == [
        "ligand",
        "cell_type_ligand",
        "receptor",
        "cell_type_receptor",
    ]


def test_at_most_max_edges_are_drawn_and_the_message_says_so(demo_store, monkeypatch):
    from ctsite.figures import pairwise

    _, full = build(demo_store, bidirectional=1, min_numsigi1=0)
    assert len(full.table) > 5
    monkeypatch.setattr(pairwise, "MAX_EDGES", 5)
    _, r = build(demo_store, bidirectional=1, min_numsigi1=0)
    assert edges_of(r) == edges_of(full)[:5]
    assert len(edge_traces(r)) == 5
    assert r.message and f"of {len(full.table)}" in r.message

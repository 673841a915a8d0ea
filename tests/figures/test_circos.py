"""Circos: exact filter semantics on the hand-made store, the demo store for every condition,
the table equals what is drawn, highlighting, and the figure is valid Plotly JSON."""

from __future__ import annotations

import json
import math
from collections import Counter

import plotly.graph_objects as go
import plotly.utils
import pytest

from ctsite.figures import FIGURES, parse_params
from ctsite.figures.circos_draw import COLOR_BINS, DIMMED
from ctsite.figures.circos_labels import WIDTH_CLASSES
from ctsite.figures.colors import BLUE_WHITE_RED, bin_colors, bin_index

SPEC = FIGURES["circos"]


def build(store, **query):
    params = parse_params(SPEC, store, {k: str(v) for k, v in query.items()})
    return params, SPEC.build(store, params)


def nodes_of(result):
    t = result.table
    t = t[t["kind"] == "node"]
    return set(zip(t["cell_type"], t["target"], strict=True))


def chords_of(result):
    t = result.table
    t = t[t["kind"] == "chord"]
    return set(
        zip(t["ligand"], t["cell_type_ligand"], t["receptor"], t["cell_type_receptor"], strict=True)
    )


def trace(result, name):
    return next(t for t in result.figure["data"] if t.get("name") == name)


# ------------------------------------------------------------------ hand-made store


def test_defaults_on_the_tiny_store(tiny_store):
    _, r = build(tiny_store, condition="P")
    # Alpha L3 (MAST_fdr == t_l), Beta L4 (partner without dc1), Beta R2 (no dc1) are not nodes
    assert nodes_of(r) == {
        ("Alpha", "R1"),
        ("Beta", "R1"),
        ("Alpha", "L1"),
        ("Alpha", "L2"),
        ("Beta", "L1"),
    }
    # numSigI1 10 ≥ 10 kept, 9 dropped; |log2FC| 0.12 is not > 0.12
    assert chords_of(r) == {("L1", "Alpha", "R1", "Alpha"), ("L1", "Beta", "R1", "Alpha")}
    assert r.message is None


@pytest.mark.parametrize(
    ("query", "added", "removed"),
    [
        ({"min_numsigi1": 9}, {("L1", "Alpha", "R1", "Beta"), ("L1", "Beta", "R1", "Beta")}, set()),
        (
            {"min_numsigi1": 11},
            set(),
            {("L1", "Alpha", "R1", "Alpha"), ("L1", "Beta", "R1", "Alpha")},
        ),
        ({"min_log2fc": 0.11}, {("L2", "Alpha", "R1", "Alpha")}, set()),
        ({"min_log2fc": 0.4}, set(), {("L1", "Beta", "R1", "Alpha")}),  # |−0.4| is not > 0.4
        ({"fdr_l": 0.06}, {("L3", "Alpha", "R1", "Alpha")}, set()),  # 0.05 < 0.06
        ({"min_numdeg": 12}, set(), set()),  # numDEG 12 ≥ 12
        (
            {"min_numdeg": 13},
            set(),
            {("L1", "Alpha", "R1", "Alpha"), ("L1", "Beta", "R1", "Alpha")},
        ),
        # at t_i = 0.05 only four genes of Alpha R1 count: no chord reaches 10
        ({"fdr_i": 0.05}, set(), {("L1", "Alpha", "R1", "Alpha"), ("L1", "Beta", "R1", "Alpha")}),
    ],
)
def test_each_chord_filter_is_exact(tiny_store, query, added, removed):
    _, base = build(tiny_store, condition="P")
    _, r = build(tiny_store, condition="P", **query)
    assert chords_of(r) == (chords_of(base) | added) - removed


def test_fdr_l_also_filters_the_ligand_ring(tiny_store):
    _, r = build(tiny_store, condition="P", fdr_l=0.06)
    assert ("Alpha", "L3") in nodes_of(r)
    _, r = build(tiny_store, condition="P", fdr_l=0.01)  # 0.01 is not < 0.01: no ligand survives
    assert nodes_of(r) == {("Alpha", "R1"), ("Beta", "R1"), ("Beta", "L1")}
    assert chords_of(r) == {("L1", "Beta", "R1", "Alpha")}


def test_combined_condition_uses_both_comparisons(tiny_store):
    _, r = build(tiny_store, condition="P AND Q")
    # Beta L1 changes sign in Q; Beta R1 has numSigI1 0 in Q
    assert nodes_of(r) == {("Alpha", "R1"), ("Alpha", "L1"), ("Alpha", "L2")}
    assert chords_of(r) == {("L1", "Alpha", "R1", "Alpha")}


def test_sector_order_and_target_order(tiny_store):
    _, r = build(tiny_store, condition="P")
    nodes = r.table[r.table["kind"] == "node"]
    assert list(nodes["cell_type"]) == ["Beta", "Beta", "Alpha", "Alpha", "Alpha"]
    assert list(nodes["target"]) == ["R1", "L1", "R1", "L1", "L2"]  # by cell_type_dc1
    sectors = trace(r, "sectors")  # every sector in one bar trace
    assert sectors["customdata"] == ["Beta", "Alpha"]
    widths = dict(zip(sectors["customdata"], sectors["width"], strict=True))
    assert widths["Alpha"] == pytest.approx(widths["Beta"] * 3 / 2, rel=1e-3)  # sized by targets
    names = [a["text"] for a in r.figure["layout"]["annotations"] if a["name"] == "sector name"]
    assert names == ["<b>Beta</b>", "<b>Alpha</b>"]


def shapes(result, name):
    return [s for s in result.figure["layout"]["shapes"] if s.get("name") == name]


def subpaths(shape):
    """A shape's closed subpaths as lists of paper points."""
    out = []
    for part in shape["path"].split("M")[1:]:
        assert part.endswith("Z"), part
        out.append([tuple(map(float, p.split(","))) for p in part[:-1].split("L")])
    return out


def polar_angle(layout, point):
    """The angle (degrees clockwise from the top) of a paper point around the polar centre."""
    d, w, h = layout["polar"]["domain"], layout["width"], layout["height"]
    cx, cy = (d["x"][0] + d["x"][1]) / 2 * w, (d["y"][0] + d["y"][1]) / 2 * h
    return math.degrees(math.atan2(point[0] * w - cx, point[1] * h - cy)) % 360


def test_ring_runs_cover_every_cell_once(demo_store):
    _, r = build(demo_store)
    nodes = r.table[r.table["kind"] == "node"]
    hover = trace(r, "cell_type_dc1")
    assert len(hover["theta"]) == len(nodes)  # hover for every target
    rings = shapes(r, "cell_type_dc1 ring")
    cells = [cell for shape in rings for cell in subpaths(shape)]
    assert len(cells) < len(nodes)  # neighbours in one colour step share a cell
    assert len({s["fillcolor"] for s in rings}) == len(rings)  # one shape per colour step
    # each cell runs along the outer radius from its start to its end, then back: together
    # they cover the sectors' angles once
    layout = r.figure["layout"]
    total = 0.0
    for cell in cells:
        outer = cell[: len(cell) // 2]
        start, end = polar_angle(layout, outer[0]), polar_angle(layout, outer[-1])
        total += (end - start) % 360
    sectors = trace(r, "sectors")
    assert total == pytest.approx(sum(sectors["width"]), rel=0.01)


def test_the_ring_cells_and_chords_sit_on_the_polar_plot(demo_store):
    """The shapes (paper coordinates) and the traces Plotly places in the polar plot meet: a
    ring cell's corner is on its ring's radius, a chord ends on the chord radius."""
    _, r = build(demo_store, size="phone")
    layout = r.figure["layout"]
    d, w, h = layout["polar"]["domain"], layout["width"], layout["height"]
    cx, cy = (d["x"][0] + d["x"][1]) / 2 * w, (d["y"][0] + d["y"][1]) / 2 * h
    unit = (d["x"][1] - d["x"][0]) * w / 2 / layout["polar"]["radialaxis"]["range"][1]

    def radius(point):
        return math.hypot(point[0] * w - cx, point[1] * h - cy) / unit

    cls = WIDTH_CLASSES["phone"]
    for cell in subpaths(shapes(r, "DA_score ring")[0]):
        half = len(cell) // 2
        assert all(radius(p) == pytest.approx(cls.da[1], abs=1e-3) for p in cell[:half])
        assert all(radius(p) == pytest.approx(cls.da[0], abs=1e-3) for p in cell[half:])
    for shape in shapes(r, "chords"):
        for chord in shape["path"].split("M")[1:]:
            ends = [tuple(map(float, p.split(","))) for p in chord.replace("Q", " ").split()]
            assert radius(ends[0]) == pytest.approx(cls.chord, abs=1e-3)
            assert radius(ends[-1]) == pytest.approx(cls.chord, abs=1e-3)


def test_few_traces_whatever_the_number_of_chords(demo_store):
    _, r = build(demo_store, min_numsigi1=0)
    chords = (r.table["kind"] == "chord").sum()
    assert chords > 100
    assert len(r.figure["data"]) <= 60  # sectors 2, rings 3, chords by bin, labels, legend


def test_nothing_left_gives_a_message(tiny_store):
    _, r = build(tiny_store, condition="P", fdr_i=0.01, fdr_l=0.01)
    assert r.message
    _, r = build(tiny_store, condition="P", min_numsigi1=100)
    assert r.message and "chord" in r.message.lower()
    assert chords_of(r) == set() and nodes_of(r)


# ------------------------------------------------------------------ demo store


def check_figure(result):
    text = json.dumps(result.figure, cls=plotly.utils.PlotlyJSONEncoder)
    assert "NaN" not in text
    go.Figure(json.loads(text))  # validates every trace and layout attribute
    assert not any(t["type"].endswith("gl") for t in result.figure["data"])
    return text


def drawn_chords(result):
    if result.table[result.table["kind"] == "chord"].empty:
        return []
    return [tuple(k) for k in trace(result, "chords")["customdata"]]


@pytest.mark.parametrize(
    "condition",
    ["highCIN_vs_lowCIN", "highCIN_vs_noSTING", "highCIN_vs_lowCIN AND highCIN_vs_noSTING"],
)
def test_every_condition_of_the_demo_matches_the_reference(demo_store, reference, condition):
    for query in ({}, {"min_numsigi1": 30, "fdr_i": 0.1, "min_log2fc": 0.3}, {"min_numdeg": 50}):
        params, r = build(demo_store, condition=condition, **query)
        check_figure(r)
        nodes, chords = reference.circos_reference(
            demo_store,
            condition,
            params["fdr_i"],
            params["fdr_l"],
            params["min_numsigi1"],
            params["min_numdeg"],
            params["min_log2fc"],
        )
        assert nodes_of(r) == nodes
        assert chords_of(r) == chords
        assert chords, "the demo should have chords at these settings"


def test_the_table_is_what_is_drawn(demo_store):
    _, r = build(demo_store)
    nodes = r.table[r.table["kind"] == "node"]
    chords = r.table[r.table["kind"] == "chord"]
    keys = [f"{c}|{t}" for c, t in zip(nodes["cell_type"], nodes["target"], strict=True)]
    assert trace(r, "cell_type_dc1")["customdata"] == keys
    assert trace(r, "DA_score")["customdata"] == keys
    receptor_keys = [k for k, rec in zip(keys, nodes["is_receptor"], strict=True) if rec]
    assert trace(r, "numSigI1")["customdata"] == receptor_keys
    labelled = [k for k, has in zip(keys, nodes["has_chord"], strict=True) if has]
    labels = trace(r, "labels")["customdata"]
    assert set(labels) <= set(labelled)
    assert len(labels) == len(labelled)  # at desktop width every chord end of the demo
    assert labels == [k for k in labelled if k in set(labels)]
    expected = [
        (f"{ctl}|{lig}", f"{ctr}|{rec}")
        for lig, ctl, rec, ctr in zip(
            chords["ligand"],
            chords["cell_type_ligand"],
            chords["receptor"],
            chords["cell_type_receptor"],
            strict=True,
        )
    ]
    assert drawn_chords(r) == expected
    assert set(r.tables) == {"nodes", "chords"}
    assert len(r.tables["chords"]) == len(chords)
    # chord colours come from the ligand log2FC (bins over the clipped scale): one Bézier each
    palette = bin_colors(BLUE_WHITE_RED, -0.2, 0.2, COLOR_BINS)
    drawn = Counter()
    for shape in shapes(r, "chords"):
        drawn[shape["line"]["color"]] += shape["path"].count("Q")
    assert drawn == Counter(
        palette[bin_index(v, -0.2, 0.2, COLOR_BINS)] for v in chords["MAST_log2FC_ligand"]
    )
    # every chord end is a node, with its ring cells
    assert {k for pair in expected for k in pair} <= set(keys)


def test_highlighted_genes_are_drawn_on_top_and_others_dimmed(demo_store):
    _, r = build(demo_store, genes="ccl2")
    chords = r.table[r.table["kind"] == "chord"]
    hl = chords["highlighted"].to_numpy()
    assert hl.any() and not hl.all()
    assert (chords["ligand"].eq("Ccl2") | chords["receptor"].eq("Ccl2"))[hl].all()
    lines = shapes(r, "chords")
    opacities = [t["opacity"] for t in lines]
    # dimmed chords first, highlighted ones last (on top) and opaque
    first_bright = next(i for i, o in enumerate(opacities) if o >= 0.4)
    assert all(o >= 0.4 for o in opacities[first_bright:])
    assert all(o < 0.1 for o in opacities[:first_bright])
    labels = [a for a in r.figure["layout"]["annotations"] if a["name"] == "gene label"]
    assert any(a["text"] == "<b>Ccl2</b>" and a["font"]["color"] == "#000000" for a in labels)
    assert any(a["font"]["color"] == DIMMED for a in labels)
    assert r.figure["layout"]["meta"]["highlight"] == ["Ccl2"]


def test_highlighting_a_gene_without_chords_says_so(demo_store):
    gene = next(g for g in demo_store.genes if g.startswith("Actb"))
    _, r = build(demo_store, genes=gene)
    assert r.message and "highlighted" in r.message


def test_hover_text_everywhere(demo_store):
    _, r = build(demo_store)
    for t in r.figure["data"]:
        if t.get("hoverinfo") not in ("skip", "none"):
            assert t.get("hovertext"), t.get("name")
    dc1 = trace(r, "cell_type_dc1")
    nodes = r.table[r.table["kind"] == "node"]
    assert all("Cell type:" in h and "cell_type_dc1:" in h for h in dc1["hovertext"])
    for h, has in zip(dc1["hovertext"], nodes["has_chord"], strict=True):
        assert ("Partners:" in h) == bool(has)
    assert all("numSigI1" in h and "→" in h for h in trace(r, "chords")["hovertext"])
    scales = [
        t["marker"].get("colorbar", {}).get("title", {}).get("text")
        for t in r.figure["data"]
        if t.get("marker", {}).get("showscale")
    ]
    assert scales == ["dc1", "DA score", "ligand log2FC"]


def test_at_most_max_chords_are_drawn_highlighted_first(demo_store, monkeypatch):
    from ctsite.figures import circos

    _, full = build(demo_store)
    all_chords = full.table[full.table["kind"] == "chord"]
    monkeypatch.setattr(circos, "MAX_CHORDS", 20)
    _, r = build(demo_store)
    chords = r.table[r.table["kind"] == "chord"]
    assert len(chords) == 20 and len(drawn_chords(r)) == 20
    assert r.message and f"of {len(all_chords):,}" in r.message
    # the strongest are kept, in order
    assert list(chords["numSigI1"]) == list(all_chords["numSigI1"][:20])
    assert chords["numSigI1"].min() >= all_chords["numSigI1"].iloc[20]
    # nodes stay (rings show every target); labels follow the chords drawn
    assert (r.table["kind"] == "node").sum() == (full.table["kind"] == "node").sum()
    ends = set(zip(chords["cell_type_ligand"], chords["ligand"], strict=True)) | set(
        zip(chords["cell_type_receptor"], chords["receptor"], strict=True)
    )
    nodes = r.table[r.table["kind"] == "node"]
    assert set(zip(nodes["cell_type"], nodes["target"], strict=True)) >= ends
    assert {tuple(k.split("|")) for k in trace(r, "labels")["customdata"]} == ends
    # a searched gene's chords are drawn even when they are not among the strongest
    weak = all_chords.iloc[-1]
    _, r = build(demo_store, genes=weak["ligand"])
    chords = r.table[r.table["kind"] == "chord"]
    assert chords["highlighted"].any()
    assert weak["ligand"] in set(chords["ligand"]) | set(chords["receptor"])

"""Ligand effects: the breadth-first propagation checked by hand, its stopping rules, messages,
the figure encodings and the table, on the hand-made and the demo stores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.utils
import pytest

from ctsite.figures import FIGURES, BadParameter, parse_params
from ctsite.figures.effects_bfs import FRONTIER_CAP, Node, Thresholds, propagate

SPEC = FIGURES["effects"]


def build(store, **query):
    params = parse_params(SPEC, store, {k: str(v) for k, v in query.items()})
    return params, SPEC.build(store, params)


def edges_of(result):
    t = result.table
    return [
        (s, a, b, c, d)
        for s, a, b, c, d in zip(
            t["step"],
            t["source_gene"],
            t["source_cell_type"],
            t["target_gene"],
            t["target_cell_type"],
            strict=True,
        )
    ]


def test_hand_checked_propagation(tiny_store):
    _, r = build(tiny_store, condition="P", cell_type="Alpha", seeds="l1", steps=2)
    # step 1: L1 → R1 in both cell types (R2 in Beta changes by 0.05 only);
    # step 2: Alpha R1 → L2 (ligand) and R2 (receptor whose ligands are expressed);
    #         not L3 (|log2FC| 0.1), not G01 (neither ligand nor receptor);
    #         Beta R1 → L4 (expressed in Beta).
    assert sorted(edges_of(r)) == sorted(
        [
            (1, "L1", "Alpha", "R1", "Beta"),
            (1, "L1", "Alpha", "R1", "Alpha"),
            (2, "R1", "Alpha", "L2", "Alpha"),
            (2, "R1", "Alpha", "R2", "Alpha"),
            (2, "R1", "Beta", "L4", "Beta"),
        ]
    )
    row = r.table[(r.table["target_gene"] == "R2") & (r.table["step"] == 2)].iloc[0]
    assert row["kind"] == "receptor→gene"
    assert row["log2FC"] == pytest.approx(-0.2) and row["i1.fdr"] == pytest.approx(0.01)
    assert row["target_role"] == "receptor" and row["source_role"] == "receptor"
    assert r.message is None


def test_thresholds_are_exact(tiny_store):
    # expression: L4 is expressed in 30 % of Beta cells; "above the minimum" is strict
    _, r = build(tiny_store, condition="P", cell_type="Alpha", seeds="L1", min_expression=0.29)
    assert ("R1", "Beta", "L4", "Beta") in [e[1:] for e in edges_of(r)]
    _, r = build(tiny_store, condition="P", cell_type="Alpha", seeds="L1", min_expression=0.3)
    assert ("R1", "Beta", "L4", "Beta") not in [e[1:] for e in edges_of(r)]
    # |log2FC| ≥ min: L2's induced log2FC is 0.3, the receptors' own MAST log2FC 0.3
    _, r = build(tiny_store, condition="P", cell_type="Alpha", seeds="L1", min_log2fc=0.3)
    assert ("R1", "Alpha", "L2", "Alpha") in [e[1:] for e in edges_of(r)]
    _, r = build(tiny_store, condition="P", cell_type="Alpha", seeds="L1", min_log2fc=0.31)
    assert edges_of(r) == []
    assert r.message == "No effects pass these filters — try loosening them"


def test_third_step_adds_back_edges_then_stops(tiny_store):
    params = parse_params(
        SPEC, tiny_store, {"condition": "P", "cell_type": "Alpha", "seeds": "L1", "steps": "4"}
    )
    from ctsite.figures.effects import run

    graph = run(tiny_store, params)
    step3 = sorted(
        (e["source"].gene, e["target"].gene, e["target"].cell_type)
        for e in graph.edges
        if e["step"] == 3
    )
    # L2 (Alpha) reaches R1 again in both cell types; nothing new, so propagation stops
    assert step3 == [("L2", "R1", "Alpha"), ("L2", "R1", "Beta")]
    assert max(graph.steps.values()) == 2
    assert graph.stopped and "nothing new" in graph.stopped


def test_unknown_seed_is_named(tiny_store):
    with pytest.raises(BadParameter, match="Nope"):
        parse_params(SPEC, tiny_store, {"seeds": "L1,Nope"})


def test_combined_condition_is_refused(tiny_store):
    with pytest.raises(BadParameter, match="single condition"):
        parse_params(SPEC, tiny_store, {"condition": "P AND Q"})


class FanOut:
    """A tiny in-memory source: ligand LIG → receptor REC in cell type A → N downstream ligands."""

    def __init__(self, n: int, i1: float = 0.001):
        self.cell_types = ["A"]
        self.n = n
        self.i1 = i1
        self.down = [f"D{i}" for i in range(n)]

    def mast_table(self, condition):
        return pd.DataFrame(
            {
                "cell_type": ["A"],
                "target": ["REC"],
                "receptor": [True],
                "MAST_log2FC": [0.5],
                "MAST_fdr": [0.001],
            }
        )

    def has_row(self, condition, cell_type, target):
        return target == "REC"

    def ligand_effects(self, condition, cell_type, target):
        n = self.n
        return pd.DataFrame(
            {
                "gene": self.down,
                "log2FC": np.full(n, 0.3),
                "fdr": np.full(n, 0.001),
                "i1.fdr": np.full(n, self.i1),
                "gene_is_ligand": np.ones(n, bool),
                "gene_is_receptor": np.zeros(n, bool),
                "gene_expression": np.full(n, 0.5),
                "gene_max_ligand_expression": np.zeros(n),
            }
        )

    def expression(self, cell_type, gene):
        return 0.5

    def receptors_of(self, ligand):
        return ["REC"] if ligand in ("LIG", *self.down) else []

    def ligands_of(self, receptor):
        return ["LIG"] if receptor == "REC" else []


TH = Thresholds(fdr_i=0.05, fdr_l=0.05, min_log2fc=0.1, min_expression=0.0)


def test_interaction_fdr_is_strict():
    th = Thresholds(fdr_i=0.05, fdr_l=0.05, min_log2fc=0.1, min_expression=0.0)
    assert propagate(FanOut(3, i1=0.049), "c", "A", ["LIG"], 2, th).steps.keys() >= {
        Node("D0", "A")
    }
    graph = propagate(FanOut(3, i1=0.05), "c", "A", ["LIG"], 2, th)
    assert {n.gene for n in graph.nodes} == {"LIG", "REC"}


def test_frontier_cap_stops_early():
    graph = propagate(FanOut(FRONTIER_CAP + 5), "c", "A", ["LIG"], 5, TH)
    assert max(graph.steps.values()) == 2
    assert graph.stopped and "more than" in graph.stopped
    small = propagate(FanOut(3), "c", "A", ["LIG"], 5, TH)
    # step 3: the D ligands reach REC again (known): nothing new, stop
    assert max(small.steps.values()) == 2 and "nothing new" in small.stopped
    assert {n.gene for n in small.nodes} == {"LIG", "REC", "D0", "D1", "D2"}
    assert small.steps[Node("REC", "A")] == 1


# ------------------------------------------------------------------ demo store


@pytest.mark.parametrize("condition", ["highCIN_vs_lowCIN", "highCIN_vs_noSTING"])
def test_demo_default_view(demo_store, condition):
    params, r = build(demo_store, condition=condition)
    text = json.dumps(r.figure, cls=plotly.utils.PlotlyJSONEncoder)
    go.Figure(json.loads(text))
    assert "NaN" not in text
    assert len(r.table) > 0
    edge_traces = [t for t in r.figure["data"] if "source" in (t.get("meta") or {})]
    assert [(t["meta"]["source"], t["meta"]["target"]) for t in edge_traces] == [
        (f"{a}|{b}", f"{c}|{d}")
        for b, a, d, c in zip(
            r.table["source_gene"],
            r.table["source_cell_type"],
            r.table["target_gene"],
            r.table["target_cell_type"],
            strict=True,
        )
    ]
    nodes = next(t for t in r.figure["data"] if t.get("name") == "genes")
    seeds = [s for s in nodes["marker"]["symbol"] if s.endswith("-dot")]
    assert len(seeds) == len(params["seeds"])
    assert {s.removesuffix("-dot") for s in nodes["marker"]["symbol"]} <= {
        "square",
        "triangle-up",
        "pentagon",
        "circle",
    }
    palette = demo_store.cell_type_colors
    assert set(nodes["marker"]["color"]) <= set(palette.values())
    assert all(
        "Step:" in h and "Cell type:" in h and "Expression:" in h for h in nodes["hovertext"]
    )
    colors = next(t for t in r.figure["data"] if t.get("name") == "edges")["marker"]
    assert colors["cmin"] == -0.5 and colors["cmax"] == 0.5
    # a left-to-right timeline: every edge's source column is ≤ step of the edge
    assert r.figure["layout"]["xaxis"]["ticktext"][0] == "seeds"


def test_demo_planted_cascade(demo_store):
    # the demo plants Ccl2 (Tumor cells) → Ccr2 (Macrophages) → Il1b, Tnf, Spp1 …
    _, r = build(demo_store, seeds="Ccl2")
    edges = [e[1:] for e in edges_of(r)]
    assert ("Ccl2", "Tumor cells", "Ccr2", "Macrophages/mMDSC") in edges
    downstream = {e[2] for e in edges if e[0] == "Ccr2" and e[1] == "Macrophages/mMDSC"}
    assert {"Il1b", "Tnf", "Spp1"} <= downstream


# ------------------------------------------------------------------ label geometry

PHONE_FIGURE_WIDTH = 340  # the narrowest figure the page draws (a phone); wider only adds room
MODEBAR_PX = 32  # Plotly's toolbar at the top right of the figure


def label_boxes(figure):
    """(label box, marker box) in pixels per node of the effects figure, from its JSON alone
    (Plotly places 'middle right' text a few pixels right of the marker's edge, etc.)."""
    layout = figure["layout"]
    genes = next(t for t in figure["data"] if t.get("name") == "genes")
    (x0, x1), (y0, y1) = layout["xaxis"]["range"], layout["yaxis"]["range"]
    margin = layout["margin"]
    # the legend and the colour bar are in the bottom margin; the labels' margins beside
    width = PHONE_FIGURE_WIDTH - margin["l"] - margin["r"]
    height = layout["height"] - margin["t"] - margin["b"]
    font = genes["textfont"]["size"]
    out = []
    for x, y, text, size, position in zip(
        genes["x"],
        genes["y"],
        genes["text"],
        genes["marker"]["size"],
        genes["textposition"],
        strict=True,
    ):
        cx = (x - x0) / (x1 - x0) * width
        cy = (y1 - y) / (y1 - y0) * height
        r = size / 2
        w = len(text.replace("<b>", "").replace("</b>", "")) * 0.6 * font
        h = 1.2 * font
        vertical, horizontal = position.split()
        lx = {"right": cx + r + 2, "left": cx - r - 2 - w, "center": cx - w / 2}[horizontal]
        ly = {"middle": cy - h / 2, "top": cy - r - 2 - h, "bottom": cy + r + 2}[vertical]
        out.append(((lx, ly, lx + w, ly + h), (cx - r, cy - r, cx + r, cy + r)))
    return out


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"steps": 3},
        {"seeds": "Ccl2"},
        {"fdr_i": 0.25, "min_log2fc": 0.05},
        {"cell_type": "Macrophages/mMDSC", "seeds": "Apoe, Ccl2", "steps": 1},
    ],
)
def test_labels_overlap_nothing(demo_store, query):
    _, r = build(demo_store, **query)
    if r.message and not r.figure["data"]:
        pytest.skip(r.message)
    boxes = label_boxes(r.figure)
    assert len(boxes) >= 3
    margin = r.figure["layout"]["margin"]
    right = PHONE_FIGURE_WIDTH - margin["l"]  # the figure's right edge, from the plot's left
    for label, _ in boxes:  # inside the figure (the colour bar is below the plot)
        assert -margin["l"] <= label[0] and label[2] <= right, (query, label)
    for i, (label, _) in enumerate(boxes):
        for j, (other_label, other_marker) in enumerate(boxes):
            if i != j:
                assert not overlap(label, other_label), (query, i, j)
                assert not overlap(label, other_marker), (query, i, j)


def test_column_headers_clear_the_toolbar(demo_store):
    _, r = build(demo_store)
    layout = r.figure["layout"]
    assert layout["xaxis"]["side"] == "top"
    font = layout["font"]["size"]
    # the step headers are drawn just above the plot area, in the top margin
    assert layout["margin"]["t"] - 1.3 * font - 4 >= MODEBAR_PX

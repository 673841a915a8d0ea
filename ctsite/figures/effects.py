"""The ligand (cascading) effects figure: a left-to-right timeline of the propagation computed
by `effects_bfs` — one column per step, nodes coloured by cell type, symbol by role, edges
coloured by the induced log2FC (cividis over [−0.5, 0.5]) with width by |log2FC|.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ctsite.figures import colors, common, fit, geometry, labels
from ctsite.figures.common import (
    base_layout,
    empty_figure,
    esc,
    fmt,
    hidden_axis,
    legend_marker,
    num,
    role,
)
from ctsite.figures.effects_bfs import Node, Propagation, Thresholds, propagate
from ctsite.figures.params import (
    Control,
    FigureResult,
    FigureSpec,
    default_cell_type,
    default_fdr,
    fdr_control,
)
from ctsite.figures.preview.svg import plain_text, text_width

if TYPE_CHECKING:
    from ctsite.store import Store

NO_EFFECTS = "No effects pass these filters — try loosening them"
SYMBOLS = {"receptor": "square", "ligand": "triangle-up", "both": "pentagon", "gene": "circle"}
ROLE_NAMES = {
    "receptor": "Receptor",
    "ligand": "Ligand",
    "both": "Ligand & receptor",
    "gene": "Other gene",
}
NODE_SIZE = (9.0, 28.0)
EDGE_WIDTH = (1.0, 6.0)
PER_EDGE_TRACES = 400
NODE_PAD = 0.06
LABEL_FONT = 11
LABEL_ROOM_RIGHT = 0.55  # columns of room right of the last column, for its labels
MARGIN_TOP = 60  # column headers below Plotly's toolbar (which takes the top ~30 px)
LEGEND_ROOM = 110  # pixels the legend below the plot takes, at most (for label placement)
NARROW_WIDTH = 340  # label placement assumes a phone-wide plot (wider only adds room)
LABEL_SHADOW = "1px 1px 2px #fff, -1px -1px 2px #fff, 1px -1px 2px #fff, -1px 1px 2px #fff"
# The SPEC's defaults for the CIN study: kept whenever the data has them and they draw something.
DEFAULT_SEEDS = ("Ccl2", "Apoe")
DEFAULT_CELL_TYPE = "Tumor cells"
TABLE_COLUMNS = [
    "step",
    "kind",
    "source_gene",
    "source_cell_type",
    "source_role",
    "target_gene",
    "target_cell_type",
    "target_role",
    "log2FC",
    "fdr",
    "i1.fdr",
    "expression",
]


def _default_seeds(store: Store) -> tuple[str, ...]:
    chosen = store.figure_defaults  # what the compile chose from the data or [figures]
    known = set(store.genes)
    if chosen and chosen.effects_seeds and all(g in known for g in chosen.effects_seeds):
        return chosen.effects_seeds
    seeds = tuple(g for g in DEFAULT_SEEDS if g in known)
    if seeds:
        return seeds
    first = next((g for g in store.genes if store.receptors_of(g)), None)
    return (first,) if first else tuple(store.genes[:1])


def _defaults(store: Store) -> dict[str, Any]:
    return {
        "condition": store.default_condition(single=True).name,
        "cell_type": default_cell_type(
            store,
            store.figure_defaults.effects_cell_type if store.figure_defaults else DEFAULT_CELL_TYPE,
            0,
        ),
        "seeds": _default_seeds(store),
        "fdr_i": default_fdr(store, 0.05),
        "min_log2fc": 0.12,
        "min_expression": 0.0,
        "fdr_l": default_fdr(store, 0.05),
        "steps": 2,
    }


def run(store: Store, params: dict[str, Any]) -> Propagation:
    """The propagation for validated parameters."""
    th = Thresholds(
        fdr_i=params["fdr_i"],
        fdr_l=params["fdr_l"],
        min_log2fc=params["min_log2fc"],
        min_expression=params["min_expression"],
    )
    return propagate(
        store,
        params["condition"],
        params["cell_type"],
        tuple(params["seeds"]),
        int(params["steps"]),
        th,
    )


def node_role(store: Store, gene: str) -> str:
    return role(bool(store.receptors_of(gene)), bool(store.ligands_of(gene)))


def effects_table(store: Store, graph: Propagation) -> pd.DataFrame:
    """One row per edge drawn."""
    rows = [
        {
            "step": e["step"],
            "kind": e["kind"],
            "source_gene": e["source"].gene,
            "source_cell_type": e["source"].cell_type,
            "source_role": node_role(store, e["source"].gene),
            "target_gene": e["target"].gene,
            "target_cell_type": e["target"].cell_type,
            "target_role": node_role(store, e["target"].gene),
            "log2FC": e["log2FC"],
            "fdr": e["fdr"],
            "i1.fdr": e["i1.fdr"],
            "expression": e["expression"],
        }
        for e in graph.edges
    ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def build(store: Store, params: dict[str, Any]) -> FigureResult:
    graph = run(store, params)
    table = effects_table(store, graph)
    if not graph.edges:
        return FigureResult(empty_figure(NO_EFFECTS), table, NO_EFFECTS)
    figure = effects_figure(store, graph, set(params["seeds"]), params["cell_type"])
    message = None
    if graph.stopped and "more than" in graph.stopped:
        message = f"Propagation {graph.stopped}; raise the thresholds to see further steps"
    return FigureResult(figure, table, message)


def _layout_nodes(graph: Propagation, order: dict[str, int]) -> dict[Node, tuple[float, float]]:
    columns: dict[int, list[Node]] = {}
    for node, step in graph.steps.items():
        columns.setdefault(step, []).append(node)
    n_steps = max(columns) + 1
    per_column = [
        sorted(columns.get(s, []), key=lambda n: (order.get(n.cell_type, len(order)), n.gene))
        for s in range(n_steps)
    ]
    ys = geometry.column_positions([len(c) for c in per_column], 1.0)
    return {
        node: (float(step), y)
        for step, nodes in enumerate(per_column)
        for node, y in zip(nodes, ys[step], strict=True)
    }


def effects_figure(
    store: Store, graph: Propagation, seeds: set[str], seed_cell_type: str
) -> dict[str, Any]:
    palette = store.cell_type_colors
    order = {c: i for i, c in enumerate(store.cell_types)}
    pos = _layout_nodes(graph, order)
    weight = dict.fromkeys(graph.steps, 0.0)
    for e in graph.edges:
        weight[e["target"]] += abs(e["log2FC"])
    max_w = max(weight.values()) or 1.0
    traces = _edge_traces(graph, pos)
    nodes = list(graph.steps)
    roles = {n: node_role(store, n.gene) for n in nodes}
    is_seed = [graph.steps[n] == 0 for n in nodes]
    texts = [
        f"<b>{esc(n.gene)}</b>" if s else esc(n.gene) for n, s in zip(nodes, is_seed, strict=True)
    ]
    sizes = [
        round(geometry.scale(weight[n], 0.0, max_w, *NODE_SIZE) if not s else 22.0, 1)
        for n, s in zip(nodes, is_seed, strict=True)
    ]
    n_steps = max(graph.steps.values()) + 1
    rows = max(sum(1 for s in graph.steps.values() if s == k) for k in range(n_steps))
    half = max(rows - 1, 1) / 2 + 0.6
    height = max(420, min(2400, 170 + 34 * rows))
    y_range = (-half, half + 0.4)
    # the seeds' labels on the left and the last column's on the right: in pixel margins as
    # wide as those labels (Plotly keeps them at any width) plus a little room in the plot
    x_range = (-0.35, n_steps - 0.75 + LABEL_ROOM_RIGHT / 2)
    plain = [plain_text(t)[0] for t in texts]
    margin_left = fit.label_margin(
        [p for p, n in zip(plain, nodes, strict=True) if graph.steps[n] == 0], LABEL_FONT, 22, True
    )
    margin_right = fit.label_margin(
        [p for p, n in zip(plain, nodes, strict=True) if graph.steps[n] == n_steps - 1],
        LABEL_FONT,
        NODE_SIZE[1],
    )
    frame = labels.Frame(
        x_range=x_range,
        y_range=y_range,
        width=max(120, NARROW_WIDTH - margin_left - margin_right),
        height=height - MARGIN_TOP - LEGEND_ROOM,  # (the plot area: see the layout below)
    )
    positions = labels.place_labels(
        [pos[n] for n in nodes], sizes, texts, _preferred_sides(graph, nodes), frame, LABEL_FONT
    )
    traces.append(
        {
            "type": "scatter",
            "mode": "markers+text",
            "name": "genes",
            "x": [num(pos[n][0]) for n in nodes],
            "y": [num(pos[n][1]) for n in nodes],
            "text": texts,
            "textposition": positions,
            "cliponaxis": False,  # outer labels are drawn in the margins reserved for them
            # a white halo keeps a label readable where an edge passes under it
            "textfont": {"size": LABEL_FONT, "shadow": LABEL_SHADOW},
            "marker": {
                "symbol": [
                    SYMBOLS[roles[n]] + ("-dot" if s else "")
                    for n, s in zip(nodes, is_seed, strict=True)
                ],
                "size": sizes,
                "color": [palette.get(n.cell_type, "#888888") for n in nodes],
                "line": {"width": [3 if s else 1 for s in is_seed], "color": "#111111"},
            },
            "hovertext": [
                f"<b>{esc(n.gene)}</b>{' (seed)' if s else ''}<br>Cell type: {esc(n.cell_type)}"
                f"<br>Type: {ROLE_NAMES[roles[n]]}<br>Step: {graph.steps[n]}"
                f"<br>Expression: {store.expression(n.cell_type, n.gene):.1%}"
                f"<br>Weight (Σ|log2FC| in): {fmt(weight[n])}"
                for n, s in zip(nodes, is_seed, strict=True)
            ],
            "hoverinfo": "text",
            "customdata": [f"{n.cell_type}|{n.gene}" for n in nodes],
            "showlegend": False,
        }
    )
    present = sorted({n.cell_type for n in nodes}, key=lambda c: order.get(c, len(order)))
    traces += [
        legend_marker(esc(c), "circle", palette.get(c, "#888888"), "ct", "Cell type")
        for c in present
    ]
    traces += [
        legend_marker(ROLE_NAMES[r], SYMBOLS[r], "#ffffff", "roles", "Gene")
        for r in ("receptor", "ligand", "both", "gene")
        if r in roles.values()
    ]
    traces.append(legend_marker("Seed ligand", "circle-dot", "#ffffff", "roles", "Gene"))
    # below the plot (a phone has no room beside it): the legend, its groups stacked in one
    # column (the same at every width), and the colour bar right of its widest entry
    role_count = sum(1 for r in ("receptor", "ligand", "both", "gene") if r in roles.values()) + 1
    legend_height = (len(present) + role_count + 2) * 20 + 16
    entries = [*present, *ROLE_NAMES.values(), "Seed ligand"]
    widest = max(text_width(c, LABEL_FONT + 1) for c in entries) + 56
    beside = round(widest / max(120, NARROW_WIDTH - margin_left - margin_right), 3)
    bottom = fit.bottom_margin(legend_height, True, beside)
    layout = base_layout(height=height - LEGEND_ROOM + bottom)  # the plot area: as labelled
    layout.update(
        {
            "xaxis": {
                **hidden_axis(),
                "visible": True,
                "showticklabels": True,
                "tickmode": "array",
                "tickvals": list(range(n_steps)),
                "ticktext": ["seeds"] + [f"step {k}" for k in range(1, n_steps)],
                "range": list(x_range),
                "side": "top",
            },
            "yaxis": {**hidden_axis(), "range": list(y_range)},
            "margin": {"l": margin_left, "r": margin_right, "t": MARGIN_TOP, "b": 20},
            "showlegend": True,
            "meta": {"figure": "effects", "seed_cell_type": seed_cell_type, "seeds": sorted(seeds)},
        }
    )
    fit.scales_below(traces, layout, legend_height, beside=beside, orientation="v")
    return {"data": traces, "layout": layout}


def _preferred_sides(graph: Propagation, nodes: list[Node]) -> list[str]:
    """Each label on the side of its node with fewer edges (incoming arrive from the left,
    outgoing leave to the right): seeds left, the last column right, fans of edges avoided."""
    incoming = dict.fromkeys(nodes, 0)
    outgoing = dict.fromkeys(nodes, 0)
    for e in graph.edges:
        outgoing[e["source"]] += 1
        incoming[e["target"]] += 1
    return ["middle left" if incoming[n] < outgoing[n] else "middle right" for n in nodes]


def _edge_hover(e: dict) -> str:
    src, dst = e["source"], e["target"]
    if e["kind"] == "ligand→receptor":
        return (
            f"Ligand: <b>{esc(src.gene)}</b> ({esc(src.cell_type)})"
            f"<br>Receptor: <b>{esc(dst.gene)}</b> ({esc(dst.cell_type)})"
            f"<br>Receptor log2FC: {fmt(e['log2FC'])} (FDR {fmt(e['fdr'])})"
        )
    return (
        f"Receptor: <b>{esc(src.gene)}</b> ({esc(src.cell_type)})"
        f"<br>Induced gene: <b>{esc(dst.gene)}</b>"
        f"<br>Induced log2FC: {fmt(e['log2FC'])} (FDR {fmt(e['fdr'])}, "
        f"interaction FDR {fmt(e['i1.fdr'])})"
    )


def _edge_traces(graph: Propagation, pos: dict[Node, tuple[float, float]]) -> list[dict]:
    lo_c, hi_c = colors.INDUCED_LOG2FC_RANGE
    max_abs = max(abs(e["log2FC"]) for e in graph.edges) or 1.0
    traces: list[dict[str, Any]] = []
    grouped: dict[tuple[str, int, int], tuple[list, list]] = {}
    bins = colors.bin_colors(colors.CIVIDIS, lo_c, hi_c, 9)
    mid_x, mid_y, values, hover = [], [], [], []
    many = len(graph.edges) > PER_EDGE_TRACES
    for e in graph.edges:
        x0, y0, x1, y1 = geometry.shorten(*pos[e["source"]], *pos[e["target"]], NODE_PAD, NODE_PAD)
        width = geometry.scale(abs(e["log2FC"]), 0.0, max_abs, *EDGE_WIDTH)
        dash = "dot" if e["kind"] == "ligand→receptor" else "solid"
        if many:
            key = (dash, colors.bin_index(e["log2FC"], lo_c, hi_c, 9), int(width))
            xs, ys = grouped.setdefault(key, ([], []))
            xs += [num(x0), num(x1), None]
            ys += [num(y0), num(y1), None]
        else:
            color = colors.sample(colors.CIVIDIS, e["log2FC"], lo_c, hi_c)
            traces.append(
                common.arrow_trace(
                    x0,
                    y0,
                    x1,
                    y1,
                    color,
                    width,
                    7 + 1.5 * width,
                    {
                        "source": f"{e['source'].cell_type}|{e['source'].gene}",
                        "target": f"{e['target'].cell_type}|{e['target'].gene}",
                    },
                    dash=dash,
                    opacity=0.85,
                )
            )
        mid_x.append(num((x0 + x1) / 2))
        mid_y.append(num((y0 + y1) / 2))
        values.append(num(float(np.clip(e["log2FC"], lo_c, hi_c))))
        hover.append(_edge_hover(e))
    for (dash, c, w), (xs, ys) in sorted(grouped.items()):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": ys,
                "line": {"color": bins[c], "width": w + 0.5, "dash": dash},
                "opacity": 0.8,
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
    traces.append(
        common.edge_midpoints_trace(
            mid_x,
            mid_y,
            values,
            hover,
            colorscale=colors.colorscale(colors.CIVIDIS),
            cmin=lo_c,
            cmax=hi_c,
            title="log2FC",
            size=6,
            length=0.5,
            line_color="#444444",
        )
    )
    return traces


SPEC = FigureSpec(
    name="effects",
    title="Ligand (cascading) effects",
    description=(
        "Follows the effect of seed ligands through the tissue: the receptors they reach in "
        "every cell type, the ligands and receptors whose expression those receptors change "
        "in turn, and so on, one step per column."
    ),
    how_to_read=(
        "Columns are propagation steps, from the seed ligands on the left. Nodes are genes in a "
        "cell type (colour): squares are receptors, triangles ligands, pentagons genes that are "
        "both; seeds have a dot and a thick border; node size is the summed |log2FC| of its "
        "incoming edges. Dotted arrows run from a ligand to a receptor that is differentially "
        "expressed; solid arrows from a receptor to a gene whose response to it changes between "
        "conditions, coloured by that induced log2FC (cividis, −0.5 to 0.5) with width by "
        "|log2FC|."
    ),
    controls=(
        Control(
            "condition",
            "Condition",
            "condition",
            "Effects need one condition's full gene matrix, so only single conditions are offered.",
            single_condition_only=True,
        ),
        Control(
            "cell_type", "Cell type", "cell_type", "The cell type expressing the seed ligands."
        ),
        Control(
            "seeds",
            "Seed ligands",
            "genes",
            "Comma-separated ligand symbols (case-insensitive) to start from.",
        ),
        fdr_control(
            "fdr_i",
            "Interaction-effect FDR cutoff",
            "A downstream gene's interaction-test FDR must be below this.",
        ),
        Control(
            "min_log2fc",
            "Minimum |log2FC|",
            "float",
            "Receptors and downstream genes must change by at least this (absolute log2FC).",
            0.0,
            2.0,
            0.01,
        ),
        Control(
            "min_expression",
            "Minimum expression fraction",
            "float",
            "Genes must be expressed in more than this fraction of their cell type's cells.",
            0.0,
            1.0,
            0.01,
        ),
        fdr_control(
            "fdr_l",
            "log2FC FDR cutoff",
            "Receptors and downstream genes must be differentially expressed with FDR below this.",
        ),
        Control(
            "steps", "Number of steps", "int", "How many propagation steps to follow.", 1, 5, 1
        ),
    ),
    default_fn=_defaults,
    build_fn=build,
)

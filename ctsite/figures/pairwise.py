"""The pairwise-interactions figure: a column per chosen cell type, ligand → receptor edges.

Selection and filters follow SPEC-site.md exactly: ligand in cell type 1 → receptor in 2 (and
2 → 3 with a third cell type); bidirectional adds the reverse directions (and 1 ↔ 3); then
numSigI1 ≥ min, both expressions ≥ min, both MAST_fdr < t_l, |ligand log2FC| > min; ordered by
numDEG, descending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ctsite.figures import colors, common, fit, geometry
from ctsite.figures.common import (
    EMPTY_MESSAGE,
    PAIR_COLUMNS,
    ROLE_LABEL,
    base_layout,
    empty_figure,
    esc,
    fmt,
    fraction,
    hidden_axis,
    legend_marker,
    num,
    role,
)
from ctsite.figures.params import (
    Control,
    FigureResult,
    FigureSpec,
    count_control,
    default_cell_type,
    default_fdr,
    fdr_control,
)

if TYPE_CHECKING:
    from ctsite.store import Store

EDGE_WIDTH = (2.0, 6.0)
MAX_EDGES = 300  # the top edges by numDEG are drawn; the message says when there are more
SYMBOLS = {"ligand": "circle", "receptor": "square", "both": "diamond", "gene": "circle-open"}
COLUMN_GAP = 1.0  # x distance between columns
ROW_GAP = 1.0
NODE_PAD = 0.09  # edge ends stop this far (x units) from the node centres
LABEL_FONT = 12
HEADER_FONT = 13
NODE_SIZE = 16
LEGEND_HEIGHT = 90  # px below the plot for the node-type legend (wrapped on a phone)
TABLE_COLUMNS = [
    *PAIR_COLUMNS,
    "MAST_log2FC_ligand",
    "MAST_fdr_ligand",
    "expression_ligand",
    "MAST_log2FC_receptor",
    "MAST_fdr_receptor",
    "expression_receptor",
    "DA_ligand",
    "DA_receptor",
    "cell_type_ligand_dc1",
    "cell_type_receptor_dc1",
]


# The SPEC's defaults for the CIN study: kept whenever the data has them and they draw something.
PREFERRED_CELL_TYPES = ("Tumor cells", "Macrophages/mMDSC")


def _defaults(store: Store) -> dict[str, Any]:
    chosen = store.figure_defaults  # what the compile chose from the data or [figures]
    return {
        "condition": store.default_condition().name,
        "cell_type1": default_cell_type(
            store, chosen.pairwise_cell_type1 if chosen else PREFERRED_CELL_TYPES[0], 0
        ),
        "cell_type2": default_cell_type(
            store, chosen.pairwise_cell_type2 if chosen else PREFERRED_CELL_TYPES[1], 1
        ),
        "cell_type3": None,
        "bidirectional": False,
        "fdr_i": default_fdr(store, 0.25),
        "fdr_l": default_fdr(store, 0.05),
        "min_numsigi1": 10,
        "min_expression": 0.0,
        "min_log2fc": 0.12,
    }


def directions(n_columns: int, bidirectional: bool) -> list[tuple[int, int]]:
    """Ordered (ligand column, receptor column) pairs that the selection includes."""
    pairs = [(0, 1)]
    if n_columns > 2:
        pairs.append((1, 2))
    if bidirectional:
        pairs.append((1, 0))
        if n_columns > 2:
            pairs += [(2, 1), (0, 2), (2, 0)]
    return pairs


def _with_fractions(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(
        expression_ligand=fraction(rows["expression_ligand"].to_numpy(float)),
        expression_receptor=fraction(rows["expression_receptor"].to_numpy(float)),
    )


def _kept(
    rows: pd.DataFrame, fdr_l: float, min_numsigi1: int, min_expression: float, min_log2fc: float
) -> pd.Series:
    """The spec's filters of a pair row (expression already as fractions)."""
    return (
        (rows["numSigI1"] >= min_numsigi1)
        & (rows["expression_ligand"] >= min_expression)
        & (rows["expression_receptor"] >= min_expression)
        & (rows["MAST_fdr_ligand"] < fdr_l)
        & (rows["MAST_fdr_receptor"] < fdr_l)
        & (rows["MAST_log2FC_ligand"].abs() > min_log2fc)
    )


def edge_counts(store: Store, params: dict[str, Any]) -> pd.Series:
    """How many pairs pass `params`' filters, per (ligand cell type, receptor cell type): what
    the compile ranks the cell-type pairs by when it chooses the default view."""
    rows = _with_fractions(store.pairwise_table(params["condition"], params["fdr_i"]))
    kept = rows[
        _kept(
            rows,
            params["fdr_l"],
            params["min_numsigi1"],
            params["min_expression"],
            params["min_log2fc"],
        )
    ]
    return kept.groupby(["cell_type_ligand", "cell_type_receptor"], sort=False).size()


def select_edges(
    pairs: pd.DataFrame,
    columns: list[str],
    bidirectional: bool,
    fdr_l: float,
    min_numsigi1: int,
    min_expression: float,
    min_log2fc: float,
) -> pd.DataFrame:
    """The spec's selection and filters; adds `column_ligand`/`column_receptor` (0-based)."""
    parts = []
    for a, b in directions(len(columns), bidirectional):
        part = pairs[
            (pairs["cell_type_ligand"] == columns[a]) & (pairs["cell_type_receptor"] == columns[b])
        ]
        parts.append(part.assign(column_ligand=a, column_receptor=b))
    selected = pd.concat(parts, ignore_index=True)
    # a row can match two directions when cell types repeat: keep its first placement
    selected = selected.drop_duplicates(
        ["ligand", "cell_type_ligand", "receptor", "cell_type_receptor"], keep="first"
    )
    selected = _with_fractions(selected)
    edges = selected[_kept(selected, fdr_l, min_numsigi1, min_expression, min_log2fc)]
    return edges.sort_values(
        ["numDEG", "numSigI1", "ligand", "receptor"],
        ascending=[False, False, True, True],
        kind="mergesort",
    ).reset_index(drop=True)


def build(store: Store, params: dict[str, Any]) -> FigureResult:
    columns = [params["cell_type1"], params["cell_type2"]]
    if params.get("cell_type3"):
        columns.append(params["cell_type3"])
    pairs = store.pairwise_table(params["condition"], params["fdr_i"], sorted(set(columns)))
    edges = select_edges(
        pairs,
        columns,
        bool(params["bidirectional"]),
        params["fdr_l"],
        params["min_numsigi1"],
        params["min_expression"],
        params["min_log2fc"],
    )
    total = len(edges)
    edges = edges.head(MAX_EDGES)
    table = edges[[c for c in TABLE_COLUMNS if c in edges.columns]].reset_index(drop=True)
    if edges.empty:
        return FigureResult(empty_figure(EMPTY_MESSAGE), table, EMPTY_MESSAGE)
    figure = pairwise_figure(edges, columns, store)
    message = None
    if total > MAX_EDGES:
        message = (
            f"Showing the {MAX_EDGES} interactions with the most DEGs of {total:,} — raise the "
            "minimum interaction effect, expression or |log2FC| to see them all"
        )
    return FigureResult(figure, table, message)


def _node_role(store: Store, gene: str) -> str:
    return role(bool(store.receptors_of(gene)), bool(store.ligands_of(gene)))


def pairwise_figure(edges: pd.DataFrame, columns: list[str], store: Store) -> dict[str, Any]:
    """Nodes per column (ordered by first appearance in the numDEG-sorted edges) and edges."""
    palette = store.cell_type_colors
    # nodes: (column, gene) → attributes, in order of first appearance
    nodes: dict[tuple[int, str], dict[str, Any]] = {}
    for row in edges.itertuples(index=False):
        for side in ("ligand", "receptor"):
            key = (int(getattr(row, f"column_{side}")), str(getattr(row, side)))
            if key not in nodes:
                nodes[key] = {
                    "cell_type": getattr(row, f"cell_type_{side}"),
                    "expression": float(getattr(row, f"expression_{side}")),
                    "log2fc": float(getattr(row, f"MAST_log2FC_{side}")),
                    "fdr": float(getattr(row, f"MAST_fdr_{side}")),
                }
    per_column: list[list[tuple[int, str]]] = [[] for _ in columns]
    for key in nodes:
        per_column[key[0]].append(key)
    ys = geometry.column_positions([len(c) for c in per_column], ROW_GAP)
    pos: dict[tuple[int, str], tuple[float, float]] = {}
    for col, keys in enumerate(per_column):
        for key, y in zip(keys, ys[col], strict=True):
            pos[key] = (col * COLUMN_GAP, y)
    n_rows = max(len(c) for c in per_column)
    half = max(n_rows - 1, 1) * ROW_GAP / 2 + 0.8

    traces: list[dict[str, Any]] = []
    traces += _edge_traces(edges, pos)
    traces.append(_node_trace(nodes, pos, store, len(columns)))
    traces += [
        legend_marker(ROLE_LABEL[r], SYMBOLS[r], "#ffffff", "roles", "Node type")
        for r in ("ligand", "receptor", "both")
    ]

    # the outer columns' labels live in pixel margins (Plotly keeps those at any width); the
    # headers wrap to the column spacing of a phone-wide figure
    left = [gene for col, gene in nodes if col == 0]
    right = [gene for col, gene in nodes if col == len(columns) - 1]
    margin_left = fit.label_margin(left, LABEL_FONT, NODE_SIZE)
    margin_right = fit.label_margin(right, LABEL_FONT, NODE_SIZE)
    x_range = [-0.36 * COLUMN_GAP, (len(columns) - 0.64) * COLUMN_GAP]
    phone_plot = max(100, fit.PHONE_FIGURE_WIDTH - margin_left - margin_right)
    header_width = phone_plot / (x_range[1] - x_range[0]) * COLUMN_GAP - 12
    headers = [fit.wrap_name(name, header_width, HEADER_FONT) for name in columns]
    extra_top = max(0, max(len(h) for h in headers) - 2) * round(HEADER_FONT * 1.3)
    shapes = []
    annotations = []
    for col, name in enumerate(columns):
        color = palette.get(name, "#888888")
        x = col * COLUMN_GAP
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": x - 0.32 * COLUMN_GAP,
                "x1": x + 0.32 * COLUMN_GAP,
                "y0": -half,
                "y1": half,
                "fillcolor": colors.with_alpha(color, 0.12),
                "line": {"color": colors.with_alpha(color, 0.6), "width": 1},
                "layer": "below",
            }
        )
        annotations.append(
            {
                "x": x,
                "y": half,
                "xref": "x",
                "yref": "y",
                "yanchor": "bottom",
                # two lines for a long name, so it fits a phone-wide column
                "text": "<br>".join(f"<b>{esc(part)}</b>" for part in headers[col]),
                "showarrow": False,
                # black or white, whichever contrasts with the cell type's colour (WCAG AA)
                "font": {"size": HEADER_FONT, "color": fit.readable_ink(color)},
                "bgcolor": color,
                "borderpad": 4,
            }
        )
    layout = base_layout(height=max(420, min(2400, 160 + 34 * n_rows)) + LEGEND_HEIGHT + extra_top)
    layout.update(
        {
            "xaxis": {
                **hidden_axis(),
                "range": x_range,
                "fixedrange": False,
            },
            "yaxis": {**hidden_axis(), "range": [-half - 0.3, half + 1.2]},
            "margin": {
                "l": margin_left,
                "r": margin_right,
                "t": 26 + extra_top,  # Plotly's toolbar; a third header line
                "b": 20,
            },
            "shapes": shapes,
            "annotations": annotations,
            "showlegend": True,
            "meta": {"figure": "pairwise", "columns": columns},
        }
    )
    fit.scales_below(traces, layout, LEGEND_HEIGHT)
    return {"data": traces, "layout": layout}


def _edge_traces(
    edges: pd.DataFrame, pos: dict[tuple[int, str], tuple[float, float]]
) -> list[dict[str, Any]]:
    """One trace per edge (a line with an arrowhead) plus a hover point in each edge's middle."""
    lo_n, hi_n = float(edges["numSigI1"].min()), float(edges["numSigI1"].max())
    lo_c, hi_c = colors.LIGAND_LOG2FC_RANGE
    traces = []
    mid_x, mid_y, hover, values = [], [], [], []
    for row in edges.itertuples(index=False):
        a = pos[(int(row.column_ligand), str(row.ligand))]
        b = pos[(int(row.column_receptor), str(row.receptor))]
        x0, y0, x1, y1 = geometry.shorten(*a, *b, NODE_PAD, NODE_PAD)
        width = geometry.scale(float(row.numSigI1), lo_n, hi_n, *EDGE_WIDTH)
        color = colors.sample(colors.BLUE_WHITE_RED, float(row.MAST_log2FC_ligand), lo_c, hi_c)
        traces.append(
            common.arrow_trace(
                x0,
                y0,
                x1,
                y1,
                color,
                width,
                8 + 2 * width,
                {
                    "ligand": f"{row.cell_type_ligand}|{row.ligand}",
                    "receptor": f"{row.cell_type_receptor}|{row.receptor}",
                },
                marker_line={"width": 0.5, "color": "#555555"},
            )
        )
        mid_x.append(num((x0 + x1) / 2))
        mid_y.append(num((y0 + y1) / 2))
        values.append(num(min(hi_c, max(lo_c, float(row.MAST_log2FC_ligand)))))
        hover.append(
            f"Ligand: <b>{esc(row.ligand)}</b> ({esc(row.cell_type_ligand)})"
            f"<br>Receptor: <b>{esc(row.receptor)}</b> ({esc(row.cell_type_receptor)})"
            f"<br>Interactions (numSigI1): {int(row.numSigI1)}"
            f"<br>numDEG: {int(row.numDEG)}"
            f"<br>Ligand logFC: {fmt(row.MAST_log2FC_ligand)}"
        )
    traces.append(
        common.edge_midpoints_trace(
            mid_x,
            mid_y,
            values,
            hover,
            colorscale=colors.colorscale(colors.BLUE_WHITE_RED),
            cmin=lo_c,
            cmax=hi_c,
            title="Ligand log2FC",
            size=7,
            length=0.4,
            line_color="#666666",
            opacity=0.9,
        )
    )
    return traces


def _node_trace(
    nodes: dict[tuple[int, str], dict[str, Any]],
    pos: dict[tuple[int, str], tuple[float, float]],
    store: Store,
    n_columns: int,
) -> dict[str, Any]:
    keys = list(nodes)
    roles = [_node_role(store, gene) for _, gene in keys]
    positions = [
        "middle left" if col == 0 else "middle right" if col == n_columns - 1 else "top center"
        for col, _ in keys
    ]
    return {
        "type": "scatter",
        "mode": "markers+text",
        "name": "genes",
        "x": [num(pos[k][0]) for k in keys],
        "y": [num(pos[k][1]) for k in keys],
        "text": [esc(gene) for _, gene in keys],
        "textposition": positions,
        "textfont": {"size": LABEL_FONT},
        "cliponaxis": False,  # the outer labels are drawn in the margins reserved for them
        "marker": {
            "symbol": [SYMBOLS[r] for r in roles],
            "size": NODE_SIZE,
            "color": [num(nodes[k]["expression"]) for k in keys],
            "colorscale": colors.colorscale(colors.GREYS),
            "cmin": 0.0,
            "cmax": 1.0,
            "line": {"width": 1, "color": "#222222"},
            "showscale": True,
            "colorbar": {
                "title": {"text": "Expression", "side": "right"},
                "thickness": 12,
                "len": 0.4,
                "y": 0.0,
                "yanchor": "bottom",
                "tickformat": ".0%",
                "outlinewidth": 0,
            },
        },
        "hovertext": [
            f"Name: <b>{esc(gene)}</b><br>Cell type: {esc(nodes[(col, gene)]['cell_type'])}"
            f"<br>Type: {ROLE_LABEL[r]}"
            f"<br>Expression: {nodes[(col, gene)]['expression']:.1%}"
            f"<br>logFC: {fmt(nodes[(col, gene)]['log2fc'])}"
            f" (FDR {fmt(nodes[(col, gene)]['fdr'])})"
            for (col, gene), r in zip(keys, roles, strict=True)
        ],
        "hoverinfo": "text",
        "customdata": [f"{nodes[k]['cell_type']}|{k[1]}" for k in keys],
        "showlegend": False,
    }


SPEC = FigureSpec(
    name="pairwise",
    title="Pairwise interactions between cell types",
    description=(
        "The ligand–receptor interactions from one cell type to another (and on to a third) "
        "whose downstream effect changes between conditions, drawn as arrows from the ligand in "
        "the sending cell type to the receptor in the receiving cell type, strongest first."
    ),
    how_to_read=(
        "Each column is a cell type. Nodes are genes expressed in it: circles are ligands, squares "
        "receptors, diamonds genes that are both; darker fill means a larger fraction of the "
        "cells express the gene. Arrows go from ligand to receptor; their colour is the ligand's "
        "log2 fold change between conditions (blue = down, red = up) and their width grows with "
        "the number of genes whose response to the receptor changes (numSigI1)."
    ),
    controls=(
        Control("condition", "Condition", "condition", "Which comparison to show."),
        Control("cell_type1", "First cell type", "cell_type", "Sends ligands (left column)."),
        Control(
            "cell_type2",
            "Second cell type",
            "cell_type",
            "Receives them (middle column); it sends on to the third cell type if one is chosen.",
        ),
        Control(
            "cell_type3",
            "Third cell type",
            "cell_type",
            "Optional: a third column receiving ligands from the second cell type.",
            optional=True,
        ),
        Control(
            "bidirectional",
            "Bidirectional",
            "bool",
            "Also show the reverse directions (receptors in earlier columns).",
        ),
        fdr_control(
            "fdr_i",
            "Interaction-effect FDR cutoff",
            "Genes with interaction-test FDR below this count towards numSigI1.",
        ),
        fdr_control(
            "fdr_l",
            "Ligand/receptor log2FC FDR cutoff",
            "Both ligand and receptor must be differentially expressed with FDR below this.",
        ),
        count_control(
            "min_numsigi1",
            "Minimum interaction effect (numSigI1)",
            "An arrow needs at least this many genes whose response to the receptor changes.",
        ),
        Control(
            "min_expression",
            "Minimum expression fraction",
            "float",
            "Ligand and receptor must each be expressed in at least this fraction of their cells.",
            0.0,
            1.0,
            0.01,
        ),
        Control(
            "min_log2fc",
            "Minimum |ligand log2FC|",
            "float",
            "The ligand must change by more than this (absolute log2 fold change).",
            0.0,
            1.0,
            0.01,
        ),
    ),
    default_fn=_defaults,
    build_fn=build,
)

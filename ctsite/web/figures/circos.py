"""The Circos figure: cell-type sectors, gene labels, dc1/DA heatmap rings, numSigI1 histogram
ring and ligand → receptor chords, drawn with plain Plotly polar traces (SVG, no Dash).

Every drawn element carries hover text; ring cells, labels and chord hover points carry
`customdata` node keys ("cell type|gene") and chord traces a `meta` {ligand, receptor} so the
page script can fade everything unrelated to the hovered element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ctsite.web.figures import colors, geometry
from ctsite.web.figures.circos_data import CHORD_COLUMNS, NODE_COLUMNS, CircosData, filter_circos
from ctsite.web.figures.common import (
    EMPTY_MESSAGE,
    ROLE_LABEL,
    base_layout,
    empty_figure,
    esc,
    fmt,
    num,
    nums,
    partners_text,
    role,
)
from ctsite.web.figures.params import (
    Control,
    FigureResult,
    FigureSpec,
    default_fdr,
)

if TYPE_CHECKING:
    from ctsite.compile.store import Store

# radii (polar units) from the centre outwards
R_CHORD = 0.60
R_HIST = (0.61, 0.71)
R_DA = (0.72, 0.77)
R_DC1 = (0.78, 0.83)
R_LABEL = 0.845
R_SECTOR = (1.00, 1.04)
R_SECTOR_LABEL = 1.09
R_MAX = 1.16
CHORD_WIDTH = (0.6, 6.0)
PER_CHORD_TRACES = 400  # above this many chords, chords are grouped by colour/width bin
COLOR_BINS = 11
WIDTH_BINS = 4
DIM_ALPHA = 0.12
CHORD_POINTS = 9  # Bézier samples per chord, smoothed by Plotly's spline
PARTNERS_SHOWN = 5


def node_key(cell_type: str, gene: str) -> str:
    return f"{cell_type}|{gene}"


def _defaults(store: Store) -> dict[str, Any]:
    return {
        "condition": store.default_condition().name,
        "fdr_i": default_fdr(store, 0.25),
        "fdr_l": default_fdr(store, 0.05),
        "min_numsigi1": 10,
        "min_numdeg": 0,
        "min_log2fc": 0.12,
        "genes": (),
    }


def circos_data(store: Store, params: dict[str, Any]) -> CircosData:
    """The filtered nodes and chords for these (validated) parameters."""
    condition = params["condition"]
    circos = store.circos_table(condition, params["fdr_i"])
    pairs = store.pairwise_table(condition, params["fdr_i"])
    return filter_circos(
        circos,
        pairs,
        list(store.cell_types),
        fdr_l=params["fdr_l"],
        min_numsigi1=params["min_numsigi1"],
        min_numdeg=params["min_numdeg"],
        min_log2fc=params["min_log2fc"],
    )


def build(store: Store, params: dict[str, Any]) -> FigureResult:
    data = circos_data(store, params)
    genes = set(params.get("genes") or ())
    table = circos_table(data, genes)
    tables = {"nodes": table[table["kind"] == "node"], "chords": table[table["kind"] == "chord"]}
    if data.nodes.empty:
        return FigureResult(empty_figure(EMPTY_MESSAGE), table, EMPTY_MESSAGE, tables)
    figure = circos_figure(data, store.cell_type_colors, genes)
    message = None
    if data.chords.empty:
        message = "No chords pass these filters — try loosening them"
    elif genes and not _highlighted(data.chords, genes).any():
        message = "None of the highlighted genes has a chord in this view"
    return FigureResult(figure, table, message, tables)


def _highlighted(chords: pd.DataFrame, genes: set[str]) -> np.ndarray:
    if not genes:
        return np.zeros(len(chords), dtype=bool)
    return (chords["ligand"].isin(genes) | chords["receptor"].isin(genes)).to_numpy()


def circos_table(data: CircosData, genes: set[str]) -> pd.DataFrame:
    """The CSV rows: every node (kind="node") and every chord shown (kind="chord")."""
    nodes = data.nodes.assign(kind="node", highlighted=data.nodes["target"].isin(genes))
    chords = data.chords.assign(kind="chord", highlighted=_highlighted(data.chords, genes))
    columns = ["kind", *NODE_COLUMNS, "has_chord"]
    columns += [c for c in CHORD_COLUMNS if c not in columns] + ["highlighted"]
    frames = [f for f in (nodes, chords) if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True, sort=False).reindex(columns=columns)


# ---------------------------------------------------------------- drawing


def _partners(chords: pd.DataFrame) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lig, ctl, rec, ctr in zip(
        chords["ligand"],
        chords["cell_type_ligand"],
        chords["receptor"],
        chords["cell_type_receptor"],
        strict=True,
    ):
        out.setdefault(node_key(ctl, lig), []).append(f"→ {esc(rec)} ({esc(ctr)})")
        out.setdefault(node_key(ctr, rec), []).append(f"← {esc(lig)} ({esc(ctl)})")
    return out


def circos_figure(data: CircosData, palette: dict[str, str], genes: set[str]) -> dict[str, Any]:
    """The Plotly figure dict for filtered Circos data."""
    nodes, chords = data.nodes, data.chords
    counts = list(nodes.groupby("cell_type", sort=False).size().items())
    layout_sectors = geometry.sectors(counts)
    angle: dict[str, float] = {}
    slot: dict[str, float] = {}
    thetas = np.empty(len(nodes))
    widths = np.empty(len(nodes))
    i = 0
    for sector in layout_sectors:
        for j in range(sector.count):
            thetas[i + j] = sector.angle(j)
            widths[i + j] = sector.slot
        i += sector.count
    keys = [node_key(c, t) for c, t in zip(nodes["cell_type"], nodes["target"], strict=True)]
    for k, t, w in zip(keys, thetas, widths, strict=True):
        angle[k] = float(t)
        slot[k] = float(w)
    partners = _partners(chords)
    roles = [
        ROLE_LABEL[role(lig, rec)]
        for lig, rec in zip(nodes["is_ligand"], nodes["is_receptor"], strict=True)
    ]
    base_hover = [
        f"<b>{esc(t)}</b> ({r})<br>Cell type: {esc(c)}"
        for t, r, c in zip(nodes["target"], roles, nodes["cell_type"], strict=True)
    ]
    partner_hover = [
        f"<br>Partners: {partners_text(partners.get(k, []), PARTNERS_SHOWN)}" for k in keys
    ]

    traces: list[dict[str, Any]] = []
    traces += _sector_traces(layout_sectors, palette, chords)
    traces.append(
        _ring(
            "cell_type_dc1",
            R_DC1,
            thetas,
            widths,
            nodes["cell_type_dc1"].to_numpy(dtype=float),
            colors.colorscale(colors.CIVIDIS),
            colors.DC1_RANGE,
            [
                f"{h}<br>cell_type_dc1: {fmt(v)}{p}"
                for h, v, p in zip(base_hover, nodes["cell_type_dc1"], partner_hover, strict=True)
            ],
            keys,
            {"title": {"text": "dc1", "side": "right"}, "x": 1.0, "y": 0.86, "len": 0.27},
        )
    )
    traces.append(
        _ring(
            "DA_score",
            R_DA,
            thetas,
            widths,
            nodes["DA_score"].to_numpy(dtype=float),
            colors.colorscale(colors.RED_BLUE),
            colors.DA_RANGE,
            [
                f"{h}<br>DA_score: {fmt(v)}{p}"
                for h, v, p in zip(base_hover, nodes["DA_score"], partner_hover, strict=True)
            ],
            keys,
            {"title": {"text": "DA score", "side": "right"}, "x": 1.0, "y": 0.52, "len": 0.27},
        )
    )
    traces.append(_histogram(nodes, thetas, widths, keys, base_hover, partner_hover, chords))
    traces += _chord_traces(chords, angle, genes)
    traces.append(_label_trace(nodes, angle, keys, base_hover, partner_hover, genes))
    traces += _width_legend(chords)

    layout = base_layout(height=820)
    layout.update(
        {
            "polar": {
                "domain": {"x": [0.0, 0.9], "y": [0.0, 1.0]},
                "bgcolor": "#ffffff",
                "hole": 0,
                "radialaxis": {"visible": False, "range": [0, R_MAX], "showgrid": False},
                "angularaxis": {
                    "visible": False,
                    "direction": "clockwise",
                    "rotation": 90,
                    "thetaunit": "degrees",
                    "showgrid": False,
                },
                "barmode": "overlay",
            },
            "showlegend": True,
            "legend": {
                "orientation": "h",
                "x": 0.0,
                "y": -0.02,
                "yanchor": "top",
                "font": {"size": 11},
                "itemclick": "toggle",
            },
            "margin": {"l": 10, "r": 10, "t": 20, "b": 10},
            "meta": {"figure": "circos", "highlight": sorted(genes)},
        }
    )
    return {"data": traces, "layout": layout}


def _sector_traces(
    layout_sectors: list[geometry.Sector], palette: dict[str, str], chords: pd.DataFrame
) -> list[dict[str, Any]]:
    sent = chords.groupby("cell_type_ligand").size().to_dict() if len(chords) else {}
    received = chords.groupby("cell_type_receptor").size().to_dict() if len(chords) else {}
    traces = []
    for s in layout_sectors:
        color = palette.get(s.name, "#888888")
        hover = (
            f"<b>{esc(s.name)}</b><br>{s.count} targets<br>"
            f"chords sent: {sent.get(s.name, 0)}, received: {received.get(s.name, 0)}"
        )
        traces.append(
            {
                "type": "barpolar",
                "name": esc(s.name),
                "legendgroup": "cell types",
                "legendgrouptitle": {"text": "Cell types"},
                "r": [R_SECTOR[1] - R_SECTOR[0]],
                "base": [R_SECTOR[0]],
                "theta": [num(s.middle)],
                "width": [num(s.end - s.start)],
                "marker": {"color": color, "line": {"width": 0}},
                "hovertext": [hover],
                "hoverinfo": "text",
                "customdata": [s.name],
                "showlegend": True,
            }
        )
        traces.append(
            {
                "type": "scatterpolar",
                "mode": "text",
                "r": [R_SECTOR_LABEL],
                "theta": [num(s.middle)],
                "text": [f"<b>{esc(s.name)}</b>"],
                "textposition": geometry.text_position(s.middle),
                "textfont": {"size": 12, "color": color},
                "hoverinfo": "skip",
                "showlegend": False,
                "legendgroup": "cell types",
            }
        )
    return traces


def _ring(
    name: str,
    radii: tuple[float, float],
    thetas: np.ndarray,
    widths: np.ndarray,
    values: np.ndarray,
    scale: list,
    value_range: tuple[float, float],
    hover: list[str],
    keys: list[str],
    colorbar: dict[str, Any],
) -> dict[str, Any]:
    """One heatmap ring: a barpolar cell per target, coloured by value (NaN → grey)."""
    lo, hi = value_range
    color = [num(min(hi, max(lo, v)), 4) if np.isfinite(v) else None for v in values]
    return {
        "type": "barpolar",
        "name": name,
        "r": [radii[1] - radii[0]] * len(values),
        "base": radii[0],
        "theta": nums(thetas),
        "width": nums(widths),
        "marker": {
            "color": color,
            "colorscale": scale,
            "cmin": lo,
            "cmax": hi,
            "line": {"width": 0},
            "showscale": True,
            "colorbar": {"thickness": 12, "xanchor": "left", "outlinewidth": 0, **colorbar},
        },
        "hovertext": hover,
        "hoverinfo": "text",
        "customdata": keys,
        "showlegend": False,
    }


def _histogram(
    nodes: pd.DataFrame,
    thetas: np.ndarray,
    widths: np.ndarray,
    keys: list[str],
    base_hover: list[str],
    partner_hover: list[str],
    chords: pd.DataFrame,
) -> dict[str, Any]:
    """numSigI1 bars of the receptors, heights relative to min/max over the chords shown."""
    is_rec = nodes["is_receptor"].to_numpy()
    values = nodes["numSigI1"].to_numpy(dtype=float)
    if len(chords):
        lo, hi = float(chords["numSigI1"].min()), float(chords["numSigI1"].max())
    else:
        lo, hi = (
            float(np.nanmin(values[is_rec], initial=0)),
            float(np.nanmax(values[is_rec], initial=1)),
        )
    full = R_HIST[1] - R_HIST[0]
    heights = [
        geometry.scale(v, lo, hi, 0.08 * full, full) if v > 0 else 0.0 for v in values[is_rec]
    ]
    idx = np.flatnonzero(is_rec)
    return {
        "type": "barpolar",
        "name": "numSigI1",
        "r": nums(heights),
        "base": R_HIST[0],
        "theta": nums(thetas[idx]),
        "width": nums(widths[idx]),
        "marker": {"color": "#555555", "line": {"width": 0}},
        "hovertext": [
            f"{base_hover[i]}<br>numSigI1: {fmt(int(values[i]))}{partner_hover[i]}" for i in idx
        ],
        "hoverinfo": "text",
        "customdata": [keys[i] for i in idx],
        "legendgroup": "encodings",
        "legendgrouptitle": {"text": "Encodings"},
        "showlegend": True,
    }


def _chord_color(value: float) -> str:
    lo, hi = colors.LIGAND_LOG2FC_RANGE
    return colors.sample(colors.BLUE_WHITE_RED, value, lo, hi)


def _chord_opacity(n: int) -> float:
    """Fewer chords are drawn more opaque; dense views stay readable."""
    return 0.85 if n <= 100 else 0.6 if n <= 400 else 0.45


def _chord_traces(
    chords: pd.DataFrame, angle: dict[str, float], genes: set[str]
) -> list[dict[str, Any]]:
    """Chord curves (dimmed first, highlighted on top) plus one hover/colourbar point per chord."""
    if chords.empty:
        return []
    n_max = float(chords["numSigI1"].max())
    highlighted = _highlighted(chords, genes)
    lig_keys = [
        node_key(c, g) for c, g in zip(chords["cell_type_ligand"], chords["ligand"], strict=True)
    ]
    rec_keys = [
        node_key(c, g)
        for c, g in zip(chords["cell_type_receptor"], chords["receptor"], strict=True)
    ]
    log2fc = chords["MAST_log2FC_ligand"].to_numpy(dtype=float)
    numsig = chords["numSigI1"].to_numpy(dtype=float)
    curves = [
        geometry.chord_curve(angle[a], angle[b], R_CHORD, CHORD_POINTS)
        for a, b in zip(lig_keys, rec_keys, strict=True)
    ]
    hover = [
        f"<b>{esc(lig)}</b> ({esc(ctl)}) → <b>{esc(rec)}</b> ({esc(ctr)})"
        f"<br>numSigI1: {int(ns)}<br>numDEG: {int(nd)}"
        f"<br>ligand log2FC: {fmt(lfc)} (FDR {fmt(lfdr)})"
        for lig, ctl, rec, ctr, ns, nd, lfc, lfdr in zip(
            chords["ligand"],
            chords["cell_type_ligand"],
            chords["receptor"],
            chords["cell_type_receptor"],
            chords["numSigI1"],
            chords["numDEG"],
            chords["MAST_log2FC_ligand"],
            chords["MAST_fdr_ligand"],
            strict=True,
        )
    ]
    dim = bool(genes)
    traces: list[dict[str, Any]] = []
    order = [i for i in range(len(chords)) if not highlighted[i]] + [
        i for i in range(len(chords)) if highlighted[i]
    ]
    lo_w, hi_w = CHORD_WIDTH
    if len(chords) <= PER_CHORD_TRACES:
        for i in order:
            r, t = curves[i]
            alpha = 1.0 if (highlighted[i] or not dim) else DIM_ALPHA
            traces.append(
                {
                    "type": "scatterpolar",
                    "mode": "lines",
                    "r": nums(r, 3),
                    "theta": nums(t, 2),
                    "line": {
                        "shape": "spline",
                        "color": _chord_color(log2fc[i]),
                        "width": num(lo_w + (hi_w - lo_w) * numsig[i] / n_max, 2),
                    },
                    "opacity": num(_chord_opacity(len(chords)) * alpha, 3),
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "meta": {"ligand": lig_keys[i], "receptor": rec_keys[i]},
                }
            )
    else:
        groups: dict[tuple[bool, int, int], list[int]] = {}
        for i in order:
            c = colors.bin_index(log2fc[i], *colors.LIGAND_LOG2FC_RANGE, COLOR_BINS)
            w = min(WIDTH_BINS - 1, int(numsig[i] / n_max * WIDTH_BINS))
            groups.setdefault((bool(highlighted[i]), c, w), []).append(i)
        palette = colors.bin_colors(colors.BLUE_WHITE_RED, *colors.LIGAND_LOG2FC_RANGE, COLOR_BINS)
        for (hl, c, w), members in sorted(groups.items()):
            r_all: list[float | None] = []
            t_all: list[float | None] = []
            for i in members:
                r, t = curves[i]
                r_all += [*nums(r, 3), None]
                t_all += [*nums(t, 2), None]
            alpha = 1.0 if (hl or not dim) else DIM_ALPHA
            traces.append(
                {
                    "type": "scatterpolar",
                    "mode": "lines",
                    "r": r_all,
                    "theta": t_all,
                    "connectgaps": False,
                    "line": {
                        "shape": "spline",
                        "color": palette[c],
                        "width": num(lo_w + (hi_w - lo_w) * (w + 1) / WIDTH_BINS, 2),
                    },
                    "opacity": num(_chord_opacity(len(chords)) * alpha, 3),
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
    # one hover point per chord, a quarter of the way from the ligand (where chords are apart)
    at = max(1, CHORD_POINTS // 4)
    mid = [curves[i][0][at] for i in range(len(chords))]
    mid_t = [curves[i][1][at] for i in range(len(chords))]
    lo, hi = colors.LIGAND_LOG2FC_RANGE
    traces.append(
        {
            "type": "scatterpolar",
            "mode": "markers",
            "name": "chords",
            "r": nums(mid, 3),
            "theta": nums(mid_t, 2),
            "marker": {
                "size": 5,
                "color": nums(np.clip(log2fc, lo, hi)),
                "colorscale": colors.colorscale(colors.BLUE_WHITE_RED),
                "cmin": lo,
                "cmax": hi,
                "opacity": [
                    0.6 if (highlighted[i] or not dim) else 0.1 for i in range(len(chords))
                ],
                "line": {"width": 0},
                "showscale": True,
                "colorbar": {
                    "title": {"text": "ligand log2FC", "side": "right"},
                    "thickness": 12,
                    "len": 0.27,
                    "x": 1.0,
                    "xanchor": "left",
                    "y": 0.18,
                    "outlinewidth": 0,
                },
            },
            "hovertext": hover,
            "hoverinfo": "text",
            "customdata": [[a, b] for a, b in zip(lig_keys, rec_keys, strict=True)],
            "showlegend": False,
        }
    )
    return traces


def _label_trace(
    nodes: pd.DataFrame,
    angle: dict[str, float],
    keys: list[str],
    base_hover: list[str],
    partner_hover: list[str],
    genes: set[str],
) -> dict[str, Any]:
    """Gene-name labels of the targets that have chords (others dimmed when genes are searched)."""
    idx = np.flatnonzero(nodes["has_chord"].to_numpy())
    targets = nodes["target"].to_numpy()
    thetas = [angle[keys[i]] for i in idx]
    dim = bool(genes)
    label_colors = ["#000000" if (not dim or targets[i] in genes) else "#c8c8c8" for i in idx]
    texts = [
        f"<b>{esc(targets[i])}</b>" if dim and targets[i] in genes else esc(targets[i]) for i in idx
    ]
    return {
        "type": "scatterpolar",
        "mode": "text",
        "name": "labels",
        "r": [R_LABEL] * len(idx),
        "theta": nums(thetas, 2),
        "text": texts,
        "textposition": [geometry.text_position(t) for t in thetas],
        "textfont": {
            "size": 9 if len(idx) <= 120 else 8 if len(idx) <= 250 else 7,
            "color": label_colors,
        },
        "hovertext": [f"{base_hover[i]}{partner_hover[i]}" for i in idx],
        "hoverinfo": "text",
        "customdata": [keys[i] for i in idx],
        "showlegend": False,
    }


def _width_legend(chords: pd.DataFrame) -> list[dict[str, Any]]:
    if chords.empty:
        return []
    lo, hi = int(chords["numSigI1"].min()), int(chords["numSigI1"].max())
    lo_w, hi_w = CHORD_WIDTH
    values = sorted({lo, (lo + hi) // 2, hi})
    return [
        {
            "type": "scatterpolar",
            "mode": "lines",
            "r": [None],
            "theta": [None],
            "name": f"numSigI1 = {v}",
            "line": {"width": num(lo_w + (hi_w - lo_w) * v / hi, 2), "color": "#777777"},
            "legendgroup": "encodings",
            "legendgrouptitle": {"text": "Encodings"},
            "hoverinfo": "skip",
            "showlegend": True,
        }
        for v in values
    ]


SPEC = FigureSpec(
    name="circos",
    title="Circos: condition-dependent interactions across the tumour",
    description=(
        "Each coloured sector is a cell type; inside it, every ligand or receptor tested in that "
        "cell type, ordered along the cell type's pseudotime axis (dc1). Chords connect a ligand "
        "in the sending cell type to its receptor in the receiving cell type when the receptor's "
        "downstream response changes between conditions (numSigI1) and the ligand itself is "
        "differentially expressed."
    ),
    how_to_read=(
        "From the outside in: the cell-type sector; the names of genes that have chords; a ring "
        "coloured by the target's position on the cell type's first diffusion component (dc1, "
        "cividis, −1 to 1); a ring coloured by its differential-abundance score (red–blue, −0.5 "
        "to 0.5); bars giving each receptor's number of genes whose response to it changes "
        "between conditions (numSigI1). Chords run from ligand to receptor; their colour is the "
        "ligand's log2 fold change between conditions (blue = down, red = up, −0.2 to 0.2) and "
        "their width grows with numSigI1. Hover any element for details; list genes to "
        "highlight them and dim the rest."
    ),
    controls=(
        Control(
            "condition",
            "Condition",
            "condition",
            "Which comparison's interaction effects to show; a combined condition requires the "
            "effect in every compared condition.",
        ),
        Control(
            "fdr_i",
            "Interaction-effect FDR cutoff",
            "fdr",
            "Genes with interaction-test FDR below this count towards numSigI1 and numDEG.",
            0.01,
            0.25,
            0.01,
        ),
        Control(
            "fdr_l",
            "Ligand log2FC FDR cutoff",
            "fdr",
            "Ligands must be differentially expressed between conditions with FDR below this.",
            0.01,
            0.25,
            0.01,
        ),
        Control(
            "min_numsigi1",
            "Minimum interaction effect (numSigI1)",
            "int",
            "A chord needs at least this many genes whose response to the receptor changes.",
            0,
            100,
            1,
        ),
        Control(
            "min_numdeg",
            "Minimum number of DEGs (numDEG)",
            "int",
            "A chord needs at least this many genes differentially expressed with the receptor.",
            0,
            100,
            1,
        ),
        Control(
            "min_log2fc",
            "Minimum |ligand log2FC|",
            "float",
            "A chord's ligand must change by more than this (absolute log2 fold change).",
            0.0,
            2.0,
            0.01,
        ),
        Control(
            "genes",
            "Genes to highlight",
            "genes",
            "Comma-separated gene symbols (case-insensitive); their chords and labels are drawn "
            "on top and everything else is dimmed.",
            optional=True,
        ),
    ),
    default_fn=_defaults,
    build_fn=build,
)

"""Drawing of the Circos figure: filtered nodes and chords → a Plotly figure dict, laid out in
pixels for one width class (`circos_labels.WidthClass`: the figure's size is fixed, the page
scales it to its card).

Cell-type sectors, the dc1 and DA heatmap rings, the numSigI1 histogram ring and ligand →
receptor chords; the gene labels (radial, with leader lines to their chord ends) and the sector
names as paper annotations placed by `circos_labels.layout_circos`, the one computation the
static picture draws too (it reads the same annotations). The margins never move (`autoexpand`
off, colour bars and legend inside the figure), so the annotations' pixels are the layout's.

Few SVG elements, however large the view (a redraw's time goes into them): the ring cells, the
chords (exact quadratic Béziers) and the leader lines are layout shapes in paper coordinates, one
path per colour (`circos_shapes`); the histogram is one filled outline; the sectors are one bar
trace. Every element has hover text, from traces of the points to hover that draw nothing
(`mode: "none"`: no SVG element at all, Plotly hovers their points all the same): ring and
histogram cells and the labels carry `customdata` node keys ("cell type|gene"), chord hover
points both end keys. The colour bars hang on traces with no points.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ctsite.figures import circos_labels, circos_shapes, colors, fit, geometry
from ctsite.figures.circos_data import CircosData
from ctsite.figures.common import (
    ROLE_LABEL,
    base_layout,
    esc,
    fmt_many,
    num,
    nums,
    partners_text,
    role,
)
from ctsite.figures.text_metrics import FONT_STACK

CHORD_WIDTH = (0.6, 6.0)
RING_BINS = 32  # colour steps of a heatmap ring: neighbours in one step are drawn as one bar
COLOR_BINS = 11
WIDTH_BINS = 4
DIM_ALPHA = 0.12
DIMMED = "#767676"  # gene labels while others are searched: the lightest grey at 4.5:1 on white
CHORD_POINTS = 9  # Bézier samples per chord: its hover point is the third (a quarter of the way)
PARTNERS_SHOWN = 5
LEADER_COLOR = "#9a9a9a"
HISTOGRAM_COLOR = "#555555"


def node_key(cell_type: str, gene: str) -> str:
    return f"{cell_type}|{gene}"


def highlighted_chords(chords: pd.DataFrame, genes: set[str]) -> np.ndarray:
    """Which chords have a searched gene at either end."""
    if not genes:
        return np.zeros(len(chords), dtype=bool)
    return (chords["ligand"].isin(genes) | chords["receptor"].isin(genes)).to_numpy()


def _node_keys(cell_types: Any, genes: Any) -> list[str]:
    return [f"{c}|{g}" for c, g in zip(list(cell_types), list(genes), strict=True)]


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


def _strengths(chords: pd.DataFrame) -> dict[str, float]:
    """Each chord end's strength: the summed numSigI1 of its chords (label priority)."""
    out: dict[str, float] = {}
    if chords.empty:
        return out
    for lig, ctl, rec, ctr, value in zip(
        chords["ligand"].tolist(),
        chords["cell_type_ligand"].tolist(),
        chords["receptor"].tolist(),
        chords["cell_type_receptor"].tolist(),
        chords["numSigI1"].astype(float).tolist(),
        strict=True,
    ):
        for key in (node_key(ctl, lig), node_key(ctr, rec)):
            out[key] = out.get(key, 0.0) + value
    return out


def label_candidates(
    nodes: pd.DataFrame,
    thetas: np.ndarray,
    layout_sectors: list[geometry.Sector],
    chords: pd.DataFrame,
    genes: set[str],
) -> tuple[list[int], list[circos_labels.Candidate]]:
    """The chord ends (node rows) that want a label, with their priorities."""
    strengths = _strengths(chords)
    sector_of = {s.name: i for i, s in enumerate(layout_sectors)}
    rows = np.flatnonzero(nodes["has_chord"].to_numpy()).tolist()
    targets, cell_types = nodes["target"].tolist(), nodes["cell_type"].tolist()
    out = [
        circos_labels.Candidate(
            text=str(targets[i]),
            theta=float(thetas[i]),
            sector=sector_of[cell_types[i]],
            highlighted=targets[i] in genes,
            strength=strengths.get(node_key(cell_types[i], targets[i]), 0.0),
            bold=bool(genes) and targets[i] in genes,
        )
        for i in rows
    ]
    return rows, out


def circos_figure(
    data: CircosData,
    palette: dict[str, str],
    genes: set[str],
    width_class: circos_labels.WidthClass = circos_labels.DESKTOP,
) -> dict[str, Any]:
    """The Plotly figure dict for filtered Circos data, drawn for `width_class`."""
    nodes, chords = data.nodes, data.chords
    cls = width_class
    counts = list(nodes.groupby("cell_type", sort=False).size().items())
    layout_sectors = geometry.sectors(counts)
    thetas, widths = geometry.slot_angles(layout_sectors)
    rows, candidates = label_candidates(nodes, thetas, layout_sectors, chords, genes)
    placed = circos_labels.layout_circos(layout_sectors, candidates, cls)
    keys = _node_keys(nodes["cell_type"], nodes["target"])
    partners = _partners(chords)
    roles = [
        ROLE_LABEL[role(lig, rec)]
        for lig, rec in zip(nodes["is_ligand"].tolist(), nodes["is_receptor"].tolist(), strict=True)
    ]
    base_hover = [
        f"<b>{esc(t)}</b> ({r})<br>Cell type: {esc(c)}"
        for t, r, c in zip(
            nodes["target"].tolist(), roles, nodes["cell_type"].tolist(), strict=True
        )
    ]
    partner_hover = [
        f"<br>Partners: {partners_text(partners[k], PARTNERS_SHOWN)}" if k in partners else ""
        for k in keys
    ]
    bars = _colorbar_places(cls)
    traces: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    traces.append(_sector_trace(layout_sectors, palette, chords, cls))
    for name, radii, scale, value_range, colorbar in (
        ("cell_type_dc1", cls.dc1, colors.CIVIDIS, colors.DC1_RANGE, ("dc1", bars[0])),
        ("DA_score", cls.da, colors.RED_BLUE, colors.DA_RANGE, ("DA score", bars[1])),
    ):
        values = nodes[name].to_numpy(dtype=float)
        ring_traces, ring_shapes = _ring(
            placed,
            name,
            radii,
            thetas,
            widths,
            values,
            scale,
            value_range,
            [
                f"{h}<br>{name}: {v}{p}"
                for h, v, p in zip(base_hover, fmt_many(values), partner_hover, strict=True)
            ],
            keys,
            {"title": {"text": colorbar[0], "side": "right"}, **colorbar[1]},
        )
        traces += ring_traces
        shapes += ring_shapes
    traces += _histogram(nodes, thetas, widths, keys, base_hover, partner_hover, chords, cls)
    if not chords.empty:
        index = pd.MultiIndex.from_arrays([nodes["cell_type"], nodes["target"]])
        at_ligand = thetas[
            index.get_indexer(
                pd.MultiIndex.from_arrays([chords["cell_type_ligand"], chords["ligand"]])
            )
        ]
        at_receptor = thetas[
            index.get_indexer(
                pd.MultiIndex.from_arrays([chords["cell_type_receptor"], chords["receptor"]])
            )
        ]
        chord_traces, chord_shapes = _chords(
            placed, chords, at_ligand, at_receptor, genes, cls.chord, bars[2]
        )
        traces += chord_traces
        shapes += chord_shapes
    hover = [f"{base_hover[i]}{partner_hover[i]}" for i in rows]
    shapes += _leader_shapes(placed)
    traces.append(_label_hover_trace(placed, rows, keys, hover))
    traces += _width_legend(chords)
    annotations = _name_annotations(placed, layout_sectors, palette)
    annotations += _label_annotations(placed, genes)

    r_max = cls.sector[1] + 0.01
    cx, cy = placed.centre
    half = placed.radius * r_max
    layout = base_layout(height=int(cls.height))
    layout.update(
        {
            "width": int(cls.width),
            "autosize": False,
            "polar": {
                "domain": {
                    "x": [round((cx - half) / cls.width, 6), round((cx + half) / cls.width, 6)],
                    "y": [
                        round(1 - (cy + half) / cls.height, 6),
                        round(1 - (cy - half) / cls.height, 6),
                    ],
                },
                "bgcolor": "#ffffff",
                "hole": 0,
                "radialaxis": {"visible": False, "range": [0, r_max], "showgrid": False},
                "angularaxis": {
                    "visible": False,
                    "direction": "clockwise",
                    "rotation": 90,
                    "thetaunit": "degrees",
                    "showgrid": False,
                },
                "barmode": "overlay",
            },
            "annotations": annotations,
            "shapes": shapes,
            "showlegend": True,
            "legend": _legend_place(cls),
            # the labels are placed in px of this exact frame: nothing may push the margins
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0, "pad": 0, "autoexpand": False},
            "meta": {
                "figure": "circos",
                "highlight": sorted(genes),
                "size": cls.name,
                "labelled": len(placed.labels),
                "chord_ends": len(candidates),
            },
        }
    )
    return {"data": traces, "layout": layout}


def _colorbar_places(cls: circos_labels.WidthClass) -> list[dict[str, Any]]:
    """Where the three colour bars go: a column right of the circle on a desktop, a row below
    it on a phone (inside the picture: they never push its margins)."""
    common = {"thickness": 12, "lenmode": "pixels", "outlinewidth": 0, "xanchor": "left"}
    if cls.width > cls.circle:  # a column on the right
        x = (cls.circle + 6) / cls.width
        length = (cls.height - 200) / 3 - 16
        return [
            {**common, "len": length, "x": x, "y": 1 - (8 + (length + 16) * (k + 0.5)) / cls.height}
            for k in range(3)
        ]
    band = cls.height - cls.circle
    y = (band - 8) / 2 / cls.height
    return [{**common, "len": band - 24, "x": (2 + 60 * k) / cls.width, "y": y} for k in range(3)]


def _legend_place(cls: circos_labels.WidthClass) -> dict[str, Any]:
    x = (cls.circle + 4) / cls.width if cls.width > cls.circle else 202 / cls.width
    return {
        "orientation": "v",
        "x": round(x, 4),
        "xanchor": "left",
        "y": 0.0,
        "yanchor": "bottom",
        "font": {"size": 11 if cls.width > cls.circle else 10},
        "itemclick": "toggle",
        "bgcolor": "rgba(255,255,255,0)",
    }


def _paper(cls: circos_labels.WidthClass, point: tuple[float, float]) -> tuple[float, float]:
    return round(point[0] / cls.width, 5), round(1 - point[1] / cls.height, 5)


def _text_annotation(
    cls: circos_labels.WidthClass, placed: circos_labels.Placed, text: str, color: str
) -> dict[str, Any]:
    x, y = _paper(cls, placed.centre)
    return {
        "x": x,
        "y": y,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "center",
        "yanchor": "middle",
        "text": text,
        # in Plotly's own form of an angle (−180 to 180), so that go.Figure keeps it as it is
        "textangle": (round(placed.angle, 2) + 180) % 360 - 180,
        "showarrow": False,
        "borderpad": 0,
        "font": {"family": FONT_STACK, "size": placed.size, "color": color},
    }


def _name_annotations(
    placed: circos_labels.CircosLayout,
    layout_sectors: list[geometry.Sector],
    palette: dict[str, str],
) -> list[dict[str, Any]]:
    cls = placed.width_class
    out = []
    for sector, name in zip(layout_sectors, placed.names, strict=True):
        ink = fit.ink_on_white(palette.get(sector.name, "#888888"))  # (light colours darkened)
        note = _text_annotation(cls, name, f"<b>{esc(sector.name)}</b>", ink)
        note["name"] = "sector name"
        out.append(note)
    return out


def _label_annotations(placed: circos_labels.CircosLayout, genes: set[str]) -> list[dict[str, Any]]:
    """The gene labels, radial (searched genes bold; when genes are searched the others are
    grey)."""
    cls = placed.width_class
    dim = bool(genes)
    out = []
    for label in placed.labels:
        text = label.placed.text
        lit = not dim or text in genes
        shown = f"<b>{esc(text)}</b>" if label.placed.bold else esc(text)
        note = _text_annotation(cls, label.placed, shown, "#000000" if lit else DIMMED)
        note["name"] = "gene label"
        out.append(note)
    return out


def _label_hover_trace(
    placed: circos_labels.CircosLayout, rows: list[int], keys: list[str], hover: list[str]
) -> dict[str, Any]:
    """A point on each gene label (drawn as nothing), carrying its node's key and hover
    text (the labels themselves are annotations, which Plotly does not hover like points)."""
    cx, cy = placed.centre
    r, theta = [], []
    for label in placed.labels:
        x, y = label.placed.centre
        r.append(round(math.hypot(x - cx, y - cy) / placed.radius, 4))
        theta.append(round(label.phi, 3))
    return {
        "type": "scatterpolar",
        "mode": "none",
        "name": "labels",
        "r": r,
        "theta": theta,
        "hovertext": [hover[label.index] for label in placed.labels],
        "hoverinfo": "text",
        "customdata": [keys[rows[label.index]] for label in placed.labels],
        "showlegend": False,
    }


def _leader_shapes(placed: circos_labels.CircosLayout) -> list[dict[str, Any]]:
    """The labels' leader lines, one shape (none without labels)."""
    if not placed.labels:
        return []
    return [
        circos_shapes.path_shape(
            "leaders",
            circos_shapes.leader_paths(placed),
            line={"width": 0.6, "color": LEADER_COLOR},
        )
    ]


def _sector_trace(
    layout_sectors: list[geometry.Sector],
    palette: dict[str, str],
    chords: pd.DataFrame,
    cls: circos_labels.WidthClass,
) -> dict[str, Any]:
    """Every cell-type sector in one bar trace (their names are annotations)."""
    sent = chords.groupby("cell_type_ligand").size().to_dict() if len(chords) else {}
    received = chords.groupby("cell_type_receptor").size().to_dict() if len(chords) else {}
    colors_ = [palette.get(s.name, "#888888") for s in layout_sectors]
    middles = [num(s.middle) for s in layout_sectors]
    return {
        "type": "barpolar",
        "name": "sectors",
        "r": [round(cls.sector[1] - cls.sector[0], 4)] * len(layout_sectors),
        "base": cls.sector[0],
        "theta": middles,
        "width": [num(s.end - s.start) for s in layout_sectors],
        "marker": {"color": colors_, "line": {"width": 0}},
        "hovertext": [
            f"<b>{esc(s.name)}</b><br>{s.count} targets<br>"
            f"chords sent: {sent.get(s.name, 0)}, received: {received.get(s.name, 0)}"
            for s in layout_sectors
        ],
        "hoverinfo": "text",
        "customdata": [s.name for s in layout_sectors],
        "showlegend": False,
    }


def merge_runs(
    thetas: np.ndarray, widths: np.ndarray, bins: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adjacent cells (touching in angle) of the same colour bin as one cell: (start, end,
    bin) per run. Bin −1 (no value) cells are left out."""
    starts, ends = thetas - widths / 2, thetas + widths / 2
    new_run = np.ones(len(thetas), dtype=bool)
    new_run[1:] = (bins[1:] != bins[:-1]) | (np.abs(starts[1:] - ends[:-1]) > 1e-6)
    first = np.flatnonzero(new_run)
    last = np.append(first[1:] - 1, len(thetas) - 1)
    keep = bins[first] >= 0
    return starts[first][keep], ends[last][keep], bins[first][keep]


def _scale_trace(
    name: str, scale: list[str], value_range: tuple[float, float], colorbar: dict[str, Any]
) -> dict[str, Any]:
    """A trace with no points that shows a colour bar (the ring cells and chords it explains
    are shapes)."""
    lo, hi = value_range
    return {
        "type": "scatterpolar",
        "mode": "markers",
        "name": name,
        "r": [None],
        "theta": [None],
        "marker": {
            "color": [lo],
            "colorscale": colors.colorscale(scale),
            "cmin": lo,
            "cmax": hi,
            "showscale": True,
            "colorbar": colorbar,
        },
        "hoverinfo": "skip",
        "showlegend": False,
    }


def _ring(
    placed: circos_labels.CircosLayout,
    name: str,
    radii: tuple[float, float],
    thetas: np.ndarray,
    widths: np.ndarray,
    values: np.ndarray,
    scale: list[str],
    value_range: tuple[float, float],
    hover: list[str],
    keys: list[str],
    colorbar: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One heatmap ring: (traces, shapes). Runs of adjacent targets in the same colour step are
    one cell (NaN → no colour), the cells of a colour step one shape; the ring's hover from one
    undrawn trace through every cell, its colour bar on a trace with no points."""
    lo, hi = value_range
    finite = np.isfinite(values)
    bins = np.where(
        finite,
        np.minimum(RING_BINS - 1, (np.clip((values - lo) / (hi - lo), 0, 1) * RING_BINS)),
        -1,
    ).astype(int)
    starts, ends, run_bins = merge_runs(thetas, widths, bins)
    paths = circos_shapes.cell_paths(placed, radii, starts, ends)
    palette = colors.bin_colors(scale, lo, hi, RING_BINS)
    shapes = [
        circos_shapes.path_shape(
            f"{name} ring",
            [paths[i] for i in np.flatnonzero(run_bins == b)],
            line={"width": 0},
            fillcolor=palette[b],
        )
        for b in np.unique(run_bins).tolist()
    ]
    hover_line = {
        "type": "scatterpolar",
        "mode": "none",
        "name": name,
        "r": [round((radii[0] + radii[1]) / 2, 4)] * len(thetas),
        "theta": nums(thetas, 3),
        "hovertext": hover,
        "hoverinfo": "text",
        "customdata": keys,
        "showlegend": False,
    }
    return [_scale_trace(f"{name} scale", scale, value_range, colorbar), hover_line], shapes


def _histogram(
    nodes: pd.DataFrame,
    thetas: np.ndarray,
    widths: np.ndarray,
    keys: list[str],
    base_hover: list[str],
    partner_hover: list[str],
    chords: pd.DataFrame,
    cls: circos_labels.WidthClass,
) -> list[dict[str, Any]]:
    """numSigI1 bars of the receptors, heights relative to min/max over the chords shown: one
    filled outline, its hover line and its legend entry."""
    idx = np.flatnonzero(nodes["is_receptor"].to_numpy())
    values = nodes["numSigI1"].to_numpy(dtype=float)[idx]
    if len(chords):
        lo, hi = float(chords["numSigI1"].min()), float(chords["numSigI1"].max())
    else:
        lo, hi = float(np.min(values, initial=0)), float(np.max(values, initial=1))
    full = cls.hist[1] - cls.hist[0]
    span = hi - lo if hi > lo else 1.0
    heights = np.where(
        values > 0, 0.08 * full + (full - 0.08 * full) * np.clip((values - lo) / span, 0, 1), 0.0
    )
    tops = cls.hist[0] + heights
    r, theta = geometry.skyline(
        cls.hist[0], thetas[idx] - widths[idx] / 2, thetas[idx] + widths[idx] / 2, tops
    )
    encodings = {"legendgroup": "encodings", "legendgrouptitle": {"text": "Encodings"}}
    bars = {
        "type": "scatterpolar",
        "mode": "none",
        "name": "numSigI1 bars",
        "r": nums(r),
        "theta": nums(theta, 3),
        "fill": "toself",
        "fillcolor": HISTOGRAM_COLOR,
        "line": {"width": 0},
        "hoverinfo": "skip",
        "showlegend": False,
        **encodings,
    }
    hover_line = {
        "type": "scatterpolar",
        "mode": "none",
        "name": "numSigI1",
        "r": [round((cls.hist[0] + cls.hist[1]) / 2, 4)] * len(idx),
        "theta": nums(thetas[idx], 3),
        "hovertext": [
            f"{base_hover[i]}<br>numSigI1: {int(v)}{partner_hover[i]}"
            for i, v in zip(idx, values, strict=True)
        ],
        "hoverinfo": "text",
        "customdata": [keys[i] for i in idx],
        "showlegend": False,
        **encodings,
    }
    # the legend's entry (a bar, as the histogram looks; clicking it hides the group)
    legend = {
        "type": "barpolar",
        "name": "numSigI1",
        "r": [None],
        "theta": [None],
        "marker": {"color": HISTOGRAM_COLOR, "line": {"width": 0}},
        "hoverinfo": "skip",
        "showlegend": True,
        **encodings,
    }
    return [bars, hover_line, legend]


def _chord_opacity(n: int) -> float:
    """Fewer chords are drawn more opaque; dense views stay readable."""
    return 0.85 if n <= 100 else 0.6 if n <= 400 else 0.45


def _chords(
    placed: circos_labels.CircosLayout,
    chords: pd.DataFrame,
    at_ligand: np.ndarray,
    at_receptor: np.ndarray,
    genes: set[str],
    radius: float,
    colorbar: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The chords: (traces, shapes). Their curves as shapes (dimmed first, highlighted on top),
    one hover point per chord (drawn as nothing), the colour bar on a trace with no points."""
    n = len(chords)
    n_max = float(chords["numSigI1"].max())
    highlighted = highlighted_chords(chords, genes)
    lig_keys = _node_keys(chords["cell_type_ligand"], chords["ligand"])
    rec_keys = _node_keys(chords["cell_type_receptor"], chords["receptor"])
    log2fc = chords["MAST_log2FC_ligand"].to_numpy(dtype=float)
    numsig = chords["numSigI1"].to_numpy(dtype=float)
    r, t = geometry.chord_curves(at_ligand, at_receptor, radius, CHORD_POINTS)
    lo_c, hi_c = colors.LIGAND_LOG2FC_RANGE
    lo_w, hi_w = CHORD_WIDTH
    dim = bool(genes)
    opacity = _chord_opacity(n)
    shapes: list[dict[str, Any]] = []
    # one shape per (highlighted, colour bin, width bin): a few dozen SVG paths in all, however
    # many chords (each chord's exact values are in the hover points below)
    paths = circos_shapes.chord_paths(placed, at_ligand, at_receptor, radius)
    palette = colors.bin_colors(colors.BLUE_WHITE_RED, lo_c, hi_c, COLOR_BINS)
    color_bin = np.minimum(
        COLOR_BINS - 1, (np.clip((log2fc - lo_c) / (hi_c - lo_c), 0, 1) * COLOR_BINS)
    ).astype(int)
    width_bin = np.minimum(WIDTH_BINS - 1, (numsig / n_max * WIDTH_BINS).astype(int))
    groups = pd.DataFrame({"h": highlighted, "c": color_bin, "w": width_bin}).groupby(
        ["h", "c", "w"], sort=True
    )
    for (hl, c, w), members in groups.indices.items():
        alpha = 1.0 if (hl or not dim) else DIM_ALPHA
        shapes.append(
            circos_shapes.path_shape(
                "chords",
                [paths[i] for i in members],
                line={
                    "color": palette[c],
                    "width": round(lo_w + (hi_w - lo_w) * (w + 1) / WIDTH_BINS, 2),
                },
                opacity=round(opacity * alpha, 3),
            )
        )
    hover = [
        f"<b>{esc(lig)}</b> ({esc(ctl)}) → <b>{esc(rec)}</b> ({esc(ctr)})"
        f"<br>numSigI1: {ns}<br>numDEG: {nd}<br>ligand log2FC: {lfc} (FDR {lfdr})"
        for lig, ctl, rec, ctr, ns, nd, lfc, lfdr in zip(
            chords["ligand"].tolist(),
            chords["cell_type_ligand"].tolist(),
            chords["receptor"].tolist(),
            chords["cell_type_receptor"].tolist(),
            chords["numSigI1"].tolist(),
            chords["numDEG"].tolist(),
            fmt_many(chords["MAST_log2FC_ligand"]),
            fmt_many(chords["MAST_fdr_ligand"]),
            strict=True,
        )
    ]
    # one hover point per chord, a quarter of the way from the ligand (where chords are apart)
    at = max(1, CHORD_POINTS // 4)
    hover_line = {
        "type": "scatterpolar",
        "mode": "none",
        "name": "chords",
        "r": nums(r[:, at], 3),
        "theta": nums(t[:, at], 2),
        "hovertext": hover,
        "hoverinfo": "text",
        "customdata": [[a, b] for a, b in zip(lig_keys, rec_keys, strict=True)],
        "showlegend": False,
    }
    scale = _scale_trace(
        "ligand log2FC",
        colors.BLUE_WHITE_RED,
        colors.LIGAND_LOG2FC_RANGE,
        {"title": {"text": "ligand log2FC", "side": "right"}, **colorbar},
    )
    return [hover_line, scale], shapes


def _width_legend(chords: pd.DataFrame) -> list[dict[str, Any]]:
    if chords.empty:
        return []
    lo, hi = int(chords["numSigI1"].min()), int(chords["numSigI1"].max())
    lo_w, hi_w = CHORD_WIDTH
    return [
        {
            "type": "scatterpolar",
            "mode": "lines",
            "r": [None],
            "theta": [None],
            "name": f"numSigI1 = {v}",
            "line": {"width": round(lo_w + (hi_w - lo_w) * v / hi, 2), "color": "#777777"},
            "legendgroup": "encodings",
            "legendgrouptitle": {"text": "Encodings"},
            "hoverinfo": "skip",
            "showlegend": True,
        }
        for v in sorted({lo, (lo + hi) // 2, hi})
    ]

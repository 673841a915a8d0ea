"""Drawing of the Circos figure: filtered nodes and chords → a Plotly figure dict.

Cell-type sectors, the gene-label ring, the dc1 and DA heatmap rings, the numSigI1 histogram ring
and ligand → receptor chords, all as plain Plotly polar traces (barpolar/scatterpolar: SVG, no
Dash). Every element has hover text; ring cells, labels and chord hover points carry `customdata`
node keys ("cell type|gene") and chord hover points both end keys, so that the page script
can fade everything unrelated to the hovered element. Few, large traces: the sectors are one bar
trace, each heatmap ring one bar trace whose bars are runs of neighbouring targets in the same
colour step (hover from one invisible line through every cell), chords one line trace per
colour/width bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ctsite.figures import colors, geometry
from ctsite.figures.circos_data import CircosData
from ctsite.figures.common import (
    ROLE_LABEL,
    base_layout,
    esc,
    fmt_many,
    num,
    nums,
    partners_text,
    polylines,
    role,
)

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
RING_BINS = 32  # colour steps of a heatmap ring: neighbours in one step are drawn as one bar
COLOR_BINS = 11
WIDTH_BINS = 4
DIM_ALPHA = 0.12
CHORD_POINTS = 9  # Bézier samples per chord, smoothed by Plotly's spline
MAX_LABELS = 400
PARTNERS_SHOWN = 5


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


def circos_figure(data: CircosData, palette: dict[str, str], genes: set[str]) -> dict[str, Any]:
    """The Plotly figure dict for filtered Circos data."""
    nodes, chords = data.nodes, data.chords
    counts = list(nodes.groupby("cell_type", sort=False).size().items())
    layout_sectors = geometry.sectors(counts)
    thetas, widths = geometry.slot_angles(layout_sectors)
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
    traces: list[dict[str, Any]] = []
    traces += _sector_traces(layout_sectors, palette, chords)
    for name, radii, scale, value_range, colorbar in (
        ("cell_type_dc1", R_DC1, colors.CIVIDIS, colors.DC1_RANGE, ("dc1", 0.86)),
        ("DA_score", R_DA, colors.RED_BLUE, colors.DA_RANGE, ("DA score", 0.52)),
    ):
        values = nodes[name].to_numpy(dtype=float)
        traces += _ring(
            name,
            radii,
            thetas,
            widths,
            values,
            colors.colorscale(scale),
            value_range,
            [
                f"{h}<br>{name}: {v}{p}"
                for h, v, p in zip(base_hover, fmt_many(values), partner_hover, strict=True)
            ],
            keys,
            {"title": {"text": colorbar[0], "side": "right"}, "x": 1.0, "y": colorbar[1]},
        )
    traces.append(_histogram(nodes, thetas, widths, keys, base_hover, partner_hover, chords))
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
        traces += _chord_traces(chords, at_ligand, at_receptor, genes)
    traces.append(_label_trace(nodes, thetas, keys, base_hover, partner_hover, chords, genes))
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
    """Every cell-type sector in one bar trace, their names in one text trace (per-point
    colours: two traces whatever the number of cell types)."""
    sent = chords.groupby("cell_type_ligand").size().to_dict() if len(chords) else {}
    received = chords.groupby("cell_type_receptor").size().to_dict() if len(chords) else {}
    colors_ = [palette.get(s.name, "#888888") for s in layout_sectors]
    middles = [num(s.middle) for s in layout_sectors]
    return [
        {
            "type": "barpolar",
            "name": "sectors",
            "r": [R_SECTOR[1] - R_SECTOR[0]] * len(layout_sectors),
            "base": R_SECTOR[0],
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
        },
        {
            "type": "scatterpolar",
            "mode": "text",
            "name": "sector labels",
            "r": [R_SECTOR_LABEL] * len(layout_sectors),
            "theta": middles,
            "text": [f"<b>{esc(s.name)}</b>" for s in layout_sectors],
            "textposition": [geometry.text_position(s.middle) for s in layout_sectors],
            "textfont": {"size": 12, "color": colors_},
            "hoverinfo": "skip",
            "showlegend": False,
        },
    ]


def merge_runs(
    thetas: np.ndarray, widths: np.ndarray, bins: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adjacent cells (touching in angle) of the same colour bin as one cell: (middle, width,
    bin) per run. Bin −1 (no value) cells are left out."""
    starts, ends = thetas - widths / 2, thetas + widths / 2
    new_run = np.ones(len(thetas), dtype=bool)
    new_run[1:] = (bins[1:] != bins[:-1]) | (np.abs(starts[1:] - ends[:-1]) > 1e-6)
    first = np.flatnonzero(new_run)
    last = np.append(first[1:] - 1, len(thetas) - 1)
    keep = bins[first] >= 0
    lo, hi = starts[first][keep], ends[last][keep]
    return (lo + hi) / 2, hi - lo, bins[first][keep]


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
) -> list[dict[str, Any]]:
    """One heatmap ring: runs of adjacent targets in the same colour step drawn as one bar
    (NaN → no colour), and the ring's hover from one invisible line through every cell."""
    lo, hi = value_range
    finite = np.isfinite(values)
    bins = np.where(
        finite,
        np.minimum(RING_BINS - 1, (np.clip((values - lo) / (hi - lo), 0, 1) * RING_BINS)),
        -1,
    ).astype(int)
    middles, spans, run_bins = merge_runs(thetas, widths, bins)
    step = (hi - lo) / RING_BINS
    bars = {
        "type": "barpolar",
        "name": f"{name} ring",
        "r": [round(radii[1] - radii[0], 4)] * len(middles),
        "base": radii[0],
        "theta": nums(middles, 3),
        "width": nums(spans, 4),
        "marker": {
            "color": nums(lo + (run_bins + 0.5) * step, 4),
            "colorscale": scale,
            "cmin": lo,
            "cmax": hi,
            "line": {"width": 0},
            "showscale": True,
            "colorbar": {
                "thickness": 12,
                "len": 0.27,
                "xanchor": "left",
                "outlinewidth": 0,
                **colorbar,
            },
        },
        "hoverinfo": "skip",
        "showlegend": False,
    }
    hover_line = {
        "type": "scatterpolar",
        "mode": "lines",
        "name": name,
        "r": [round((radii[0] + radii[1]) / 2, 4)] * len(thetas),
        "theta": nums(thetas, 3),
        "line": {"width": 0, "color": "rgba(0,0,0,0)"},
        "hovertext": hover,
        "hoverinfo": "text",
        "customdata": keys,
        "showlegend": False,
    }
    return [bars, hover_line]


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
    idx = np.flatnonzero(nodes["is_receptor"].to_numpy())
    values = nodes["numSigI1"].to_numpy(dtype=float)[idx]
    if len(chords):
        lo, hi = float(chords["numSigI1"].min()), float(chords["numSigI1"].max())
    else:
        lo, hi = float(np.min(values, initial=0)), float(np.max(values, initial=1))
    full = R_HIST[1] - R_HIST[0]
    span = hi - lo if hi > lo else 1.0
    heights = np.where(
        values > 0, 0.08 * full + (full - 0.08 * full) * np.clip((values - lo) / span, 0, 1), 0.0
    )
    return {
        "type": "barpolar",
        "name": "numSigI1",
        "r": nums(heights),
        "base": R_HIST[0],
        "theta": nums(thetas[idx], 3),
        "width": nums(widths[idx], 4),
        "marker": {"color": "#555555", "line": {"width": 0}},
        "hovertext": [
            f"{base_hover[i]}<br>numSigI1: {int(v)}{partner_hover[i]}"
            for i, v in zip(idx, values, strict=True)
        ],
        "hoverinfo": "text",
        "customdata": [keys[i] for i in idx],
        "legendgroup": "encodings",
        "legendgrouptitle": {"text": "Encodings"},
        "showlegend": True,
    }


def _chord_opacity(n: int) -> float:
    """Fewer chords are drawn more opaque; dense views stay readable."""
    return 0.85 if n <= 100 else 0.6 if n <= 400 else 0.45


def _chord_traces(
    chords: pd.DataFrame, at_ligand: np.ndarray, at_receptor: np.ndarray, genes: set[str]
) -> list[dict[str, Any]]:
    """Chord curves (dimmed first, highlighted on top) plus one hover/colourbar point per chord."""
    n = len(chords)
    n_max = float(chords["numSigI1"].max())
    highlighted = highlighted_chords(chords, genes)
    lig_keys = _node_keys(chords["cell_type_ligand"], chords["ligand"])
    rec_keys = _node_keys(chords["cell_type_receptor"], chords["receptor"])
    log2fc = chords["MAST_log2FC_ligand"].to_numpy(dtype=float)
    numsig = chords["numSigI1"].to_numpy(dtype=float)
    r, t = geometry.chord_curves(at_ligand, at_receptor, R_CHORD, CHORD_POINTS)
    lo_c, hi_c = colors.LIGAND_LOG2FC_RANGE
    lo_w, hi_w = CHORD_WIDTH
    dim = bool(genes)
    opacity = _chord_opacity(n)
    traces: list[dict[str, Any]] = []
    # one trace per (highlighted, colour bin, width bin): a few dozen SVG paths in all, however
    # many chords (each chord's exact values are in the hover points below)
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
        traces.append(
            {
                "type": "scatterpolar",
                "mode": "lines",
                "r": polylines(r[members], 3),
                "theta": polylines(t[members], 2),
                "connectgaps": False,
                "line": {
                    "shape": "spline",
                    "color": palette[c],
                    "width": round(lo_w + (hi_w - lo_w) * (w + 1) / WIDTH_BINS, 2),
                },
                "opacity": round(opacity * alpha, 3),
                "hoverinfo": "skip",
                "showlegend": False,
            }
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
    traces.append(
        {
            "type": "scatterpolar",
            "mode": "markers",
            "name": "chords",
            "r": nums(r[:, at], 3),
            "theta": nums(t[:, at], 2),
            "marker": {
                "size": 4,
                "color": nums(np.clip(log2fc, lo_c, hi_c)),
                "colorscale": colors.colorscale(colors.BLUE_WHITE_RED),
                "cmin": lo_c,
                "cmax": hi_c,
                "opacity": np.where(highlighted | (not dim), 0.4, 0.08).tolist(),
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
    thetas: np.ndarray,
    keys: list[str],
    base_hover: list[str],
    partner_hover: list[str],
    chords: pd.DataFrame,
    genes: set[str],
) -> dict[str, Any]:
    """Gene names of the targets with chords (the most connected `MAX_LABELS` and any searched
    gene); when genes are searched, the other labels are dimmed."""
    targets = nodes["target"].to_numpy()
    idx = np.flatnonzero(nodes["has_chord"].to_numpy())
    if len(idx) > MAX_LABELS:
        degree = pd.concat(
            [
                pd.Series(_node_keys(chords["cell_type_ligand"], chords["ligand"])),
                pd.Series(_node_keys(chords["cell_type_receptor"], chords["receptor"])),
            ]
        ).value_counts()
        score = np.array([degree.get(keys[i], 0) for i in idx], dtype=float)
        score += np.array([1e9 if targets[i] in genes else 0.0 for i in idx])
        idx = np.sort(idx[np.argsort(-score, kind="stable")[:MAX_LABELS]])
    dim = bool(genes)
    label_thetas = thetas[idx]
    size = 9 if len(idx) <= 120 else 8 if len(idx) <= 250 else 7
    return {
        "type": "scatterpolar",
        "mode": "text",
        "name": "labels",
        "r": [R_LABEL] * len(idx),
        "theta": nums(label_thetas, 2),
        "text": [
            f"<b>{esc(targets[i])}</b>" if dim and targets[i] in genes else esc(targets[i])
            for i in idx
        ],
        "textposition": [geometry.text_position(a) for a in label_thetas],
        "textfont": {
            "size": size,
            "color": ["#000000" if (not dim or targets[i] in genes) else "#c8c8c8" for i in idx],
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

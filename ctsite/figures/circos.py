"""The Circos figure page: controls, defaults, and build = filter (circos_data) → draw
(circos_draw), with at most MAX_CHORDS chords drawn (the strongest; searched genes first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ctsite.figures.circos_data import (
    CHORD_COLUMNS,
    NODE_COLUMNS,
    CircosData,
    filter_circos,
    mark_chord_ends,
)
from ctsite.figures.circos_draw import circos_figure, highlighted_chords
from ctsite.figures.circos_labels import WIDTH_CLASSES
from ctsite.figures.common import EMPTY_MESSAGE, empty_figure
from ctsite.figures.params import (
    Control,
    FigureResult,
    FigureSpec,
    count_control,
    default_fdr,
    fdr_control,
)

if TYPE_CHECKING:
    from ctsite.store import Store

MAX_CHORDS = 1500  # more are not readable: the strongest are drawn and the message says so


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
    return filter_circos(
        store.circos_table(params["condition"], params["fdr_i"]),
        store.lr_pairs(),
        list(store.cell_types),
        fdr_l=params["fdr_l"],
        min_numsigi1=params["min_numsigi1"],
        min_numdeg=params["min_numdeg"],
        min_log2fc=params["min_log2fc"],
    )


def limit_chords(data: CircosData, genes: set[str], limit: int | None = None) -> CircosData:
    """At most `limit` (default MAX_CHORDS) chords: highlighted first, then the strongest."""
    limit = MAX_CHORDS if limit is None else limit
    if len(data.chords) <= limit:
        return data
    hl = highlighted_chords(data.chords, genes)
    first = np.flatnonzero(hl)[:limit]
    rest = np.flatnonzero(~hl)[: limit - len(first)]
    chords = data.chords.iloc[np.sort(np.concatenate([first, rest]))].reset_index(drop=True)
    return CircosData(nodes=mark_chord_ends(data.nodes, chords), chords=chords)


def build(store: Store, params: dict[str, Any]) -> FigureResult:
    genes = set(params.get("genes") or ())
    data = circos_data(store, params)
    total = len(data.chords)
    data = limit_chords(data, genes)
    table = circos_table(data, genes)
    tables = {"nodes": table[table["kind"] == "node"], "chords": table[table["kind"] == "chord"]}
    if data.nodes.empty:
        return FigureResult(empty_figure(EMPTY_MESSAGE), table, EMPTY_MESSAGE, tables)
    figure = circos_figure(
        data, store.cell_type_colors, genes, WIDTH_CLASSES[params.get("size", "desktop")]
    )
    message = None
    if data.chords.empty:
        message = "No chords pass these filters — try loosening them"
    elif total > len(data.chords):
        message = (
            f"Showing the {len(data.chords):,} strongest of {total:,} chords (by numSigI1) — "
            "raise the minimum interaction effect or |log2FC| to see them all"
        )
    elif genes and not highlighted_chords(data.chords, genes).any():
        message = "None of the highlighted genes has a chord in this view"
    return FigureResult(figure, table, message, tables)


def circos_table(data: CircosData, genes: set[str]) -> pd.DataFrame:
    """The CSV rows: every node (kind="node") and every chord drawn (kind="chord")."""
    nodes = data.nodes.assign(kind="node", highlighted=data.nodes["target"].isin(genes))
    chords = data.chords.assign(kind="chord", highlighted=highlighted_chords(data.chords, genes))
    columns = ["kind", *NODE_COLUMNS, "has_chord"]
    columns += [c for c in CHORD_COLUMNS if c not in columns] + ["highlighted"]
    frames = [f for f in (nodes, chords) if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True, sort=False).reindex(columns=columns)


SPEC = FigureSpec(
    name="circos",
    title="Circos: condition-dependent interactions between cell types",
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
        fdr_control(
            "fdr_i",
            "Interaction-effect FDR cutoff",
            "Genes with interaction-test FDR below this count towards numSigI1 and numDEG.",
        ),
        fdr_control(
            "fdr_l",
            "Ligand log2FC FDR cutoff",
            "Ligands must be differentially expressed between conditions with FDR below this.",
        ),
        count_control(
            "min_numsigi1",
            "Minimum interaction effect (numSigI1)",
            "A chord needs at least this many genes whose response to the receptor changes.",
        ),
        count_control(
            "min_numdeg",
            "Minimum number of DEGs (numDEG)",
            "A chord needs at least this many genes differentially expressed with the receptor.",
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
    sizes=tuple(WIDTH_CLASSES),
)

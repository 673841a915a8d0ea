"""The compiled store's contract: every file name, key and version number, in one place.

The compiler (`ctsite.compile`) writes through these names and the reader (`ctsite.store.reader`)
reads through them; nothing else spells a store path. Standard library only, so the quick
"up to date?" check of `ctsite compile` and the slim web image can both import it for free.

Layout of one store (see SPEC-data.md for the columns):

    manifest.json                  MANIFEST: schema version, thresholds, cell types, conditions
    genes.feather                  GENES: every gene, is_ligand / is_receptor, max ligand expression
    expression.feather             EXPRESSION: (gene, cell type, expressing fraction), long form
    interactions.feather           INTERACTIONS: the ligand–receptor list
    conditions/<id>/circos.feather CIRCOS: one row per (cell type, target), counts per threshold
    conditions/<id>/pairs.feather  PAIRS: ligand row × receptor row skeleton (row positions)
    conditions/<id>/genes.feather  CONDITION_GENES: the condition's downstream genes, in layer order
    conditions/<id>/*.npy          EFFECT_LAYERS: ligand-effect values (single conditions only)
    figures/                       FIGURES_DIR: optional precomputed figure JSON
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
GENES = "genes.feather"
EXPRESSION = "expression.feather"
INTERACTIONS = "interactions.feather"
CONDITIONS_DIR = "conditions"
CIRCOS = "circos.feather"
PAIRS = "pairs.feather"
CONDITION_GENES = "genes.feather"
FIGURES_DIR = "figures"

CONDITION_ID = re.compile(r"^c[0-9]{1,4}$")

# The precomputed FDR thresholds (0.01 … 0.25); the manifest records the ones a store holds.
THRESHOLDS: tuple[float, ...] = tuple(round(k / 100, 2) for k in range(1, 26))
SIG_COUNT = "numSigI1"  # per threshold: downstream genes with i1.fdr < t
DEG_COUNT = "numDEG"  # per threshold: downstream genes with fdr < t
SIG_MIN_COUNT = "numSigI1_min"  # combined conditions: the smallest numSigI1 of the compared ones


def threshold_key(t: float) -> str:
    """Column suffix for a threshold: 0.05 → 't05'."""
    return f"t{round(t * 100):02d}"


def count_column(prefix: str, t: float) -> str:
    """The circos-table column of a per-threshold count: ('numDEG', 0.05) → 'numDEG_t05'."""
    return f"{prefix}_{threshold_key(t)}"


@dataclass(frozen=True)
class EffectLayer:
    """One ligand-effects layer: its column in the reader's table, input layer and store file."""

    column: str
    layer: str
    file: str


EFFECT_LAYERS: tuple[EffectLayer, ...] = (
    EffectLayer("log2FC", "log2FC", "log2FC.npy"),
    EffectLayer("fdr", "fdr", "fdr.npy"),
    EffectLayer("i1.fdr", "fdr.i1", "fdr_i1.npy"),
)


def condition_dir(store: Path, condition_id: str) -> Path:
    """The folder of one condition; `condition_id` must be a store id (c1, c2, …)."""
    if not CONDITION_ID.match(condition_id):
        raise ValueError(f"not a condition id: {condition_id!r}")
    return store / CONDITIONS_DIR / condition_id

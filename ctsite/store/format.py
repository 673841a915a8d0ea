"""The compiled store's contract: every file name, key and version number, in one place.

The compiler (`ctsite.compile`) writes through these names and the reader (`ctsite.store.reader`)
reads through them; nothing else spells a store path. Standard library only, so the quick
"up to date?" check of `ctsite compile` and the slim web image can both import it for free.

A store folder (`compiled_dir`) holds immutable versions and a pointer naming the current one:

    CURRENT                        POINTER: {"version": id, "previous": id | null}, replaced atomically
    CURRENT.next                   POINTER_NEXT: the fallback when a server cannot rename over CURRENT
    versions/<id>/                 VERSIONS_DIR: one complete compile each, never changed once named
    versions/.tmp-<id>-<pid>/      a version being written (TEMP_PREFIX); not a version yet
    objects/<sha256><suffix>       OBJECTS_DIR: the versions' data files, named by their content
                                   (schema 3): versions share every file they have in common, so
                                   an update stores, and uploads, only what changed

A version of schema 3 is a folder with its manifest (whose FILES_KEY entry maps each file below to
its object) and, optionally, its precomputed figures; schema 2 versions hold the files themselves.

The files of one version (see SPEC-data.md for the columns):

    manifest.json                  MANIFEST: schema version, thresholds, cell types, conditions
    genes.feather                  GENES: every gene, is_ligand / is_receptor, max ligand expression
    expression.feather             EXPRESSION: (gene, cell type, expressing fraction), long form
    interactions.feather           INTERACTIONS: the ligand–receptor list
    conditions/<id>/circos.feather CIRCOS: one row per (cell type, target), counts per threshold
    conditions/<id>/pairs.feather  PAIRS: ligand row × receptor row skeleton (row positions)
    conditions/<id>/genes.feather  CONDITION_GENES: the condition's downstream genes, in layer order
    conditions/<id>/effects_*.npy  sparse ligand effects (single conditions only), CSR-like:
                                   EFFECT_OFFSETS (int64, rows + 1), EFFECT_GENES (int32 positions
                                   in the condition's genes) and one float32 file per EFFECT_LAYERS;
                                   a row keeps only the genes a figure can ever draw (EFFECTS_RULE)
    site.json                      IDENTITY: the study's identity (title, citation, DOI …:
                                   `ctsite.store.identity`); absent in stores compiled before it
    figure_defaults.json           FIGURE_DEFAULTS: the figures' default choices (effects seeds and
                                   cell type, pairwise cell types), chosen from the data or the
                                   [figures] settings (`ctsite.store.figure_defaults`); absent
                                   in stores compiled before it
    figures/                       FIGURES_DIR: optional precomputed figure JSON
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 3  # 3: files as shared objects; 2: sparse ligand effects in versioned folders
READABLE_SCHEMAS = (2, 3)  # 1 (dense, flat folder) is recompiled
MANIFEST = "manifest.json"
OBJECTS_DIR = "objects"
FILES_KEY = "files"  # manifest: {relative file: {"object": name in OBJECTS_DIR, "size": bytes}}
OBJECT_NAME = re.compile(r"^[0-9a-f]{64}(\.[a-z]{1,8})?$")
POINTER = "CURRENT"
POINTER_NEXT = "CURRENT.next"
VERSIONS_DIR = "versions"
TEMP_PREFIX = ".tmp-"
VERSION_ID = re.compile(r"^v[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}-[0-9a-f]{4}$")
GENES = "genes.feather"
EXPRESSION = "expression.feather"
INTERACTIONS = "interactions.feather"
CONDITIONS_DIR = "conditions"
CIRCOS = "circos.feather"
PAIRS = "pairs.feather"
CONDITION_GENES = "genes.feather"
FIGURES_DIR = "figures"
IDENTITY = "site.json"
FIGURE_DEFAULTS = "figure_defaults.json"

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
    EffectLayer("log2FC", "log2FC", "effects_log2FC.npy"),
    EffectLayer("fdr", "fdr", "effects_fdr.npy"),
    EffectLayer("i1.fdr", "fdr.i1", "effects_fdr_i1.npy"),
)
EFFECT_OFFSETS = "effects_offsets.npy"
EFFECT_GENES = "effects_genes.npy"
# The manifest's "effects" entry: {"layout": EFFECTS_LAYOUT, "t_max": …, "rule": EFFECTS_RULE}.
EFFECTS_KEY = "effects"
EFFECTS_LAYOUT = "sparse-rows-v1"
EFFECTS_RULE = "ligand or receptor gene with i1.fdr < t_max and fdr < t_max"
# The circos-table columns the ligand-effects propagation reads: its row index (cell type,
# target → row) and the receptors' own MAST rules (`Store.mast_table`). None depends on a
# threshold; the static site exports them apart from the other columns, so that its Effects page
# fetches only these (ctsite.deploy.static_site.data).
EFFECTS_CIRCOS_COLUMNS = ("cell_type", "target", "row", "receptor", "MAST_log2FC", "MAST_fdr")


def condition_dir(store: Path, condition_id: str) -> Path:
    """The folder of one condition; `condition_id` must be a store id (c1, c2, …)."""
    if not CONDITION_ID.match(condition_id):
        raise ValueError(f"not a condition id: {condition_id!r}")
    return store / CONDITIONS_DIR / condition_id


def object_name(sha256: str, rel: str) -> str:
    """The object holding a file of content `sha256`: the digest plus the file's suffix."""
    suffix = Path(rel).suffix.lower()
    name = sha256 + (suffix if re.fullmatch(r"\.[a-z]{1,8}", suffix) else "")
    if not OBJECT_NAME.match(name):
        raise ValueError(f"not a SHA-256 digest: {sha256!r}")
    return name

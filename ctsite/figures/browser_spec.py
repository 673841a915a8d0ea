"""The figures' definitions as JSON, for the browser engine of the static site.

The Python figures are the one definition of every figure parameter (its key, label, range and
step, kind), the limits and the texts the engine must reproduce; the static site carries this
JSON so the engine (web-assets/engine/) reads them instead of restating them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ctsite.figures import FIGURES, effects, pairwise
from ctsite.figures.params import GENE_QUERY_MAX, GENE_RESULTS, MAX_GENES
from ctsite.store import format as fmt

SPEC_VERSION = 1  # bumped when the JSON's shape changes (the engine checks it)


def figure_spec() -> dict[str, Any]:
    """Every figure's controls and width classes, and the shared limits, as plain JSON."""
    return {
        "spec_version": SPEC_VERSION,
        "limits": {
            "max_genes": MAX_GENES,
            "gene_results": GENE_RESULTS,
            "gene_query_max": GENE_QUERY_MAX,
        },
        "store": store_spec(),
        # the study's names a figure opens on when the compile chose none (older stores)
        "default_fallbacks": {
            "effects_seeds": list(effects.DEFAULT_SEEDS),
            "effects_cell_type": effects.DEFAULT_CELL_TYPE,
            "pairwise_cell_types": list(pairwise.PREFERRED_CELL_TYPES),
        },
        "figures": {
            name: {
                "title": spec.title,
                "controls": [asdict(control) for control in spec.controls],
                "sizes": list(spec.sizes),
            }
            for name, spec in FIGURES.items()
        },
    }


def store_spec() -> dict[str, Any]:
    """The store's file names and per-threshold column prefixes (`ctsite.store.format`), so
    the engine's store reader (web-assets/engine/store.js) spells no store path itself."""
    return {
        "genes": fmt.GENES,
        "expression": fmt.EXPRESSION,
        "interactions": fmt.INTERACTIONS,
        "conditions_dir": fmt.CONDITIONS_DIR,
        "circos": fmt.CIRCOS,
        "pairs": fmt.PAIRS,
        "condition_genes": fmt.CONDITION_GENES,
        "effect_layers": [{"column": e.column, "file": e.file} for e in fmt.EFFECT_LAYERS],
        "effect_offsets": fmt.EFFECT_OFFSETS,
        "effect_genes": fmt.EFFECT_GENES,
        "effects_circos_columns": list(fmt.EFFECTS_CIRCOS_COLUMNS),
        "effects_key": fmt.EFFECTS_KEY,
        "sig_count": fmt.SIG_COUNT,
        "deg_count": fmt.DEG_COUNT,
        "sig_min_count": fmt.SIG_MIN_COUNT,
    }

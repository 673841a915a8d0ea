"""The figures' definitions as JSON, for the browser engine of the static site.

The Python figures are the one definition of every figure parameter (its key, label, range and
step, kind), the limits and the texts the engine must reproduce; the static site carries this
JSON so the engine (web-assets/engine/) reads them instead of restating them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ctsite.figures import FIGURES
from ctsite.figures.params import MAX_GENES

SPEC_VERSION = 1  # bumped when the JSON's shape changes (the engine checks it)


def figure_spec() -> dict[str, Any]:
    """Every figure's controls and width classes, and the shared limits, as plain JSON."""
    return {
        "spec_version": SPEC_VERSION,
        "limits": {"max_genes": MAX_GENES},
        "figures": {
            name: {
                "title": spec.title,
                "controls": [asdict(control) for control in spec.controls],
                "sizes": list(spec.sizes),
            }
            for name, spec in FIGURES.items()
        },
    }

"""The figures' definitions as the browser engine reads them."""

from __future__ import annotations

import json

from ctsite.figures import FIGURES
from ctsite.figures.browser_spec import figure_spec


def test_every_control_of_every_figure_is_in_the_spec_as_json() -> None:
    spec = json.loads(json.dumps(figure_spec()))
    assert set(spec["figures"]) == set(FIGURES)
    for name, figure in FIGURES.items():
        controls = spec["figures"][name]["controls"]
        assert [c["name"] for c in controls] == [c.name for c in figure.controls]
        assert [c["label"] for c in controls] == [c.label for c in figure.controls]
        assert spec["figures"][name]["sizes"] == list(figure.sizes)


def test_the_spec_names_the_store_files_and_the_study_fallbacks() -> None:
    """The engine's store reader spells no store path and the defaults no study name: both
    come from the spec, generated from ctsite.store.format and the figure modules."""
    from ctsite.figures import effects, pairwise
    from ctsite.store import format as fmt

    spec = json.loads(json.dumps(figure_spec()))
    store = spec["store"]
    assert (store["genes"], store["circos"], store["pairs"]) == (fmt.GENES, fmt.CIRCOS, fmt.PAIRS)
    assert [e["file"] for e in store["effect_layers"]] == [e.file for e in fmt.EFFECT_LAYERS]
    assert fmt.count_column(store["sig_count"], 0.05) == "numSigI1_t05"
    fallbacks = spec["default_fallbacks"]
    assert fallbacks["effects_seeds"] == list(effects.DEFAULT_SEEDS)
    assert fallbacks["pairwise_cell_types"] == list(pairwise.PREFERRED_CELL_TYPES)

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

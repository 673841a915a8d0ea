"""The colour, geometry, fitting and label helpers on real inputs: every call the three Python
figure builders make to them while drawing the demo store (default and loosened filters,
searched genes, desktop and phone) is replayed through the engine's port and must give the same
result (for `scales_below`, which changes its arguments, the changed data and layout)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from ctsite.figures import FIGURES, colors, fit, geometry, labels, parse_params
from tests.support.canonical import plain
from tests.support.node_engine import New, compare

# (Python module, function, engine module, engine function)
HELPERS = [
    (colors, "bin_colors", "colors", "binColors"),
    (colors, "bin_index", "colors", "binIndex"),
    (colors, "colorscale", "colors", "colorscale"),
    (colors, "sample", "colors", "sample"),
    (colors, "with_alpha", "colors", "withAlpha"),
    (fit, "bottom_margin", "fit", "bottomMargin"),
    (fit, "ink_on_white", "fit", "inkOnWhite"),
    (fit, "label_margin", "fit", "labelMargin"),
    (fit, "readable_ink", "fit", "readableInk"),
    (fit, "wrap_name", "fit", "wrapName"),
    (geometry, "chord_curves", "geometry", "chordCurves"),
    (geometry, "column_positions", "geometry", "columnPositions"),
    (geometry, "scale", "geometry", "scale"),
    (geometry, "sectors", "geometry", "sectors"),
    (geometry, "shorten", "geometry", "shorten"),
    (geometry, "slot_angles", "geometry", "slotAngles"),
    (labels, "place_labels", "labels", "placeLabels"),
]
LIMIT = 2000  # calls kept per helper


def _engine_value(value: Any) -> Any:
    """A Python argument as the engine takes it (a Frame as an engine Frame, dataclasses as
    their fields, a generator's values as a list)."""
    if isinstance(value, labels.Frame):
        return New("labels.Frame", (value.x_range, value.y_range, value.width, value.height))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(value)
    if isinstance(value, list | tuple):
        return [_engine_value(v) for v in value]
    return value


def _scales_below(data: Any, layout: Any, *rest: Any) -> list[Any]:
    data, layout = copy.deepcopy(data), copy.deepcopy(layout)
    fit.scales_below(data, layout, *rest)
    return [data, layout]


@pytest.mark.slow
def test_helpers_on_the_demo_figures_inputs(demo_store, monkeypatch):
    calls: dict[str, list[tuple[Any, ...]]] = {name: [] for _, name, _, _ in HELPERS}
    calls["scales_below"] = []
    for module, name, _, _ in [*HELPERS, (fit, "scales_below", "", "")]:
        real = getattr(module, name)

        def record(*args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            if kwargs:  # keyword arguments: bind them to positions for the replay
                import inspect

                bound = inspect.signature(_real).bind(*args, **kwargs)
                bound.apply_defaults()
                args = tuple(bound.arguments.values())
                kwargs = {}
            args = tuple(list(a) if hasattr(a, "__next__") else a for a in args)
            if len(calls[_name]) < LIMIT:
                calls[_name].append(copy.deepcopy(args))
            return _real(*args)

        monkeypatch.setattr(module, name, record)
    queries = [{}, {"min_numsigi1": "0", "fdr_i": "0.25", "fdr_l": "0.25", "min_log2fc": "0"}]
    for figure in ("circos", "pairwise", "effects"):
        spec = FIGURES[figure]
        for query in queries:
            for size in ("desktop", "phone"):
                spec.build(demo_store, parse_params(spec, demo_store, {**query, "size": size}))
    monkeypatch.undo()
    # (bin_index is called on a path the demo's views do not take: the generated tests cover it)
    missing = [name for name, found in calls.items() if not found and name != "bin_index"]
    assert not missing, f"the demo figures never called {missing}"
    for module, name, engine_module, engine_name in HELPERS:
        compare(
            engine_module,
            engine_name,
            getattr(module, name),
            calls[name],
            js_args=lambda a: tuple(_engine_value(v) for v in a),
        )
    compare(
        "fit",
        "scalesBelow",
        _scales_below,
        calls["scales_below"],
        js_args=lambda a: tuple(_engine_value(v) for v in a),
        returns_args=2,
    )

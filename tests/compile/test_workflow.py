"""The compile workflow called directly (`ctsite.compile.workflow.compile_data`), as `release`
calls it: every flag of `ctsite compile` is a parameter; an unchanged input is answered from
the fingerprint without rebuilding; `force` rebuilds. Inputs are the hand-built dataset of
tests/support/datasets.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ctsite.compile.workflow import compile_data
from ctsite.config import Settings, load_settings
from ctsite.errors import ConfigError
from ctsite.store import Store
from tests.support.reporting import RecordingReporter


def settings(project: Path) -> Settings:
    return load_settings(config_file=project / "ctsite.toml", environ={})


def test_compile_then_up_to_date_then_forced(small_dataset: Callable[..., Path]) -> None:
    s = settings(small_dataset())
    reporter = RecordingReporter()
    built = compile_data(s, reporter=reporter)
    assert built.status == "built" and built.path == s.compiled_path
    assert reporter.warnings == built.warnings  # the NaNs of the hand-built DEG layers
    assert any("NaN values" in w for w in built.warnings)
    assert built.conditions == ["a", "b", "a AND b"]
    # genes: the LR pairs' L1, R1, L2, R2, B and the DEG files' g0, g1, L1, R1, B, g5
    assert (built.cell_types, built.genes) == (2, 8)
    store = Store.open(s.compiled_path)
    assert [c.name for c in store.conditions] == built.conditions
    again = compile_data(s)
    assert (again.status, again.seconds, again.created) == ("up-to-date", 0.0, built.created)
    forced = compile_data(s, force=True)
    assert forced.status == "built" and forced.seconds > 0


def test_options_override_the_configuration(small_dataset: Callable[..., Path]) -> None:
    """--condition NAME=FILE replaces a configured condition's file (here: b reads a's file)."""
    project = small_dataset()
    s = settings(project)
    compile_data(s)
    changed = compile_data(s, conditions=[f"b={project / 'deg_a.h5ad'}"])
    assert changed.status == "built"  # other inputs: not up to date
    with pytest.raises(ConfigError, match="expected NAME=FILE") as info:
        compile_data(s, conditions=["no-equals-sign"])
    hint = info.value.hint or ""
    assert hint.startswith("e.g. --condition ")  # (no hint would have no CIN in it either)
    assert "CIN" not in hint  # an example of its own, not the CIN study's

"""The missing-component rule of the test suite: skip on a developer machine, fail under CI."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Failed, Skipped

from tests.support.components import require_module, unavailable


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_a_missing_component_fails_under_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(Failed, match="test component missing under CI: npm is not installed"):
        unavailable("npm is not installed")
    with pytest.raises(Failed, match="no_such_module_xyz cannot be imported"):
        require_module("no_such_module_xyz", "pip install it")


@pytest.mark.parametrize("value", [None, "", "false"])
def test_a_missing_component_skips_elsewhere(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(Skipped, match="npm is not installed"):
        unavailable("npm is not installed")
    assert require_module("json", "stdlib").dumps([]) == "[]"

"""The precomputed default views (`ctsite.figures.precomputed`): the `ctsite figures` workflow
called directly on a freshly compiled tiny store, and the file layout the web reads them by.
That the web serves these files byte for byte is tests/web/test_cli.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ctsite.figures import FIGURES
from ctsite.figures.precomputed import (
    INDEX,
    canonical_key,
    picture_path,
    precompute_figures,
    precomputed_path,
    read_index,
    read_view,
)
from ctsite.store import Store
from tests.support.reporting import RecordingReporter


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A tiny store of this test's own (the workflow writes into it)."""
    from tests.figures.conftest import compile_config, write_tiny

    return compile_config(write_tiny(tmp_path))


def expected_views(store: Store) -> set[tuple[str, str]]:
    """(figure, condition) of every default view: each figure for each condition it accepts."""
    views = set()
    for name, spec in FIGURES.items():
        control = next(c for c in spec.controls if c.kind == "condition")
        for condition in store.conditions:
            if control.single_condition_only and condition.kind != "single":
                continue
            views.add((name, condition.name))
    return views


def test_precompute_figures_writes_and_reports_every_default_view(store_path: Path) -> None:
    store = Store.open(store_path)
    reporter = RecordingReporter()
    result = precompute_figures(store_path, reporter=reporter)
    assert result.directory == store.figure_cache_dir()
    assert {(f.figure, f.condition) for f in result.figures} == expected_views(store)
    files = sorted(result.directory.glob("*.json"))
    assert len(files) == len(result.figures) == len(reporter.infos)
    assert sorted(f.bytes for f in result.figures) == sorted(p.stat().st_size for p in files)
    assert sorted(read_index(result.directory)) == sorted(
        [p.name for p in files] + [picture_path(p).name for p in files]
    )
    checked = subprocess.run(  # the index is sha256sum's own format
        ["sha256sum", "--check", "--strict", INDEX], cwd=result.directory, capture_output=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for path in files:
        document = json.loads(path.read_bytes())
        assert document["fingerprint"] == store.fingerprint
        view = read_view(path)
        assert view is not None and view.body == path.read_bytes()
        assert view.picture == picture_path(path).read_text()
    assert not list(result.directory.glob("*.tmp"))


def test_a_second_run_replaces_views_it_did_not_write(store_path: Path) -> None:
    first = precompute_figures(store_path)
    stale = first.directory / "circos-c1-0000.json"
    stale.write_text("{}")
    picture_path(stale).write_text("<svg/>")
    again = precompute_figures(store_path)
    assert len(again.figures) == len(first.figures)
    assert not stale.exists() and not picture_path(stale).exists()


def test_the_layout_names_version_fingerprint_and_parameters(tmp_path: Path) -> None:
    """A view is found only by the ctsite version, store fingerprint and parameters it was
    drawn for: a stale or different view is never read."""
    key = canonical_key({"condition": "a", "threshold": 0.25})
    assert key == canonical_key({"threshold": 0.25, "condition": "a"})
    path = precomputed_path(tmp_path, "circos", "c1", "fp1", key)
    assert path.parent == tmp_path and path.name.startswith("circos-c1-")
    assert path == precomputed_path(tmp_path, "circos", "c1", "fp1", key)
    others = {
        precomputed_path(tmp_path, "circos", "c1", "fp2", key),
        precomputed_path(tmp_path, "circos", "c1", "fp1", canonical_key({"condition": "b"})),
        precomputed_path(tmp_path, "circos", "c2", "fp1", key),
    }
    assert path not in others and len(others) == 3


def test_a_view_is_read_only_with_the_bytes_the_index_recorded(store_path: Path) -> None:
    """Absent, unrecorded, cut or changed (same size) views are misses; a damaged picture
    alone is redrawn (None) while its verified document is still used; no index: all misses."""
    result = precompute_figures(store_path)
    path = next(p for p in result.directory.glob("circos-*.json"))
    assert read_view(result.directory / "circos-c9-none.json") is None
    good = read_view(path)
    assert good is not None and good.picture is not None
    svg = picture_path(path)
    svg.write_bytes(svg.read_bytes().replace(b"<svg", b"<svG", 1))
    view = read_view(path)
    assert view is not None and view.body == good.body and view.picture is None
    data = path.read_bytes()
    path.write_bytes(data[:-1] + (b"]" if data[-1:] != b"]" else b"}"))  # same size, changed
    assert read_view(path) is None
    path.write_bytes(data[: len(data) // 2])
    assert read_view(path) is None
    path.write_bytes(data)
    assert read_view(path) is not None
    (result.directory / INDEX).write_text("not an index")
    assert read_view(path) is None

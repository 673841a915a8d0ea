"""Fixtures of the browser-engine tests: compiled stores and their static-site data folders.

Three stores: the demo, the tiny hand-made store of the figure tests (NaN cells, a combined
condition, boundary values) and study-scale synthetic data (`benchmarks/bench_compile.py`'s
generator with the real mouse ligand–receptor list, fewer cells and genes so it compiles in
seconds). Each comes with the data folder the engine reads (tests/support/engine_data.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from ctsite.store import Store
from tests.figures.conftest import compile_config, write_tiny
from tests.support.engine_data import write_engine_data


class Site(NamedTuple):
    """A compiled store and the data index the engine opens for it."""

    store: Store
    index: Path


def _site(store: Store, tmp_path_factory: pytest.TempPathFactory, name: str) -> Site:
    return Site(store, write_engine_data(store, tmp_path_factory.mktemp(f"{name}-site")))


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    from ctsite.compile.demo import ensure_demo_store

    store = Store.open(ensure_demo_store(tmp_path_factory.mktemp("demo")))
    return _site(store, tmp_path_factory, "demo")


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    store = Store.open(compile_config(write_tiny(tmp_path_factory.mktemp("tiny"))))
    return _site(store, tmp_path_factory, "tiny")


@pytest.fixture(scope="session")
def study_site(tmp_path_factory: pytest.TempPathFactory, real_interactions: Path) -> Site:
    from benchmarks import bench_compile

    folder = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench_compile, "SHARED_LR", real_interactions)
        config = bench_compile.generate(
            folder, n_types=11, n_targets=250, n_genes=800, n_cells=3000
        )
    return _site(Store.open(compile_config(config)), tmp_path_factory, "study")


@pytest.fixture(scope="session", params=["demo", "tiny", "study"])
def site(request: pytest.FixtureRequest) -> Site:
    """Each store in turn."""
    return request.getfixturevalue(f"{request.param}_site")


@pytest.fixture(scope="session")
def demo_store(demo_site: Site) -> Store:
    """The compiled demo store (for the real inputs the figures produce on it)."""
    return demo_site.store

"""Fixtures of the engine's conformance tests: the compiled demo store (for the real inputs the
figures produce on it)."""

from __future__ import annotations

import pytest

from ctsite.store import Store


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from ctsite.compile.demo import ensure_demo_store

    return Store.open(ensure_demo_store(tmp_path_factory.mktemp("demo")))

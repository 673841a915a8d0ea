"""Fixtures of the Python API tests: the demo inputs and their store, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.config import load_settings


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo inputs and their compiled store (`compiled/` inside the folder)."""
    from ctsite.compile.demo import ensure_demo_store

    folder = tmp_path_factory.mktemp("demo")
    ensure_demo_store(folder)
    return folder


@pytest.fixture(scope="session")
def api_store(demo_dir: Path):
    import ctsite.api as ct

    return ct.open_store(demo_dir / "compiled")


@pytest.fixture(scope="session")
def client(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A Flask test client of the website over the same store."""
    from ctsite.web.app import create_app

    settings = load_settings(root=tmp_path_factory.mktemp("root"), environ={})
    return create_app(settings, store_path=demo_dir / "compiled").test_client()

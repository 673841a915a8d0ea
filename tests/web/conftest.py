"""Fixtures of the website tests: the demo store (built once), an app over it, a test client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctsite.config import Settings, load_settings


def web_settings(root: Path, **overrides: object) -> Settings:
    """Settings that ignore the developer's environment and any ctsite.toml."""
    return load_settings(root=root, environ={}, overrides=overrides)


@pytest.fixture(scope="session")
def make_settings():
    return web_settings


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo dataset, compiled (the same thing `ctsite serve` shows first-time users)."""
    from ctsite.compile.demo import ensure_demo_store

    return ensure_demo_store(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def store(demo_store: Path):
    from ctsite.store import Store

    return Store.open(demo_store)


@pytest.fixture(scope="module")
def app(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    from ctsite.web.app import create_app

    return create_app(web_settings(tmp_path_factory.mktemp("root")), store_path=demo_store)


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def store_copy(demo_store: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the demo store (for tests that write into it)."""
    copy = tmp_path / "store"
    shutil.copytree(demo_store, copy)
    yield copy


@pytest.fixture(scope="session", autouse=True)
def private_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The login counts of the gated test sites (`$TMPDIR/ctsite-<uid>/`) go to a folder of
    this session, not the machine's temporary directory (here and in server subprocesses)."""
    import os
    import tempfile

    folder = tmp_path_factory.mktemp("tmpdir")
    saved, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env

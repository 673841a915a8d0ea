"""Fixtures of the static-site tests: the demo store (built once) and the server's own answers
over it (the Flask app's test client), which the exported files must equal."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from ctsite.config import Settings, load_settings


def plain_settings(root: Path) -> Settings:
    """Settings that ignore the developer's environment and any ctsite.toml."""
    return load_settings(root=root, environ={}, overrides={})


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo dataset, compiled (what `ctsite serve` shows first-time users)."""
    from ctsite.compile.demo import ensure_demo_store

    return ensure_demo_store(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def server_client(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """The website over the demo store, as `ctsite serve` runs it (asked in-process)."""
    from ctsite.web.app import create_app

    app = create_app(plain_settings(tmp_path_factory.mktemp("root")), store_path=demo_store)
    return app.test_client()


def without_url_line(csv: bytes) -> tuple[list[bytes], bytes]:
    """A CSV's lines but its provenance `# url:` line, and that line's value."""
    lines = csv.split(b"\n")
    url = [line for line in lines if line.startswith(b"# url: ")]
    assert len(url) == 1, csv[:400]
    return [line for line in lines if not line.startswith(b"# url: ")], url[0][len(b"# url: ") :]


@pytest.fixture(scope="session")
def study_store(tmp_path_factory: pytest.TempPathFactory, real_interactions: Path) -> Path:
    """A study-scale synthetic store (`benchmarks/bench_compile.py`'s generator with the real
    mouse ligand–receptor list; fewer cells and genes than the study, so it compiles in
    seconds): its conditions' ligand effects span dozens of row blocks."""
    from benchmarks import bench_compile
    from tests.figures.conftest import compile_config

    folder = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench_compile, "SHARED_LR", real_interactions)
        config = bench_compile.generate(
            folder, n_types=11, n_targets=250, n_genes=800, n_cells=3000
        )
    return compile_config(config)

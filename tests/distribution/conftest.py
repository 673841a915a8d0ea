"""The release artefacts of this checkout, built once per session as `scripts/release.sh` builds
them (`python -m build`: the sdist, then the wheel from it), for the tests of their contents and
for the journey of a lab that installs the wheel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ctsite import __version__
from tests.support.cli import REPO, run_python
from tests.support.components import require_module, unavailable

BUILD_SECONDS = 600  # `python -m build`: an isolated build environment, the sdist, the wheel
BUNDLE = REPO / "ctsite" / "web" / "static" / "vendor" / "plotly-partial.min.js"
ENGINE = BUNDLE.with_name("ctsite-engine.js")  # the static site's browser engine (issue 26)


@dataclass(frozen=True)
class Artefacts:
    """What `python -m build` wrote: the wheel and the sdist of this checkout's version."""

    wheel: Path
    sdist: Path


def build(source: Path, out: Path, *args: str) -> tuple[int, str]:
    """`python -m build ARGS --outdir OUT SOURCE`: its exit status and its whole output."""
    result = run_python(
        "-m", "build", *args, "--outdir", str(out), str(source), cwd=out, timeout=BUILD_SECONDS
    )
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    require_module("build", "pip install build (the test extra has it)")
    for bundle in (BUNDLE, ENGINE):
        if not bundle.is_file():
            unavailable(
                f"{bundle.name} is not built "
                "(npm ci --prefix web-assets && npm run --prefix web-assets build)"
            )
    out = tmp_path_factory.mktemp("dist")
    status, output = build(REPO, out)
    assert status == 0, output[-3000:]
    wheel = out / f"ctsite-{__version__}-py3-none-any.whl"
    sdist = out / f"ctsite-{__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in out.iterdir())
    return Artefacts(wheel=wheel, sdist=sdist)

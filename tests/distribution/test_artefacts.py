"""How a lab gets ctsite (issue 24): the wheel and the sdist `scripts/release.sh` builds carry
the version of the package, the built partial plotly.js bundle and browser engine (issue 26:
what `ctsite export-site` copies into a static site), the templates, every packaged
deployment file (dot-files included) and the provision templates; a build without either bundle
stops with one line saying how to build it; CHANGELOG.md's top released entry is this
version."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from ctsite import __version__
from ctsite.deploy import files
from tests.distribution.conftest import BUILD_SECONDS, BUNDLE, ENGINE, Artefacts, build
from tests.support.cli import REPO
from tests.support.components import require_module, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_SECONDS * 2 + 120)]

TEMPLATES = ["base.html", "error.html", "figure.html", "home.html", "login.html"]
# the dot-files and dot-folders a plain `*` glob of package data would leave out
DOT_FILES = [
    ".ebignore",
    ".dockerignore",
    ".ebextensions/01-options.config",
    ".platform/hooks/predeploy/mount-efs.sh",
    ".platform/nginx/conf.d/upload-size.conf",
]


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_carries_the_site_and_its_deployment_files(artefacts: Artefacts) -> None:
    names = wheel_names(artefacts.wheel)
    with zipfile.ZipFile(artefacts.wheel) as archive:
        bundle = archive.read("ctsite/web/static/vendor/plotly-partial.min.js")
        engine = archive.read("ctsite/web/static/vendor/ctsite-engine.js")
        metadata = archive.read(f"ctsite-{__version__}.dist-info/METADATA").decode()
        entry_points = archive.read(f"ctsite-{__version__}.dist-info/entry_points.txt").decode()
    assert bundle == BUNDLE.read_bytes()  # the bundle built here, byte for byte
    assert engine == ENGINE.read_bytes()  # the browser engine too (`export-site` copies it)
    assert HeaderParser().parsestr(metadata)["Version"] == __version__
    assert re.search(r"^ctsite = ctsite\.cli:main$", entry_points, re.M)
    assert {f"ctsite/web/templates/{n}" for n in TEMPLATES} <= names
    packaged = {f"ctsite/deploy/files/{n}" for n in files.packaged_names()}
    assert packaged <= names, sorted(packaged - names)
    assert {f"ctsite/deploy/files/{n}" for n in DOT_FILES} <= names
    assert {n for n in packaged if n.endswith("Dockerfile")}
    templates = {p.name for p in (REPO / "ctsite/deploy/provision/templates").glob("*.yaml")}
    assert {f"ctsite/deploy/provision/templates/{n}" for n in templates} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "tools/"))]


def test_the_sdist_builds_the_same_wheel(artefacts: Artefacts) -> None:
    """The wheel is built from the sdist: it holds the bundle, the build backend, the change
    log and the deployment files."""
    with tarfile.open(artefacts.sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert "ctsite/web/static/vendor/plotly-partial.min.js" in names
    assert "ctsite/web/static/vendor/ctsite-engine.js" in names
    assert {"CHANGELOG.md", "tools/ctsite_build.py", "pyproject.toml", "README.md"} <= names
    assert {f"ctsite/deploy/files/{n}" for n in DOT_FILES} <= names


def test_the_changelog_starts_with_this_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    entries = re.findall(r"^## (\S+)", text, re.M)
    # changes not yet released are listed first, under "Unreleased" (a release names them)
    released = entries[1:] if entries[:1] == ["Unreleased"] else entries
    assert released and released[0] == __version__, entries[:3]
    script = (REPO / "scripts" / "release.sh").read_text(encoding="utf-8")
    assert "CHANGELOG.md" in script and "python3 -m build" in script


def test_the_release_script_is_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        unavailable("shellcheck not installed (Debian package shellcheck)")
    script = REPO / "scripts" / "release.sh"
    result = subprocess.run(
        ["shellcheck", "--severity=style", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert script.stat().st_mode & 0o111, "scripts/release.sh is not executable"


def source_copy(tmp_path: Path) -> Path:
    """This checkout's sources without anything built (no vendor/ bundles)."""
    source = tmp_path / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "node_modules", "vendor", "data", "build", "dist", "*.egg-info",
            "__pycache__", ".*_cache", "test-artifacts", "benchmarks", "examples",
        ),
    )  # fmt: skip
    return source


def refused(source: Path, out: Path, missing: str) -> None:
    """`python -m build` of `source` (sdist then wheel, and the wheel alone) fails saying that
    `missing` is missing and how to build it, and writes nothing."""
    out.mkdir()
    for args in ((), ("--wheel",)):
        status, output = build(source, out, *args)
        assert status != 0
        assert f"{missing} is missing" in output, output[-2000:]
        assert "npm run --prefix web-assets build" in output
        assert list(out.iterdir()) == [], args


def test_no_release_without_the_bundle(tmp_path: Path) -> None:
    """A checkout whose bundle was never built: `python -m build` fails, saying how to build
    it, and writes no wheel (rather than one that silently loads the full plotly.js)."""
    require_module("build", "pip install build (the test extra has it)")
    refused(source_copy(tmp_path), tmp_path / "dist", "plotly-partial.min.js")


def test_no_release_without_the_engine(tmp_path: Path) -> None:
    """plotly.js built but not the browser engine: no wheel either (one without it would
    export static sites whose figures cannot change)."""
    require_module("build", "pip install build (the test extra has it)")
    if not BUNDLE.is_file():
        unavailable("the partial plotly.js bundle is not built (npm run --prefix web-assets build)")
    source = source_copy(tmp_path)
    vendor = source / "ctsite/web/static/vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    shutil.copy(BUNDLE, vendor / BUNDLE.name)
    refused(source, tmp_path / "dist", "ctsite-engine.js")

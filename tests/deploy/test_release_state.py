"""The build-context hash (what Docker would send, .dockerignore applied) and the state file."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from ctsite.deploy import release_state
from ctsite.errors import CtsiteError
from tests.support.reltest import write_project

EXTRA = {"platform": "linux/amd64"}


def test_context_files_match_what_docker_sends(tmp_path: Path) -> None:
    """The same file set as the Docker SDK's own build-context tarball."""
    from docker.utils.build import tar

    root = write_project(tmp_path / "p")
    (root / "ctsite" / "__pycache__").mkdir()
    (root / "ctsite" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    patterns = [
        line.strip()
        for line in (root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    with tar(str(root), exclude=patterns, dockerfile=("Dockerfile", None)) as fh:
        sent = {m.name for m in tarfile.open(fileobj=fh) if m.isfile()}
    mine = set(release_state.context_files(root))
    assert mine == sent - {"Dockerrun.aws.json"}
    assert mine == {".dockerignore", "Dockerfile", "README.md", "ctsite/app.py", "pyproject.toml"}


def test_hash_changes_with_image_inputs_only(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    first = release_state.context_hash(root, EXTRA)
    assert release_state.context_hash(root, EXTRA) == first  # stable
    # Not image inputs: data, tests, EB files, Dockerrun (rewritten by --pin), the state file.
    (root / "data" / "compiled" / "genes.feather").write_bytes(b"\x02" * 10)
    (root / ".ebextensions" / "x.config").write_text("x")
    (root / "Dockerrun.aws.json").write_text("{}")
    release_state.write_state(root, "image", {"digest": "sha256:1"})
    assert release_state.context_hash(root, EXTRA) == first
    # Image inputs: the package, the Dockerfile, the executable bit, the build settings.
    (root / "ctsite" / "app.py").write_text("print('changed')\n")
    second = release_state.context_hash(root, EXTRA)
    assert second != first
    os.chmod(root / "ctsite" / "app.py", 0o755)
    third = release_state.context_hash(root, EXTRA)
    assert third != second
    assert release_state.context_hash(root, {"platform": "linux/arm64"}) != third
    (root / "ctsite" / "new.py").write_text("")
    assert release_state.context_hash(root, EXTRA) != third


def test_missing_context_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CtsiteError, match="is not a folder"):
        release_state.context_hash(tmp_path / "nope", EXTRA)


def test_state_file_sections_atomic_and_tolerant(tmp_path: Path) -> None:
    assert release_state.read_state(tmp_path) == {}
    release_state.write_state(tmp_path, "image", {"digest": "sha256:1", "context_hash": "h"})
    release_state.write_state(tmp_path, "deploy", {"label": "v1"})
    doc = release_state.read_state(tmp_path)
    assert doc == {
        "format": 1,
        "image": {"digest": "sha256:1", "context_hash": "h"},
        "deploy": {"label": "v1"},
    }
    folder = tmp_path / ".ctsite"
    assert [p.name for p in folder.iterdir()] == ["release-state.json"]  # no temp files left
    (folder / "release-state.json").write_text("{not json")
    assert release_state.read_state(tmp_path) == {}  # unreadable: everything runs again
    (folder / "release-state.json").write_text(json.dumps({"format": 99}))
    assert release_state.read_state(tmp_path) == {}


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_state_is_a_clear_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(CtsiteError, match="cannot write the release state"):
            release_state.write_state(tmp_path, "image", {})
    finally:
        tmp_path.chmod(0o700)

"""`ctsite compile --force` repairs a damaged store: an object whose bytes no longer hash to its
name is written again (the readers' hint says to run exactly that), never kept for its size."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from ctsite.store import format as fmt
from ctsite.store import versions
from tests.support import cli


def ctsite(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ctsite ARGS` of this checkout in `root`, with no CTSITE_* variable of the caller."""
    return cli.run_ctsite(
        *args, cwd=root, env=cli.cli_env(without=("CTSITE_",), COLUMNS="200"), timeout=120
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_force_rewrites_a_same_size_damaged_object(small_dataset) -> None:
    root = small_dataset()
    built = ctsite(root, "compile", "-q", "-j", "1")
    assert built.returncode == 0, built.stderr
    objects = root / "out" / fmt.OBJECTS_DIR
    manifest = versions.current_manifest(root / "out")
    assert manifest is not None
    damaged = objects / manifest["files"][fmt.GENES]["object"]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one wrong byte, the same size
    damaged.write_bytes(bytes(data))

    refused = ctsite(root, "export", "circos")
    assert refused.returncode != 0 and "compile --force" in refused.stderr, refused.stderr

    repaired = ctsite(root, "compile", "-q", "-j", "1", "--force")
    assert repaired.returncode == 0, repaired.stderr
    for path in objects.iterdir():
        assert _sha256(path) == path.name.split(".")[0], f"{path.name} still damaged"
    exported = ctsite(root, "export", "circos")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("kind,cell_type,target,")  # (the web CSV's columns)

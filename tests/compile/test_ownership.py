"""Which folders are certainly ctsite stores: positive marks only, never a name alone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ctsite.compile import destination, leftovers
from ctsite.compile.ownership import StoreKind, foreign_in_flat, store_kind
from ctsite.errors import InputError
from ctsite.store import format as fmt
from ctsite.store import versions

MANIFEST = {
    "schema_version": 3,
    "ctsite_version": "0.4",
    "compile_key": "ab" * 32,
    "conditions": [],
}
VERSION = "v20240101T000000Z-abababab-0001"


def _write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_compiled_store_is_one(tmp_path: Path) -> None:
    _write(tmp_path, {f"versions/{VERSION}/manifest.json": json.dumps(MANIFEST)})
    assert store_kind(tmp_path) is StoreKind.VERSIONED  # a complete version, no pointer yet
    (tmp_path / fmt.POINTER).write_bytes(versions.pointer_bytes(VERSION))
    assert store_kind(tmp_path) is StoreKind.VERSIONED


def test_a_flat_store_is_one_and_its_own_files_are_named(tmp_path: Path) -> None:
    doc = {**MANIFEST, "schema_version": 1}
    _write(tmp_path, {"manifest.json": json.dumps(doc), "conditions/c1/circos.feather": "x"})
    assert store_kind(tmp_path) is StoreKind.FLAT
    assert foreign_in_flat(tmp_path) == []
    _write(tmp_path, {"notes.md": "mine", "conditions/c1/plot.pdf": "mine", "conditions/x/a": ""})
    assert foreign_in_flat(tmp_path) == ["notes.md", "conditions/c1/plot.pdf", "conditions/x"]


def test_what_a_killed_first_compile_left_is_one(tmp_path: Path) -> None:
    temp = leftovers.temp_version_name(VERSION, _dead_pid())
    _write(tmp_path, {f"versions/{temp}/genes.feather": "x", f"objects/{'c' * 64}.npy": "y"})
    assert store_kind(tmp_path) is StoreKind.UNFINISHED
    destination.check_replaceable(tmp_path)  # the next compile may take it over
    (tmp_path / "notes.md").write_text("mine")
    assert store_kind(tmp_path) is None


@pytest.mark.parametrize(
    "files",
    [
        {"manifest.json": '{"schema_version": 2}'},  # another tool's manifest
        {"manifest.json": json.dumps({**MANIFEST, "compile_key": "not hex"})},
        {"CURRENT": "MANIFEST-000042\n", "LOG": ""},  # a LevelDB folder
        {"CURRENT.next": "draft"},
        {"CURRENT": "x", f"objects/{'a' * 64}.npy": "my array"},
        {"versions/v1/notes.txt": "mine"},
        {f"versions/{VERSION}/manifest.json": '{"schema_version": 3}'},
    ],
)
def test_look_alikes_are_not_and_are_refused(tmp_path: Path, files: dict[str, str]) -> None:
    _write(tmp_path, files)
    assert store_kind(tmp_path) is None
    with pytest.raises(InputError, match="not a ctsite store"):
        destination.check_replaceable(tmp_path)

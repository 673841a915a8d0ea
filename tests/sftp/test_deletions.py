"""Every deletion rule of an upload (`ctsite.sftp.deletions`), pure: the delete scope, the tree
sync's deletions and empty folders, stale temporary files, the store's after the switch, and a
publish's combination."""

from __future__ import annotations

import pytest

from ctsite.sftp import deletions
from ctsite.sftp.client import TEMP_MARK
from ctsite.sftp.manifest import MANIFEST

V1 = "v20260101T000000Z-00000000-0001"
V2 = "v20260102T000000Z-00000000-0002"
V3 = "v20260103T000000Z-00000000-0003"
A, B, C = ("a" * 64 + ".npy", "b" * 64 + ".npy", "c" * 64 + ".npy")


@pytest.mark.parametrize(
    ("delete", "store", "scope"),
    [
        (None, "compiled", ["compiled"]),  # the default: only the store's folder
        (None, "", [""]),  # the store is the uploaded folder itself
        (None, None, []),  # the store lies outside the uploaded folder: nothing
        (True, "compiled", [""]),  # --delete: everywhere
        (True, None, [""]),
        (False, "compiled", []),  # --no-delete: nowhere
    ],
)
def test_delete_scope(delete, store, scope):
    assert deletions.delete_scope(delete, store) == scope


def test_in_scope():
    assert deletions.in_scope("compiled/x", ["compiled"])
    assert deletions.in_scope("compiled", ["compiled"])
    assert deletions.in_scope("compiled/x", ["compiled/"])
    assert not deletions.in_scope("compiled-old/x", ["compiled"])  # a prefix is not a folder
    assert deletions.in_scope("raw/x", [""]) and deletions.in_scope("raw/x", ["."])
    assert not deletions.in_scope("raw/x", [])


def test_tree_deletions_only_missing_files_in_scope_never_the_record_or_temps():
    remote = [
        "compiled/gone.bin",
        "compiled/kept.bin",
        f"compiled/new.bin{TEMP_MARK}123",
        MANIFEST,
        "raw/gone.txt",
    ]
    local = {"compiled/kept.bin"}
    assert deletions.tree_deletions(remote, local, ["compiled"]) == ["compiled/gone.bin"]
    assert deletions.tree_deletions(remote, local, [""]) == ["compiled/gone.bin", "raw/gone.txt"]
    assert deletions.tree_deletions(remote, local, []) == []


def test_stale_temps_anywhere_only_by_their_mark():
    remote = [
        f"raw/notes.txt{TEMP_MARK}1",  # outside any delete scope: still ours, still swept
        f"compiled/objects/{A}{TEMP_MARK}2",
        f"odd{TEMP_MARK}dir/kept.txt",  # the mark in a folder's name, not the file's: kept
        "compiled/kept.bin",
    ]
    assert deletions.stale_temps(remote) == [
        f"compiled/objects/{A}{TEMP_MARK}2",
        f"raw/notes.txt{TEMP_MARK}1",
    ]


def test_empty_dirs_deepest_first_inside_the_scope():
    remote_dirs = {"compiled", "compiled/old", "compiled/old/deep", "compiled/kept", "raw"}
    local = ["compiled/kept/x.bin", "top.txt"]
    gone = deletions.empty_dirs(remote_dirs, local, ["compiled"])
    assert gone == ["compiled/old/deep", "compiled/old"]  # compiled itself holds local files
    assert "raw" in deletions.empty_dirs(remote_dirs, local, [""])


def remote_store() -> list[str]:
    return [
        f"compiled/versions/{V1}/manifest.json",
        f"compiled/versions/{V1}/figures/x.json.gz",
        f"compiled/versions/{V2}/manifest.json",
        f"compiled/versions/{V3}/figures/half-sent.json.gz",  # no manifest: interrupted
        f"compiled/objects/{A}",
        f"compiled/objects/{B}",
        f"compiled/objects/{C}{TEMP_MARK}7",
        "compiled/objects/not-an-object-name",
        "compiled/CURRENT",
        "compiled/CURRENT.next",
        "compiled/.ctsite-upload.lock/owner.json",
        "compiled/genes.feather",  # the flat layout of an earlier release
        "raw/notes.txt",  # outside the store
    ]


def test_store_deletions_after_the_switch():
    present = {V1, V2}
    found = deletions.store_deletions(remote_store(), "compiled", [V1], present, {B}, True)
    assert found == [
        "compiled/genes.feather",
        f"compiled/objects/{A}",
        f"compiled/versions/{V1}/figures/x.json.gz",
        f"compiled/versions/{V1}/manifest.json",
        f"compiled/versions/{V3}/figures/half-sent.json.gz",
    ]


def test_store_leftovers_stay_outside_the_scope_and_objects_when_a_manifest_is_unreadable():
    present = {V1, V2}
    found = deletions.store_deletions(remote_store(), "compiled", [V1], present, None, False)
    assert found == [
        f"compiled/versions/{V1}/figures/x.json.gz",
        f"compiled/versions/{V1}/manifest.json",
    ]


def test_a_store_at_the_root():
    remote = ["CURRENT", f"objects/{A}", f"versions/{V1}/manifest.json", "notes.txt"]
    found = deletions.store_deletions(remote, "", [], {V1}, {A}, True)
    assert found == ["notes.txt"]  # at the root every file belongs to the store's folder


def test_a_publish_keeps_the_tree_rule_outside_the_store_only():
    tree = ["compiled/objects/" + A, "raw/gone.txt"]  # the tree rule would delete both
    in_store = [f"compiled/versions/{V1}/manifest.json"]
    assert deletions.publish_deletions(tree, "compiled", in_store) == ["raw/gone.txt", *in_store]
    assert deletions.store_inner("compiled/objects/x", "compiled") == "objects/x"
    assert deletions.store_inner("compiledx/y", "compiled") is None
    assert deletions.store_inner("a/b", "") == "a/b"

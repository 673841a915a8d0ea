"""Versioned store folders: the pointer, its atomic switch under concurrent readers (threads and
processes), the "missing pointer = keep what you have" rule, pruning, and the flat-layout
conversion."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import threading
import time
from pathlib import Path
from threading import Event

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsite.compile.build import compile_store
from ctsite.compile.dataset import parse_data_spec
from ctsite.config import load_settings
from ctsite.store import Store, versions
from ctsite.store import format as fmt
from ctsite.store.handle import StoreHandle


def compile_root(root: Path, **kwargs):
    s = load_settings(root=root, environ={})
    return compile_store(parse_data_spec(s.data, s.root), s.compiled_path, **kwargs)


@pytest.fixture
def store_root(small_dataset) -> Path:
    project = small_dataset()
    result = compile_root(project, jobs=1)
    assert result.status == "built"
    return result.path


def add_versions(root: Path, n: int) -> list[str]:
    """Copies of the current version under new ids, each with its own `created` (fingerprint)."""
    source = versions.version_path(root)
    assert source is not None
    ids = []
    for i in range(n):
        vid = versions.new_version_id("ab" * 8)
        dest = root / fmt.VERSIONS_DIR / vid
        shutil.copytree(source, dest)
        manifest = json.loads((dest / fmt.MANIFEST).read_text())
        manifest["created"] = f"copy-{i}-{vid}"
        (dest / fmt.MANIFEST).write_text(json.dumps(manifest))
        ids.append(vid)
        time.sleep(0.002)
    return ids


def test_compile_writes_a_version_and_a_pointer(store_root):
    pointer = versions.read_pointer(store_root)
    assert pointer is not None and pointer.previous is None
    assert versions.list_versions(store_root) == [pointer.version]
    store = Store.open(store_root)
    assert store.version == pointer.version and store.path.parent.name == fmt.VERSIONS_DIR
    assert store.manifest["version"] == pointer.version
    assert store.manifest[fmt.EFFECTS_KEY]["t_max"] == 0.25


def test_recompile_switches_and_prunes_keeping_current_and_previous(small_dataset):
    project = small_dataset()
    seen = []
    for _ in range(4):
        result = compile_root(project, jobs=1, force=True)
        seen.append(versions.read_pointer(result.path).version)
    root = result.path
    pointer = versions.read_pointer(root)
    assert pointer.version == seen[-1] and pointer.previous == seen[-2]
    assert versions.list_versions(root) == sorted(seen[-2:])
    assert not list((root / fmt.VERSIONS_DIR).glob(".tmp-*"))
    # keep_versions=3 keeps one more.
    result = compile_root(project, jobs=1, force=True, keep_versions=3)
    assert len(versions.list_versions(root)) == 3


def test_pointer_bytes_round_trip_and_rejects_junk():
    a, b = versions.new_version_id("0" * 64), versions.new_version_id("f" * 64)
    assert versions.parse_pointer(versions.pointer_bytes(a, b)) == versions.Pointer(a, b)
    for junk in (b"", b"{", b'{"version": "../etc"}', b"\xff", b"[]", b'{"version": 3}'):
        assert versions.parse_pointer(junk) is None
    with pytest.raises(ValueError):
        versions.pointer_bytes("../x")


def test_pointer_cannot_name_an_incomplete_version(store_root):
    from ctsite.errors import StoreError

    (store_root / fmt.VERSIONS_DIR / "v20990101T000000Z-00000000-0000").mkdir()
    before = (store_root / fmt.POINTER).read_bytes()
    with pytest.raises(StoreError):
        versions.write_pointer(store_root, "v20990101T000000Z-00000000-0000")
    assert (store_root / fmt.POINTER).read_bytes() == before


@given(
    ids=st.sets(st.integers(0, 10**6), min_size=0, max_size=12),
    current=st.integers(0, 11),
    previous=st.integers(0, 11),
    keep=st.integers(-1, 6),
)
def test_pruning_never_removes_current_or_previous(ids, current, previous, keep):
    names = sorted(f"v2026{n % 10000:04d}T{n // 10000:06d}Z-00000000-0000" for n in ids)
    if not names:
        assert versions.plan_prune([], None, keep) == []
        return
    cur = names[current % len(names)]
    prev = names[previous % len(names)] if previous % 3 else None
    pointer = versions.Pointer(cur, prev)
    doomed = versions.plan_prune(names, pointer, keep)
    assert cur not in doomed and prev not in doomed
    assert set(doomed) <= set(names)
    kept = set(names) - set(doomed)
    assert len(kept) == min(len(names), max(keep, versions.MIN_KEEP, len({cur, prev} - {None})))
    newest_first = sorted(set(names) - {cur, prev}, reverse=True)
    others_kept = kept - {cur, prev}
    assert others_kept == set(newest_first[: len(others_kept)])  # the newest others stay
    assert versions.plan_prune(names, None, keep) == []  # no pointer: never guess


def test_prune_deletes_only_old_complete_versions(store_root):
    old = add_versions(store_root, 3)
    stray = store_root / fmt.VERSIONS_DIR / "notes"
    stray.mkdir()
    temp = store_root / fmt.VERSIONS_DIR / f".tmp-{old[0]}-1"
    temp.mkdir()
    versions.switch(store_root, old[1])
    versions.switch(store_root, old[2])
    deleted = versions.prune(store_root)
    assert set(versions.list_versions(store_root)) == {old[1], old[2]}
    assert len(deleted) == 2 and stray.is_dir() and temp.is_dir()


def test_missing_pointer_keeps_what_you_have(store_root):
    handle = StoreHandle(store_root, retry_seconds=0)
    first = handle.get()
    (new,) = add_versions(store_root, 1)
    # The documented fallback: CURRENT.next written, CURRENT removed, then renamed into place.
    (store_root / fmt.POINTER_NEXT).write_bytes(versions.pointer_bytes(new, first.version))
    (store_root / fmt.POINTER).unlink()
    assert handle.get() is first  # the open version keeps serving
    assert Store.open(store_root).version == new  # a fresh reader finds the fallback
    os.rename(store_root / fmt.POINTER_NEXT, store_root / fmt.POINTER)
    assert handle.get().version == new
    # A pointer to a version that is not there (yet): keep what you have.
    (store_root / fmt.POINTER).write_bytes(
        versions.pointer_bytes("v20990101T000000Z-00000000-0000", new)
    )
    assert handle.get().version == new


def test_handle_without_any_store_explains_and_recovers(tmp_path, store_root):
    from ctsite.errors import StoreError

    empty = tmp_path / "nothing"
    handle = StoreHandle(empty, retry_seconds=0)
    with pytest.raises(StoreError, match="no compiled store"):
        handle.get()
    shutil.copytree(store_root, empty)
    assert handle.get().version == versions.read_pointer(empty).version


def _reader_loop(root: str, stop: Event, fresh: bool, ready: Event | None = None):
    """Read the store until `stop`; every read must come from one complete version."""
    handle = StoreHandle(Path(root), retry_seconds=0)
    reads = errors = 0
    seen: set[str] = set()
    while not stop.is_set():
        try:
            store = Store.open(Path(root)) if fresh else handle.get()
            manifest = json.loads((store.path / fmt.MANIFEST).read_text())
            assert manifest["created"] == store.manifest["created"]
            assert store.circos_table("a", 0.05).shape[0] > 0
            assert len(store.ligand_effects("a", "M", "R1")) == 2
            seen.add(store.version or "")
            reads += 1
            if ready is not None:
                ready.set()
        except Exception:
            errors += 1
    return reads, errors, seen


def _process_reader(root: str, stop: Event, fresh: bool, ready: Event, out: mp.Queue) -> None:
    out.put(_reader_loop(root, stop, fresh, ready))


def _switcher(root: Path, ids: list[str], seconds: float, fallback: bool) -> int:
    """Switch the pointer round the versions; every other switch uses the documented fallback."""
    stop = time.monotonic() + seconds
    n = 0
    while time.monotonic() < stop:
        vid = ids[n % len(ids)]
        if fallback and n % 2:
            (root / fmt.POINTER_NEXT).write_bytes(versions.pointer_bytes(vid))
            (root / fmt.POINTER).unlink()
            os.rename(root / fmt.POINTER_NEXT, root / fmt.POINTER)
        else:
            versions.switch(root, vid)
        n += 1
        time.sleep(0.001)
    return n


@pytest.mark.parametrize("fresh", [False, True], ids=["handle", "fresh-open"])
def test_switch_under_concurrent_reader_threads(store_root, fresh):
    ids = [versions.read_pointer(store_root).version, *add_versions(store_root, 2)]
    results: list[tuple[int, int, set[str]]] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=lambda: results.append(_reader_loop(str(store_root), stop, fresh)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    switches = _switcher(store_root, ids, 2.0, fallback=True)
    stop.set()
    for t in threads:
        t.join()
    assert switches > 10
    assert sum(r[1] for r in results) == 0, "a reader failed during a switch"
    assert sum(r[0] for r in results) > 0
    assert set().union(*(r[2] for r in results)) <= set(ids)


def test_switch_under_concurrent_reader_processes(store_root):
    ids = [versions.read_pointer(store_root).version, *add_versions(store_root, 2)]
    ctx = mp.get_context("spawn")
    out, stop = ctx.Queue(), ctx.Event()
    ready = [ctx.Event(), ctx.Event()]
    procs = [
        ctx.Process(target=_process_reader, args=(str(store_root), stop, fresh, r, out))
        for fresh, r in zip((False, True), ready, strict=True)
    ]
    for p in procs:
        p.start()
    assert all(r.wait(timeout=120) for r in ready), "the reader processes never started"
    switches = _switcher(store_root, ids, 2.5, fallback=True)
    stop.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert switches > 10
    assert all(p.exitcode == 0 for p in procs)
    assert sum(r[1] for r in results) == 0, "a reader process failed during a switch"
    assert all(r[0] > 0 for r in results)
    assert len(set().union(*(r[2] for r in results))) >= 2  # they really saw the switches


def test_flat_store_is_converted_with_a_message(small_dataset):
    project = small_dataset()
    out = project / "out"
    out.mkdir()
    legacy = {  # the keys every schema-1 compile wrote (what marks the folder as ctsite's)
        "schema_version": 1,
        "ctsite_version": "0.1",
        "compile_key": "0123abcd" * 8,
        "conditions": [],
        "thresholds": [],
    }
    (out / fmt.MANIFEST).write_text(json.dumps(legacy))
    (out / "genes.feather").write_bytes(b"old")
    (out / "conditions" / "c1").mkdir(parents=True)
    (out / "conditions" / "c1" / "log2FC.npy").write_bytes(b"old dense copy")
    from ctsite.errors import StoreError

    with pytest.raises(StoreError, match="schema 1"):
        Store.open(out)
    result = compile_root(project, jobs=1)
    assert result.status == "built"
    assert any("converted" in w and "flat layout" in w for w in result.warnings)
    assert sorted(p.name for p in out.iterdir()) == [fmt.POINTER, fmt.OBJECTS_DIR, fmt.VERSIONS_DIR]
    assert Store.open(out).ligand_effects("a", "M", "R1").shape[0] == 2
    assert not list(project.glob(".out.tmp-*")) and not list(project.glob(".out.old-*"))


# ---------------------------------------------------------------- shared objects (schema 3)


def objects(root: Path) -> set[str]:
    return {p.name for p in (root / fmt.OBJECTS_DIR).iterdir()}


def test_versions_share_their_unchanged_files_as_objects(small_dataset):
    project = small_dataset()
    first = compile_root(project, jobs=1)
    root = first.path
    names = versions.objects_of(first.manifest)
    assert names == objects(root)  # identical files (within a version too) are one object
    assert len(names) <= len(versions.file_map(first.manifest))
    for rel, entry in versions.file_map(first.manifest).items():  # named by their content
        path = root / fmt.OBJECTS_DIR / entry["object"]
        assert (
            entry["object"].startswith(versions.digest(path))
            and path.stat().st_size == entry["size"]
        ), rel
    version_dir = versions.version_path(root)
    assert sorted(p.name for p in version_dir.iterdir()) == [fmt.MANIFEST]  # no copies
    second = compile_root(project, jobs=1, force=True)  # same inputs: the very same objects
    assert versions.objects_of(second.manifest) == names and objects(root) == names
    assert len(versions.list_versions(root)) == 2


def test_prune_sweeps_the_objects_only_pruned_versions_named(store_root):
    old = add_versions(store_root, 3)
    extra = "e" * 64 + ".npy"
    (store_root / fmt.OBJECTS_DIR / extra).write_bytes(b"only in the oldest copy")
    path = store_root / fmt.VERSIONS_DIR / old[0] / fmt.MANIFEST
    doc = json.loads(path.read_text())
    doc[fmt.FILES_KEY]["extra.npy"] = {"object": extra, "size": 23}
    path.write_text(json.dumps(doc))
    orphan = "0" * 64 + ".feather"  # a compile that died before naming its version
    (store_root / fmt.OBJECTS_DIR / orphan).write_bytes(b"x")
    unrelated = store_root / fmt.OBJECTS_DIR / "README"
    unrelated.write_text("not an object name: left alone")
    versions.switch(store_root, old[1])
    versions.switch(store_root, old[2])
    kept_before = versions.objects_of(versions.current_manifest(store_root))
    assert old[0] in versions.prune(store_root)
    assert extra not in objects(store_root) and orphan not in objects(store_root)
    assert kept_before <= objects(store_root) and unrelated.is_file()
    assert Store.open(store_root).missing_files() == []


@pytest.mark.parametrize(
    "entry",
    [
        {"../../etc/passwd": {"object": "a" * 64, "size": 1}},
        {"genes.feather": {"object": "../../etc/passwd", "size": 1}},
        {"genes.feather": {"object": "A" * 64, "size": 1}},
        {"/abs": {"object": "a" * 64, "size": 1}},
        {"genes.feather": "a" * 64},
        ["genes.feather"],
    ],
)
def test_a_manifest_cannot_point_outside_the_objects(store_root, entry):
    from ctsite.errors import StoreError

    path = versions.manifest_path(store_root)
    doc = json.loads(path.read_text())
    doc[fmt.FILES_KEY] = entry
    path.write_text(json.dumps(doc))
    versions.write_pointer(store_root, path.parent.name)  # published as such: not a mismatch
    with pytest.raises(StoreError, match="malformed manifest"):
        Store.open(store_root)


def test_a_missing_or_truncated_object_is_an_incomplete_store(store_root):
    from ctsite.errors import StoreError

    store = Store.open(store_root)
    victim = store.file(fmt.GENES)
    victim.write_bytes(victim.read_bytes()[:-1])
    with pytest.raises(StoreError, match=r"incomplete store.*genes\.feather"):
        Store.open(store_root)


def test_an_unreadable_manifest_stops_the_sweep(store_root):
    old = add_versions(store_root, 1)
    orphan = store_root / fmt.OBJECTS_DIR / ("0" * 64 + ".npy")
    orphan.write_bytes(b"named by no version")
    (store_root / fmt.VERSIONS_DIR / old[0] / fmt.MANIFEST).write_text("{not json")
    assert versions.sweep(store_root) == []  # which objects that version needs is unknown
    assert orphan.is_file()
    (store_root / fmt.VERSIONS_DIR / old[0] / fmt.MANIFEST).unlink()  # no longer a version
    assert versions.sweep(store_root) == [orphan.name]


def test_store_objects_replaces_a_damaged_object_and_keeps_an_intact_one(tmp_path: Path) -> None:
    """An object already in objects/ is kept only when its bytes hash to its name."""
    root = tmp_path / "store"
    (root / fmt.OBJECTS_DIR).mkdir(parents=True)
    first, second = root / "w1", root / "w2"
    for work in (first, second):
        work.mkdir()
        (work / "a.feather").write_bytes(b"the right bytes")
        (work / "b.npy").write_bytes(b"other bytes")
    files = versions.store_objects(root, first)
    damaged = root / fmt.OBJECTS_DIR / files["a.feather"]["object"]
    intact = root / fmt.OBJECTS_DIR / files["b.npy"]["object"]
    damaged.write_bytes(b"the wrong bytes")  # same size, other bytes
    intact_inode = intact.stat().st_ino
    assert versions.store_objects(root, second) == files
    assert damaged.read_bytes() == b"the right bytes"
    assert intact.stat().st_ino == intact_inode  # kept, ours dropped
    assert not list(second.iterdir())

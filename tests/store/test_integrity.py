"""Reading a damaged store: every object's SHA-256 checked against its name when a version is
opened, a file damaged after that is a StoreError where it is read (never a pyarrow/numpy error,
never wrong values), and the handle's cheap health check (stats only) sees the damage and a bad
pointer at once."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ctsite.compile.build import compile_store
from ctsite.compile.dataset import parse_data_spec
from ctsite.config import load_settings
from ctsite.errors import StoreError
from ctsite.store import Store, versions
from ctsite.store import format as fmt
from ctsite.store.handle import StoreHandle


@pytest.fixture
def root(small_dataset) -> Path:
    s = load_settings(root=small_dataset(), environ={})
    result = compile_store(parse_data_spec(s.data, s.root), s.compiled_path, jobs=1)
    assert result.status == "built"
    return result.path


def tamper(path: Path) -> bytes:
    """Flip one byte in place: same size, same modification time. Returns the old bytes."""
    st = path.stat()
    old = path.read_bytes()
    data = bytearray(old)
    data[len(data) // 2] ^= 0xFF
    with path.open("r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return old


def restore(path: Path, data: bytes) -> None:
    """Put the right bytes back (in place), with the old modification time."""
    st = path.stat()
    with path.open("r+b") as fh:
        fh.write(data)
        fh.truncate(len(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def reasons(handle: StoreHandle) -> list[str]:
    return [p.reason for p in handle.health().problems]


# ---------------------------------------------------------------- the check at open


@pytest.mark.parametrize("rel", [fmt.GENES, "conditions/c1/effects_fdr.npy"])
def test_a_same_size_tampered_object_is_a_store_error_naming_the_file(root, rel):
    victim = Store.open(root).file(rel)
    tamper(victim)
    with pytest.raises(StoreError) as caught:
        Store.open(root)
    assert caught.value.reason == "object-changed"
    assert rel in caught.value.message and victim.name in caught.value.message
    assert "SHA-256" in caught.value.message
    import ctsite.api as ct  # the Python API reads through the same open

    with pytest.raises(StoreError, match="SHA-256"):
        ct.open_store(root)


def test_a_missing_or_truncated_object_has_its_reason(root):
    store = Store.open(root)
    victim = store.file(fmt.INTERACTIONS)
    data = victim.read_bytes()
    victim.write_bytes(data[:-3])
    with pytest.raises(StoreError, match=r"interactions\.feather") as caught:
        Store.open(root)
    assert caught.value.reason == "object-truncated"
    victim.unlink()
    with pytest.raises(StoreError) as caught:
        Store.open(root)
    assert caught.value.reason == "object-missing"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda r: (r / fmt.POINTER).unlink(), "pointer-missing"),
        (lambda r: (r / fmt.POINTER).write_text("{not json"), "pointer-unreadable"),
        (
            lambda r: (r / fmt.POINTER).write_bytes(
                versions.pointer_bytes("v20990101T000000Z-00000000-0000")
            ),
            "version-missing",
        ),
        (lambda r: versions.manifest_path(r).write_text('{"schema_ver'), "manifest-unreadable"),
    ],
)
def test_a_store_that_cannot_be_opened_says_why(root, damage, reason):
    damage(root)
    with pytest.raises(StoreError) as caught:
        Store.open(root)
    assert caught.value.reason == reason


def test_objects_are_hashed_once_per_open_not_per_read_or_health_check(root, monkeypatch):
    from ctsite.store import integrity

    hashed: list[str] = []
    real_file, real_bytes = integrity.file_sha256, integrity._sha256

    def file_sha256(path: Path) -> tuple[str, integrity.Stamp]:
        hashed.append(path.name)
        return real_file(path)

    def sha256(data: bytes) -> str:
        hashed.append("bytes read")
        return real_bytes(data)

    monkeypatch.setattr(integrity, "file_sha256", file_sha256)
    monkeypatch.setattr(integrity, "_sha256", sha256)
    handle = StoreHandle(root, retry_seconds=0)
    store = handle.get()
    objects = {e["object"] for e in versions.file_map(store.manifest).values()}
    assert sorted(hashed) == sorted(objects)  # each object once, shared ones too
    for _ in range(50):
        assert handle.health().ok
        store.circos_table("a", 0.05)
        store.ligand_effects("a", "M", "R1")
    assert len(hashed) == len(objects)  # stats only, after the open


# ---------------------------------------------------------------- damage after the open


READS = {
    fmt.GENES: lambda s: s.genes,
    fmt.EXPRESSION: lambda s: s.expression("M", "R1"),
    fmt.INTERACTIONS: lambda s: s.lr_pairs(),
    "conditions/c1/circos.feather": lambda s: s.circos_table("a", 0.05),
    "conditions/c1/pairs.feather": lambda s: s.pairwise_table("a", 0.05),
    "conditions/c1/genes.feather": lambda s: s.ligand_effects("a", "M", "R1"),
    **{
        f"conditions/c1/{name}": (lambda s: s.ligand_effects("a", "M", "R1"))
        for name in [*(e.file for e in fmt.EFFECT_LAYERS), fmt.EFFECT_OFFSETS, fmt.EFFECT_GENES]
    },
}


@pytest.mark.parametrize("rel", list(READS))
def test_a_file_truncated_after_the_open_is_a_store_error_where_it_is_read(root, rel):
    store = Store.open(root)
    victim = store.file(rel)
    victim.write_bytes(victim.read_bytes()[:40])
    with pytest.raises(StoreError) as caught:
        READS[rel](store)
    assert caught.value.reason == "object-truncated" and rel in caught.value.message


@pytest.mark.parametrize("rel", ["conditions/c1/circos.feather", "conditions/c1/effects_fdr.npy"])
def test_a_file_changed_in_place_after_the_open_is_never_read(root, rel):
    store = Store.open(root)
    tamper(store.file(rel))
    with pytest.raises(StoreError) as caught:
        READS[rel](store)
    assert caught.value.reason == "object-changed"


def schema2(root: Path) -> Path:
    """The current version of `root` rewritten in the schema-2 layout (files in the version
    folder, no content names): nothing to check their content against."""
    path = versions.version_path(root)
    assert path is not None
    manifest = json.loads((path / fmt.MANIFEST).read_text())
    for rel, entry in manifest.pop(fmt.FILES_KEY).items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / fmt.OBJECTS_DIR / entry["object"], path / rel)
    manifest["schema_version"] = 2
    (path / fmt.MANIFEST).write_text(json.dumps(manifest))
    versions.write_pointer(root, path.name)  # as a writer publishes a version: its digest
    return path


def test_an_unparseable_file_is_a_store_error_not_a_pyarrow_or_numpy_one(root):
    path = schema2(root)
    for rel in ("conditions/c1/circos.feather", "conditions/c2/effects_offsets.npy"):
        victim = path / rel
        victim.write_bytes(victim.read_bytes()[:40])  # damaged before the open: same checks
    store = Store.open(root)
    with pytest.raises(StoreError) as caught:
        store.circos_table("a", 0.05)
    assert caught.value.reason == "object-unreadable" and "circos.feather" in str(caught.value)
    with pytest.raises(StoreError) as caught:
        store.ligand_effects("b", "M", "R1")
    assert caught.value.reason == "object-unreadable" and "effects_offsets.npy" in str(caught.value)
    assert [p.reason for p in store.problems()] == ["object-unreadable"] * 2  # also for /healthz


# ---------------------------------------------------------------- the handle's health


def test_health_sees_a_truncated_object_and_recovers_when_it_is_restored(root):
    handle = StoreHandle(root, retry_seconds=0)
    store = handle.get()
    assert handle.health().ok and handle.health().store is store
    victim = store.file("conditions/c1/effects_log2FC.npy")
    data = victim.read_bytes()
    victim.write_bytes(data[:100])
    assert reasons(handle) == ["object-truncated"]
    assert handle.health().problems[0].rel == "conditions/c1/effects_log2FC.npy"
    restore(victim, data)
    assert handle.health().ok  # the right bytes again (checked: its stat changed)
    assert handle.get() is store


def test_health_sees_a_same_size_change_the_modification_time_hides(root):
    handle = StoreHandle(root, retry_seconds=0)
    store = handle.get()
    victim = store.file(fmt.GENES)
    old = tamper(victim)
    assert reasons(handle) == ["object-changed"]
    restore(victim, old)
    assert handle.health().ok


def test_health_sees_a_changed_manifest(root):
    handle = StoreHandle(root, retry_seconds=0)
    handle.get()
    manifest = versions.manifest_path(root)
    manifest.write_text(manifest.read_text()[:50])
    assert reasons(handle) == ["manifest-changed"]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda r: (r / fmt.POINTER).unlink(), "pointer-missing"),
        (lambda r: (r / fmt.POINTER).write_text("garbage"), "pointer-unreadable"),
        (
            lambda r: (r / fmt.POINTER).write_bytes(
                versions.pointer_bytes("v20990101T000000Z-00000000-0000")
            ),
            "version-missing",
        ),
    ],
)
def test_a_bad_pointer_keeps_the_open_version_but_health_reports_it(root, damage, reason):
    handle = StoreHandle(root, retry_seconds=0)
    store = handle.get()
    damage(root)
    assert handle.get() is store  # keep what you have
    assert reasons(handle) == [reason]
    assert store.circos_table("a", 0.05).shape[0] > 0


def test_a_new_version_that_cannot_be_opened_is_reported_while_the_old_one_serves(root):
    handle = StoreHandle(root, retry_seconds=0)
    store = handle.get()
    source = versions.version_path(root)
    assert source is not None
    new = versions.new_version_id("cd" * 8)
    shutil.copytree(source, root / fmt.VERSIONS_DIR / new)
    manifest = json.loads((root / fmt.VERSIONS_DIR / new / fmt.MANIFEST).read_text())
    entry = manifest[fmt.FILES_KEY][fmt.GENES]
    bad = "0" * 64 + ".feather"  # a new object that does not match its name
    shutil.copyfile(root / fmt.OBJECTS_DIR / entry["object"], root / fmt.OBJECTS_DIR / bad)
    entry["object"] = bad
    manifest["created"] = "later"
    (root / fmt.VERSIONS_DIR / new / fmt.MANIFEST).write_text(json.dumps(manifest))
    versions.switch(root, new)
    assert handle.get() is store
    assert reasons(handle) == ["object-changed"]


# ---------------------------------------------------------------- the manifest, named by the pointer


def swap_objects_and_relabel(manifest_path: Path) -> None:
    """A careful edit no size check sees: two conditions' tables swapped, a label changed."""
    doc = json.loads(manifest_path.read_bytes())
    files = doc[fmt.FILES_KEY]
    a, b = "conditions/c1/circos.feather", "conditions/c2/circos.feather"
    files[a], files[b] = files[b], files[a]
    doc["conditions"][0]["label"] = "edited " + doc["conditions"][0]["label"]
    manifest_path.write_text(json.dumps(doc))


def test_the_pointer_records_the_manifest_digest_and_the_reader_checks_it(root):
    """A compile's pointer names its version's manifest by SHA-256; a manifest changed after
    that (objects swapped, a label edited: every object still matches its name) is a store
    error for any reader that opens it, never a figure of the wrong condition."""
    import hashlib

    pointer = versions.read_pointer(root)
    manifest = versions.manifest_path(root)
    assert pointer is not None
    assert pointer.manifest == hashlib.sha256(manifest.read_bytes()).hexdigest()
    Store.open(root)  # as compiled: opens
    swap_objects_and_relabel(manifest)
    with pytest.raises(StoreError) as caught:
        Store.open(root)
    assert caught.value.reason == "manifest-mismatch"
    assert fmt.MANIFEST in caught.value.message


def test_a_pointer_written_by_an_older_ctsite_still_opens(root):
    """Pointers without a manifest digest (ctsite before it recorded one) are read as before."""
    pointer = versions.read_pointer(root)
    assert pointer is not None
    (root / fmt.POINTER).write_bytes(
        json.dumps({"version": pointer.version, "previous": pointer.previous}).encode()
    )
    assert versions.read_pointer(root).manifest is None
    assert Store.open(root).version == pointer.version

"""An upload's publication over SFTP (`ctsite.sftp.publication`) called directly, no AWS: where
the store lies, what is sent, the plan (offline and against the remote, one rule), and
`sync_to` publishing a hand-made store to a real sshd — approved, switched, pruned — or
stopping before anything is sent when the caller refuses the plan."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import paramiko
import pytest

from ctsite.deploy.reporter import NULL
from ctsite.errors import CtsiteError
from ctsite.sftp import publication, sync
from ctsite.sftp.client import LOCK_DIR, Endpoint
from ctsite.sftp.manifest import scan_local, write_local_manifest
from ctsite.store import format as fmt
from ctsite.store import versions

V1 = "v20260101T000000Z-00000000-0001"
V2 = "v20260102T000000Z-00000000-0002"
V3 = "v20260103T000000Z-00000000-0003"


def add_version(
    data: Path, version: str, files: dict[str, bytes], store: str = "compiled"
) -> set[str]:
    """A complete store version under data/`store` (objects named by their SHA-256, its
    manifest, a precomputed figure), made current; returns its object names."""
    root = data / store
    entries = {}
    for rel, content in files.items():
        name = hashlib.sha256(content).hexdigest() + ".bin"
        (root / fmt.OBJECTS_DIR).mkdir(parents=True, exist_ok=True)
        (root / fmt.OBJECTS_DIR / name).write_bytes(content)
        entries[rel] = {"object": name, "size": len(content)}
    folder = root / fmt.VERSIONS_DIR / version
    (folder / fmt.FIGURES_DIR).mkdir(parents=True)
    (folder / fmt.FIGURES_DIR / "a.json").write_text(json.dumps({"version": version}))
    manifest = {"schema_version": fmt.SCHEMA_VERSION, fmt.FILES_KEY: entries}
    (folder / fmt.MANIFEST).write_text(json.dumps(manifest))
    old = versions.read_pointer(root)
    versions.write_pointer(root, version, old.version if old else None)
    return {e["object"] for e in entries.values()}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    (folder / "raw").mkdir(parents=True)
    (folder / "raw" / "notes.txt").write_text("outside the store\n")
    return folder


# ---------------------------------------------------------------- pure: what is published


def test_store_rel(tmp_path):
    data = tmp_path / "data"
    (data / "compiled").mkdir(parents=True)
    assert publication.store_rel(data, data / "compiled") == "compiled"
    assert publication.store_rel(data, data) == ""
    assert publication.store_rel(data, tmp_path / "elsewhere") is None
    elsewhere = tmp_path / "store"
    elsewhere.mkdir()
    (data / "linked").symlink_to(elsewhere)
    assert publication.store_rel(data, data / "linked") == "linked"  # by its path as configured


def test_publication_of_a_plain_tree_and_of_a_store(data):
    local = scan_local(data)
    assert publication.publication(data, None, local) == (local, None)
    assert publication.publication(data, "compiled", local) == (local, None)  # no store yet
    objects = add_version(data, V1, {"genes.feather": b"g" * 100})
    local = scan_local(data)
    selected, pub = publication.publication(data, "compiled", local)
    assert pub is not None and (pub.version, pub.store, set(pub.objects)) == (
        V1,
        "compiled",
        objects,
    )
    assert sorted(selected) == [
        f"compiled/objects/{next(iter(objects))}",
        f"compiled/versions/{V1}/figures/a.json",  # the manifest is written last, by the commit
        "raw/notes.txt",
    ]
    record = publication.manifest_record(local, pub)
    assert record.rel == pub.manifest_rel
    assert record.sha256 == hashlib.sha256(pub.manifest).hexdigest()


def test_an_incomplete_local_version_stops_before_anything(data):
    objects = add_version(data, V1, {"genes.feather": b"g" * 100})
    (data / "compiled" / fmt.OBJECTS_DIR / next(iter(objects))).unlink()
    with pytest.raises(CtsiteError, match=r"incomplete.*nothing was sent"):
        publication.publication(data, "compiled", scan_local(data))


def test_the_offline_plan_before_and_after_a_record(data):
    add_version(data, V1, {"genes.feather": b"g" * 100})
    first = publication.plan_offline(data, "compiled", ["compiled"], jobs=2, keep=2)
    assert first.pub is not None and first.store is not None
    assert first.store.pointer.version == V1 and first.store.old is None
    assert len(first.plan.uploads) == 3  # the object, the figure, raw/notes.txt
    assert first.read_back_files == 2  # the version's files are read back, notes.txt not
    assert first.read_back_bytes == 100 + len(json.dumps({"version": V1}))
    write_local_manifest(data, scan_local(data))  # as a successful upload records it
    again = publication.plan_offline(data, "compiled", ["compiled"], jobs=2, keep=2)
    assert (again.plan.uploads, again.plan.deletions) == ([], [])
    assert len(again.rehash) == 2  # the version's files on the remote are re-read…
    assert [f.rel for f in again.plan.checks] == [f.rel for f in again.rehash]
    trusted = publication.plan_offline(data, "compiled", ["compiled"], 2, 2, trust_remote=True)
    assert trusted.plan.checks == [] and len(trusted.rehash) == 2  # …unless trusted
    assert trusted.trust_remote and trusted.read_back_files == 0


def test_one_plan_rule_prunes_and_sweeps_only_inside_the_scope(data):
    """publish_plan: the version the switch frees is pruned with its objects; leftovers of the
    store (the flat layout) go only when the store's folder is in the delete scope."""
    old = add_version(data, V1, {"genes.feather": b"1" * 10})
    add_version(data, V2, {"genes.feather": b"2" * 10})
    new = add_version(data, V3, {"genes.feather": b"3" * 10})
    (data / "compiled" / "genes.feather").write_bytes(b"flat")  # an earlier release's layout
    write_local_manifest(data, scan_local(data))  # the remote holds everything
    local, pub = publication.publication(data, "compiled", scan_local(data))
    assert pub is not None and set(pub.objects) == new
    plan = sync.plan_offline(data, 2, ["compiled"], local)
    objects_of = publication.local_objects_of(data, pub)
    pointer = versions.Pointer(V2, V1)
    planned = publication.publish_plan(plan, pub, ["compiled"], pointer, objects_of, keep=2)
    assert planned.store is not None and planned.store.pruned == [V1]
    assert sorted(planned.plan.deletions) == sorted(
        [
            "compiled/genes.feather",
            f"compiled/objects/{next(iter(old))}",
            f"compiled/versions/{V1}/figures/a.json",
            f"compiled/versions/{V1}/manifest.json",
        ]
    )
    kept = publication.publish_plan(
        sync.plan_offline(data, 2, [], local), pub, [], pointer, objects_of, keep=2
    )
    assert "compiled/genes.feather" not in kept.plan.deletions  # outside the scope: kept
    assert objects_of("v20990101T000000Z-00000000-0000") is None  # not kept locally


# ---------------------------------------------------------------- sync_to against a real sshd


@pytest.fixture
def endpoint(sshd) -> Endpoint:
    key = paramiko.ECDSAKey.generate()
    sshd.authorize(f"{key.get_name()} {key.get_base64()}")
    return Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint)


def publish(endpoint: Endpoint, data: Path, **options):
    return publication.sync_to(
        endpoint,
        scan_local(data, lazy=True),
        data=data,
        store="compiled",
        remote_root="data",
        scope=["compiled"],
        jobs=2,
        keep=2,
        stall_timeout=30.0,
        progress=NULL,
        **options,
    )


def pointer(data: Path, version: str, previous: str | None) -> versions.Pointer:
    """The pointer a publish of `version` writes: it records the SHA-256 of the version's
    manifest (the local copy's)."""
    manifest = data / "compiled" / fmt.VERSIONS_DIR / version / fmt.MANIFEST
    return versions.Pointer(version, previous, versions.digest(manifest))


@pytest.mark.sshd
def test_sync_to_publishes_switches_and_prunes(sshd, endpoint, data):
    remote = sshd.root / "data"
    first_objects = add_version(data, V1, {"genes.feather": b"1" * 2000})
    seen: list[publication.Planned] = []
    planned, result, how = publish(endpoint, data, approve=seen.append)
    assert seen == [planned] and planned.pub is not None and planned.pub.version == V1
    assert how == "rename" and result.files_sent == 3
    assert versions.read_pointer(remote / "compiled") == pointer(data, V1, None)
    assert (remote / "raw" / "notes.txt").read_text() == "outside the store\n"
    assert not (remote / "compiled" / LOCK_DIR).exists()  # the lock is released
    add_version(data, V2, {"genes.feather": b"2" * 2000})
    publish(endpoint, data)
    assert versions.read_pointer(remote / "compiled") == pointer(data, V2, V1)
    add_version(data, V3, {"genes.feather": b"3" * 2000})
    state = publication.Publishing()
    planned, result, how = publish(endpoint, data, state=state)
    assert versions.read_pointer(remote / "compiled") == pointer(data, V3, V2)
    assert planned.store is not None and planned.store.pruned == [V1]
    assert not (remote / "compiled" / fmt.VERSIONS_DIR / V1).exists()
    assert not (remote / "compiled" / fmt.OBJECTS_DIR / next(iter(first_objects))).exists()
    assert state.commit is not None and state.commit.live
    assert state.site() == f"the site now serves version {V3}"
    _planned, again, how = publish(endpoint, data)
    assert (again.files_sent, how) == (0, "")  # nothing to send, the pointer already right


@pytest.mark.sshd
def test_a_refused_plan_stops_before_anything_is_sent(sshd, endpoint, data):
    add_version(data, V1, {"genes.feather": b"1" * 2000})

    def refuse(planned: publication.Planned) -> None:
        raise CtsiteError(f"refused: {len(planned.plan.uploads)} file(s)")

    state = publication.Publishing()
    with pytest.raises(CtsiteError, match=r"refused: 3 file\(s\)"):
        publish(endpoint, data, approve=refuse, state=state)
    remote = sshd.root / "data"
    assert not (remote / "compiled" / fmt.OBJECTS_DIR).exists()
    assert not (remote / "raw").exists()
    assert versions.read_pointer(remote / "compiled") is None
    assert state.commit is not None and not state.commit.live
    assert state.site() == "no version went live"
    assert not (remote / "compiled" / LOCK_DIR).exists()  # released on the way out

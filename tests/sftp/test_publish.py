"""The publish plan of a store version (pure): what is sent, what the switch frees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsite.errors import CtsiteError
from ctsite.sftp import publish
from ctsite.sftp.manifest import LocalFile
from ctsite.store import versions


def vid(n: int) -> str:
    return f"v2026{n % 10000:04d}T{n // 10000:06d}Z-00000000-0000"


def obj(n: int) -> str:
    return f"{n:064x}.npy"


def pub(version: str, objects: set[str], store: str = "compiled") -> publish.LocalVersion:
    return publish.LocalVersion(store, version, b"{}", frozenset(objects))


def remote_of(layout: dict[str, set[str]], store: str = "compiled") -> dict[str, int]:
    """Remote files of versions → their objects (each version: a manifest and a figure)."""
    files = {}
    for version, names in layout.items():
        files[f"{store}/versions/{version}/manifest.json"] = 10
        files[f"{store}/versions/{version}/figures/a.json.gz"] = 5
        files |= {f"{store}/objects/{name}": 7 for name in names}
    return files


def test_select_local_sends_only_the_current_version():
    local = {
        rel: LocalFile(rel, 1, "")
        for rel in [
            "compiled/CURRENT",
            f"compiled/versions/{vid(2)}/manifest.json",
            f"compiled/versions/{vid(2)}/figures/x.json.gz",
            f"compiled/versions/{vid(1)}/manifest.json",
            f"compiled/objects/{obj(1)}",
            f"compiled/objects/{obj(2)}",
            "raw/notes.txt",
        ]
    }
    chosen = publish.select_local(local, pub(vid(2), {obj(2)}))
    assert sorted(chosen) == [
        f"compiled/objects/{obj(2)}",
        f"compiled/versions/{vid(2)}/figures/x.json.gz",
        "raw/notes.txt",
    ]
    assert chosen[f"compiled/objects/{obj(2)}"].sha256 == obj(2)[:64]  # the name is the digest
    with pytest.raises(CtsiteError, match=r"incomplete.*nothing was sent"):
        publish.select_local(local, pub(vid(2), {obj(2), obj(3)}))


def test_plan_keeps_current_and_previous_and_sweeps_the_rest():
    layout = {vid(1): {obj(1), obj(9)}, vid(2): {obj(2), obj(9)}, vid(3): {obj(3)}}
    remote = remote_of(layout) | {
        "compiled/CURRENT": 80,
        "compiled/manifest.json": 3,  # the flat layout of an earlier release
        "compiled/conditions/c1/circos.feather": 3,
        f"compiled/versions/{vid(5)}/figures/b.json.gz": 4,  # an interrupted upload's folder
        f"compiled/objects/.{obj(4)}.ctsite-part-abc": 4,  # a temp file: the sync sweeps it
        "other/file.txt": 1,
    }
    new = pub(vid(4), {obj(9), obj(4)})
    plan = publish.plan_store(new, remote, versions.Pointer(vid(3), vid(2)), lambda v: layout[v])
    assert plan.pointer == versions.Pointer(vid(4), vid(3), new.manifest_digest) and plan.switches
    assert plan.pruned == [vid(1), vid(2)]
    assert set(plan.deletions) == {
        f"compiled/versions/{vid(1)}/manifest.json",
        f"compiled/versions/{vid(1)}/figures/a.json.gz",
        f"compiled/versions/{vid(2)}/manifest.json",
        f"compiled/versions/{vid(2)}/figures/a.json.gz",
        f"compiled/objects/{obj(1)}",
        f"compiled/objects/{obj(2)}",
        "compiled/manifest.json",
        "compiled/conditions/c1/circos.feather",
        f"compiled/versions/{vid(5)}/figures/b.json.gz",
    }
    kept = publish.plan_store(
        pub(vid(4), {obj(4)}),
        remote,
        versions.Pointer(vid(3), vid(2)),
        lambda v: layout[v],
        delete_leftovers=False,  # the store outside the delete scope: only pruned versions
    )
    assert "compiled/manifest.json" not in kept.deletions
    assert f"compiled/versions/{vid(5)}/figures/b.json.gz" not in kept.deletions


def test_an_unreadable_kept_manifest_means_no_object_is_deleted():
    layout = {vid(1): {obj(1)}, vid(2): {obj(2)}}
    plan = publish.plan_store(
        pub(vid(3), {obj(3)}), remote_of(layout), versions.Pointer(vid(2), vid(1)), lambda v: None
    )
    assert plan.unknown_objects and plan.pruned == [vid(1)]
    assert not any("/objects/" in d for d in plan.deletions)


def test_republishing_the_current_version_changes_nothing():
    layout = {vid(1): {obj(1)}, vid(2): {obj(2)}}
    same = pub(vid(2), {obj(2)})
    plan = publish.plan_store(same, remote_of(layout), versions.Pointer(vid(2), vid(1)), layout.get)
    assert not plan.switches
    assert plan.pointer == versions.Pointer(vid(2), vid(1), same.manifest_digest)
    assert plan.deletions == [] and plan.pruned == []


def test_objects_the_remote_has_are_not_sent_again():
    p = pub(vid(2), {obj(1), obj(2)})
    uploads = [LocalFile(f"compiled/objects/{obj(1)}", 7, obj(1)[:64])]
    uploads += [LocalFile(f"compiled/objects/{obj(2)}", 7, obj(2)[:64])]
    uploads += [LocalFile("compiled/versions/x/figures/a", 7, "f" * 64)]
    remote = {f"compiled/objects/{obj(1)}": 7, f"compiled/objects/{obj(2)}": 3}  # 2: truncated
    kept = publish.trust_objects(uploads, remote, p)
    assert [f.rel for f in kept] == [uploads[1].rel, uploads[2].rel]


@given(
    layout=st.dictionaries(
        st.integers(0, 40), st.sets(st.integers(0, 30), max_size=5), min_size=1, max_size=8
    ),
    current=st.integers(0, 40),
    new_objects=st.sets(st.integers(0, 30), max_size=5),
    keep=st.integers(1, 5),
)
def test_the_plan_never_frees_what_the_live_or_new_version_needs(
    layout, current, new_objects, keep
):
    names = {vid(k): {obj(n) for n in v} for k, v in layout.items()}
    ordered = sorted(names)
    live = ordered[current % len(ordered)]
    old = versions.Pointer(live, ordered[0] if ordered[0] != live else None)
    new = vid(41)
    published = pub(new, {obj(n) for n in new_objects})
    plan = publish.plan_store(published, remote_of(names), old, names.get, keep)
    assert plan.pointer == versions.Pointer(new, live, published.manifest_digest)
    assert live not in plan.pruned and new not in plan.pruned
    needed = names[live] | {obj(n) for n in new_objects}
    freed = {d.rsplit("/", 1)[1] for d in plan.deletions if "/objects/" in d}
    assert not (freed & needed)
    assert not any(f"/versions/{live}/" in d for d in plan.deletions)
    kept = set(names) - set(plan.pruned)
    for version in kept:  # every kept version stays complete
        assert not (freed & names[version])


def test_the_versions_files_already_on_the_remote_are_rechecked_and_only_they():
    from ctsite.sftp.plan import make_plan

    p = pub(vid(2), {obj(1), obj(2)})
    local = {
        f.rel: f
        for f in [
            LocalFile(f"compiled/objects/{obj(1)}", 7, obj(1)[:64]),  # on the remote already
            LocalFile(f"compiled/objects/{obj(2)}", 7, obj(2)[:64]),  # new: sent
            LocalFile(f"compiled/versions/{vid(2)}/figures/a.json", 5, "a" * 64),  # unchanged
            LocalFile("raw/notes.txt", 3, "b" * 64),  # outside the store
        ]
    }
    remote = {f"compiled/objects/{obj(1)}": 7, f"compiled/versions/{vid(2)}/figures/a.json": 5}
    remote["raw/notes.txt"] = 3
    manifest = {rel: {"size": f.size, "sha256": f.sha256} for rel, f in local.items()}
    del manifest[f"compiled/objects/{obj(2)}"]
    plan = make_plan(local, remote, set(), manifest, ["compiled"])
    store = publish.plan_store(p, remote, versions.Pointer(vid(1)), lambda v: set())
    applied = publish.apply(plan, store, p)
    assert [f.rel for f in applied.uploads] == [f"compiled/objects/{obj(2)}"]
    assert [f.rel for f in applied.checks] == [
        f"compiled/objects/{obj(1)}",
        f"compiled/versions/{vid(2)}/figures/a.json",
    ]
    rule = publish.read_back_rule(p)
    assert rule(f"compiled/objects/{obj(2)}") and not rule("raw/notes.txt")
    assert not publish.read_back_rule(None)(f"compiled/objects/{obj(2)}")

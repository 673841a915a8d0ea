"""`publish_site`: an exported site into its S3 bucket on moto's server, the pages invalidated on
moto's CloudFront — every object with its headers read back, nothing sent twice, an update of one
condition sending only that condition's files, old files deleted only a generation later, and
bad input refused in one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ctsite.deploy.static_site import objects as policy
from ctsite.deploy.static_site.publish_site import PublishResult, publish_site
from ctsite.deploy.static_site.record import KEY as RECORD
from ctsite.errors import CtsiteError
from tests.deploy.static_site.conftest import TwoVersions
from tests.support.static_bucket import bucket_objects, decoded, missing_names


def publish(clients: Any, hosting: tuple[str, str], site: Path, **options: Any) -> PublishResult:
    bucket, distribution = hosting
    return publish_site(bucket, distribution, clients, site=site, **options)


def invalidated(clients: Any, distribution: str) -> dict[str, list[str]]:
    """The paths of every invalidation of the distribution, by its id."""
    cloudfront = clients("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    found = {}
    for item in listed.get("Items", []):
        got = cloudfront.get_invalidation(DistributionId=distribution, Id=item["Id"])
        found[item["Id"]] = got["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    return found


def site_keys(site: Path) -> set[str]:
    return {f.key for f in policy.site_files(site)}


def test_every_file_is_stored_with_its_headers(moto_clients, hosting, demo_export):
    bucket, distribution = hosting
    result = publish(moto_clients, hosting, demo_export)
    keys = site_keys(demo_export)
    assert result.sent == len(keys) == len(result.plan.uploads) and result.verified == result.sent
    assert result.url and result.url.endswith(".cloudfront.net/")
    # hashed files first, then the index, the fixed-name files, the pages last
    kinds = [u.kind for u in result.plan.uploads]
    assert kinds == sorted(kinds, key=["hashed", "index", "mutable", "page"].index)
    assert kinds[-5:] == ["page"] * 5
    stored = bucket_objects(moto_clients("s3"), bucket)
    assert set(stored) == keys | {RECORD}
    expected_types = {
        ".html": "text/html; charset=utf-8",
        ".js": "application/javascript",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
        ".json": "application/json",
        ".arrow": "application/vnd.apache.arrow.file",
        ".npy": "application/octet-stream",
        ".csv": "text/csv; charset=utf-8",
    }
    seen = set()
    for key in keys:
        got = stored[key]
        local = (demo_export / key).read_bytes()
        suffix = Path(key).suffix
        seen.add(suffix)
        if suffix in expected_types:
            assert got.content_type == expected_types[suffix], key
        hashed = key.startswith(("static/", "pictures/", "data/"))
        assert got.cache_control == (
            "public, max-age=31536000, immutable"
            if hashed
            else "public, max-age=60, must-revalidate"
        ), key
        assert got.metadata["sha256"] == hashlib.sha256(local).hexdigest()
        assert decoded(got) == local, key
        # the CDN compresses the text types; what it cannot (Arrow, .npy) is stored gzipped
        if suffix in (".arrow", ".npy") and len(got.body) < len(local):
            assert got.content_encoding == "gzip", key
        else:
            assert got.content_encoding == "" and got.body == local, key
    assert {".html", ".js", ".css", ".svg", ".json", ".arrow", ".npy", ".csv"} <= seen
    assert any(stored[k].content_encoding == "gzip" for k in keys if k.endswith(".arrow"))
    assert missing_names(stored) == []
    # one invalidation, of the pages only
    assert list(invalidated(moto_clients, distribution)) == [result.invalidation]
    paths = invalidated(moto_clients, distribution)[result.invalidation]
    assert sorted(paths) == ["/", "/404.html", "/circos*", "/effects*", "/index.html", "/pairwise*"]


def test_a_second_publish_sends_nothing(moto_clients, hosting, demo_export):
    bucket, distribution = hosting
    publish(moto_clients, hosting, demo_export)
    s3 = moto_clients("s3")
    before = {
        o["Key"]: (o["ETag"], o["LastModified"])
        for o in s3.list_objects_v2(Bucket=bucket)["Contents"]
    }
    again = publish(moto_clients, hosting, demo_export)
    assert again.plan.empty and again.sent == 0 and again.plan.uploads == ()
    assert again.plan.unchanged == len(site_keys(demo_export)) and again.invalidation is None
    after = {
        o["Key"]: (o["ETag"], o["LastModified"])
        for o in s3.list_objects_v2(Bucket=bucket)["Contents"]
    }
    assert after == before
    assert len(invalidated(moto_clients, distribution)) == 1


def test_a_dry_run_plans_and_writes_nothing(moto_clients, hosting, demo_export):
    bucket, distribution = hosting
    plan = publish(moto_clients, hosting, demo_export, dry_run=True).plan
    assert len(plan.uploads) == len(site_keys(demo_export)) and plan.upload_bytes > 0
    assert "/" in plan.invalidations and not any("data" in p for p in plan.invalidations)
    assert moto_clients("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert invalidated(moto_clients, distribution) == {}


def test_a_changed_page_is_sent_again(moto_clients, hosting, demo_export, tmp_path):
    publish(moto_clients, hosting, demo_export)
    site = tmp_path / "site"
    shutil.copytree(demo_export, site)
    page = site / "circos" / "index.html"
    page.write_text(page.read_text() + "<!-- changed -->\n")
    result = publish(moto_clients, hosting, site)
    assert [(u.key, u.reason) for u in result.plan.uploads] == [("circos/index.html", "changed")]
    assert result.plan.invalidations == ("/circos*",)
    assert invalidated(moto_clients, hosting[1])[result.invalidation] == ["/circos*"]


def data_names(site: Path) -> dict[str, str]:
    """The exported store files: store path → data/ key — with each column projection
    (`<path>#<columns>`), each condition's effects block list (`conditions/<id>/effects_rows`)
    and each of its blocks (`conditions/<id>/effects_rows/<name>`)."""
    index = json.loads(next((site / "data").glob("store.*.json")).read_text())
    names = {rel: f"data/{name}" for rel, name in index["files"].items()}
    for rel, projections in index["projections"].items():
        for projection in projections:
            names[f"{rel}#{','.join(projection['columns'])}"] = f"data/{projection['file']}"
    for cond, listing in index["effects_rows"].items():
        names[f"conditions/{cond}/effects_rows"] = f"data/{listing}"
        for block in json.loads((site / "data" / listing).read_text())["blocks"]:
            names[f"conditions/{cond}/effects_rows/{block['file']}"] = f"data/{block['file']}"
    return names


def conditions(site: Path) -> list[dict[str, Any]]:
    """The exported store's conditions (id, name, kind, …)."""
    index = next((site / "data").glob("store.*.json"))
    return list(json.loads(index.read_text())["manifest"]["conditions"])


def test_one_condition_changed_sends_only_its_files(
    moto_clients, hosting, two_versions: TwoVersions
):
    bucket, _distribution = hosting
    first = publish(moto_clients, hosting, two_versions.first)
    assert first.sent == len(site_keys(two_versions.first))
    second = publish(moto_clients, hosting, two_versions.second)
    old, new = data_names(two_versions.first), data_names(two_versions.second)
    changed_rels = {rel for rel in new if old.get(rel) != new[rel]}
    sent = {u.key for u in second.plan.uploads}
    sent_data = {k for k in sent if k.startswith("data/") and not k.startswith("data/store.")}
    assert sent_data == {new[rel] for rel in changed_rels} and sent_data
    # those are the changed condition's files (and its combination's), nothing shared
    listed = conditions(two_versions.second)
    changed_id = next(c["id"] for c in listed if c["name"] == two_versions.changed)
    combined = {c["id"] for c in listed if c["kind"] == "combined"}
    touched = {rel.split("/")[1] for rel in changed_rels}
    assert all(rel.startswith("conditions/") for rel in changed_rels), changed_rels
    assert changed_id in touched and touched <= {changed_id} | combined
    # + the index, the pages and the default views' downloads and pictures; no script or style
    assert {u.kind for u in second.plan.uploads} == {"hashed", "index", "mutable", "page"}
    assert not any(k.startswith("static/") for k in sent)
    others = sent - sent_data
    assert all(
        k.startswith(("data/store.", "downloads/", "pictures/")) or k.endswith(".html")
        for k in others
    ), others
    # the first version's files stay a generation (a reader mid-visit still loads them)
    stored = bucket_objects(moto_clients("s3"), bucket)
    assert set(old.values()) <= set(stored)
    assert missing_names(stored) == []
    # a third publish (the first version again) deletes none of what the second's pages name
    third = publish(moto_clients, hosting, two_versions.first)
    stored = bucket_objects(moto_clients("s3"), bucket)
    assert set(new.values()) <= set(stored) and missing_names(stored) == []
    assert third.deleted == len(third.plan.deletions)


def test_old_files_are_deleted_a_generation_later(moto_clients, hosting, two_versions, tmp_path):
    bucket, _ = hosting
    third_site = tmp_path / "third"
    shutil.copytree(two_versions.second, third_site)
    extra = third_site / "static" / "extra.0123456789abcdef.js"
    extra.write_text("// a third generation's own script\n")
    page = third_site / "index.html"
    page.write_text(page.read_text() + '<script src="static/extra.0123456789abcdef.js"></script>\n')
    publish(moto_clients, hosting, two_versions.first)
    publish(moto_clients, hosting, two_versions.second)
    only_first = site_keys(two_versions.first) - site_keys(two_versions.second)
    assert only_first and only_first <= set(bucket_objects(moto_clients("s3"), bucket))
    third = publish(moto_clients, hosting, third_site)
    stored = bucket_objects(moto_clients("s3"), bucket)
    assert set(third.plan.deletions) == only_first - site_keys(third_site)
    assert not (only_first - site_keys(third_site)) & set(stored)
    assert site_keys(two_versions.second) | site_keys(third_site) <= set(stored)
    assert missing_names(stored) == []
    record = json.loads(stored[RECORD].body)
    assert record["pending"] == [] and record["retired"] == []


def test_objects_ctsite_did_not_put_there_are_left_alone(moto_clients, hosting, two_versions):
    bucket, _ = hosting
    moto_clients("s3").put_object(Bucket=bucket, Key="data/theirs.0123456789abcdef.txt", Body=b"x")
    for site in (two_versions.first, two_versions.second, two_versions.first):
        result = publish(moto_clients, hosting, site)
    assert result.plan.foreign == 1
    assert "data/theirs.0123456789abcdef.txt" in bucket_objects(moto_clients("s3"), bucket)


def test_an_object_ctsite_did_not_put_there_is_never_replaced(moto_clients, hosting, demo_export):
    """A bucket that already holds a page of someone else's (a hand-made site, another tool's
    upload) under a name the export uses: the publish refuses, and overwrites nothing."""
    bucket, _ = hosting
    s3 = moto_clients("s3")
    theirs = b"<p>the lab's old hand-made page</p>"
    s3.put_object(Bucket=bucket, Key="index.html", Body=theirs, ContentType="text/html")
    for dry_run in (True, False):
        with pytest.raises(CtsiteError, match=r"1 object\(s\) ctsite did not put there") as err:
            publish(moto_clients, hosting, demo_export, dry_run=dry_run)
        assert "(index.html)" in err.value.message and "would overwrite" in err.value.message
    stored = bucket_objects(s3, bucket)
    assert set(stored) == {"index.html"} and stored["index.html"].body == theirs


def test_its_own_objects_are_replaced_without_the_record(
    moto_clients, hosting, demo_export, tmp_path
):
    """ctsite's objects carry their SHA-256 (metadata): a bucket whose record was lost is
    published to again, not refused."""
    bucket, _ = hosting
    publish(moto_clients, hosting, demo_export)
    moto_clients("s3").delete_object(Bucket=bucket, Key=RECORD)
    site = tmp_path / "site"
    shutil.copytree(demo_export, site)
    page = site / "circos" / "index.html"
    page.write_text(page.read_text() + "<!-- changed -->\n")
    result = publish(moto_clients, hosting, site)
    assert [(u.key, u.reason) for u in result.plan.uploads] == [("circos/index.html", "changed")]
    assert decoded(bucket_objects(moto_clients("s3"), bucket)["circos/index.html"]).endswith(
        b"<!-- changed -->\n"
    )


def test_bad_input_is_one_clear_line(moto_clients, hosting, demo_export, tmp_path):
    bucket, distribution = hosting
    with pytest.raises(CtsiteError, match=r"\[static\] bucket is not set"):
        publish_site("", distribution, moto_clients, site=demo_export)
    with pytest.raises(CtsiteError, match="the bucket no-such-bucket-here does not exist"):
        publish_site("no-such-bucket-here", distribution, moto_clients, site=demo_export)
    with pytest.raises(CtsiteError, match="is not an export of the site"):
        publish_site(bucket, distribution, moto_clients, site=tmp_path)
    with pytest.raises(CtsiteError, match="is not a folder"):
        publish_site(bucket, distribution, moto_clients, site=tmp_path / "nothing")
    with pytest.raises(CtsiteError, match="distribution E0NOSUCH does not exist"):
        publish_site(bucket, "E0NOSUCH", moto_clients, site=demo_export)
    assert moto_clients("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_without_a_folder_the_current_version_is_exported_first(
    moto_clients, hosting, demo_store, demo_export, tmp_path
):
    from functools import partial

    from ctsite.web.snapshot import AppSnapshot
    from tests.deploy.static_site.conftest import plain_settings

    bucket, distribution = hosting
    result = publish_site(
        bucket, distribution, moto_clients, store_path=demo_store,
        source_for=partial(AppSnapshot, plain_settings(tmp_path)),
    )  # fmt: skip
    assert result.exported is not None and result.exported.version == result.plan.version
    assert not result.exported.directory.exists()  # (a temporary folder, removed)
    assert set(bucket_objects(moto_clients("s3"), bucket)) == site_keys(demo_export) | {RECORD}
    # the same version exported again by `export-site`: nothing to send
    assert publish(moto_clients, hosting, demo_export).plan.empty

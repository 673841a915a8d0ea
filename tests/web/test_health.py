"""A broken store: 503 on /healthz, a clear page, no server paths or parse errors in bodies."""

from __future__ import annotations

import logging

import pytest

from ctsite.store.reader import Store
from ctsite.web.app import create_app


def client_for(path, make_settings, tmp_path):
    return create_app(make_settings(tmp_path), store_path=path).test_client()


def assert_private(body: str, store_copy) -> None:
    assert str(store_copy) not in body and "/tmp" not in body
    assert "feather" not in body and "Expecting" not in body and "manifest.json" not in body


def test_a_store_missing_one_file_is_503_everywhere(store_copy, make_settings, tmp_path, caplog):
    store = Store.open(store_copy)
    store.condition_file(store.conditions[0], "circos.feather").unlink()
    client = client_for(store_copy, make_settings, tmp_path)
    with caplog.at_level(logging.ERROR):
        r = client.get("/healthz")
    assert r.status_code == 503 and r.json["status"] == "unavailable"
    assert "not available" in r.json["error"]
    assert_private(r.get_data(as_text=True), store_copy)
    assert "incomplete store" in caplog.text and "circos.feather" in caplog.text  # logged
    api = client.get("/api/meta")
    assert api.status_code == 503
    assert_private(api.get_data(as_text=True), store_copy)
    page = client.get("/circos")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "not available" in page.get_data(as_text=True)
    assert_private(page.get_data(as_text=True), store_copy)


def test_an_unparseable_manifest_is_a_short_503(store_copy, make_settings, tmp_path):
    for manifest in store_copy.rglob("manifest.json"):
        manifest.write_text("{ not json")
    client = client_for(store_copy, make_settings, tmp_path)
    for url in ("/healthz", "/api/meta", "/api/figure/circos"):
        r = client.get(url)
        assert r.status_code == 503, url
        assert_private(r.get_data(as_text=True), store_copy)


@pytest.mark.parametrize("url", ["/api/meta", "/api/genes", "/api/figure/circos", "/healthz"])
def test_api_405_carries_allow(client, url):
    r = client.post(url)
    assert r.status_code == 405 and r.mimetype == "application/json"
    assert "GET" in r.headers["Allow"]


def gated_settings(make_settings, tmp_path):
    from ctsite.web.security import hash_code, new_secret_key

    return make_settings(
        tmp_path,
        site_access_code_hash=hash_code("s3cret code", "pbkdf2:sha256:2000"),
        site_secret_key=new_secret_key(),
    )


def test_healthz_behind_the_gate_says_only_ok_or_not_ok(store_copy, make_settings, tmp_path):
    client = create_app(
        gated_settings(make_settings, tmp_path), store_path=store_copy
    ).test_client()
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}  # no fingerprint, no version
    victim = Store.open(store_copy).file("genes.feather")
    victim.write_bytes(victim.read_bytes()[:100])
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json == {"status": "unavailable"}  # no reason either
    fresh = create_app(gated_settings(make_settings, tmp_path), store_path=store_copy)
    r = fresh.test_client().get("/healthz")
    assert r.status_code == 503 and r.json == {"status": "unavailable"}


def test_healthz_names_the_reason_when_the_gate_is_off_and_logs_it(
    store_copy, make_settings, tmp_path, caplog
):
    client = client_for(store_copy, make_settings, tmp_path)
    ok = client.get("/healthz").json
    assert ok["status"] == "ok" and ok["store_version"] == Store.open(store_copy).version
    victim = Store.open(store_copy).file("conditions/c2/pairs.feather")
    data = victim.read_bytes()
    victim.write_bytes(data[:100])
    with caplog.at_level(logging.WARNING):
        r = client.get("/healthz")
        assert r.status_code == 503 and r.json["reasons"] == ["object-truncated"]
        assert_private(r.get_data(as_text=True), store_copy)
        for _ in range(3):
            client.get("/healthz")
        victim.write_bytes(data)  # repaired (the same bytes again): healthy again
        assert client.get("/healthz").status_code == 200
    damaged = [r for r in caplog.records if "object-truncated" in r.getMessage()]
    assert len(damaged) == 1 and "conditions/c2/pairs.feather" in damaged[0].getMessage()
    assert "readable again" in caplog.text


def test_a_cached_answer_outlives_the_damage_a_new_one_is_503(store_copy, make_settings, tmp_path):
    client = client_for(store_copy, make_settings, tmp_path)
    first = client.get("/api/figure/circos?condition=c1&fdr_i=0.1")
    assert first.status_code == 200
    store = Store.open(store_copy)
    victim = store.file("conditions/c1/circos.feather")
    victim.write_bytes(victim.read_bytes()[:100])
    again = client.get("/api/figure/circos?condition=c1&fdr_i=0.1")
    assert again.status_code == 200 and again.data == first.data  # computed before the damage
    # the table was read before the damage too: answers from it are not "reading" the file
    assert client.get("/api/figure/circos?condition=c1&fdr_i=0.2").status_code == 200
    assert client.get("/healthz").status_code == 503
    # a table not read yet is
    r = client.get("/api/figure/circos?condition=c2")
    assert r.status_code == 200
    victim2 = store.file("conditions/c3/circos.feather")
    victim2.write_bytes(victim2.read_bytes()[:100])
    r = client.get("/api/figure/circos?condition=c3")
    assert r.status_code == 503 and r.json == {"error": r.json["error"]}
    assert "not available" in r.json["error"]


@pytest.mark.parametrize("url", ["/api/genes?q=a", "/api/meta", "/", "/effects"])
def test_a_damaged_gene_table_is_503_never_an_unknown_gene_or_a_500(
    store_copy, make_settings, tmp_path, url
):
    client = client_for(store_copy, make_settings, tmp_path)
    assert client.get("/healthz").status_code == 200
    victim = Store.open(store_copy).file("genes.feather")
    victim.write_bytes(victim.read_bytes()[:200])
    r = client.get(url)
    assert r.status_code == 503, r.get_data(as_text=True)[:300]
    r = client.get("/api/figure/effects?seeds=Ccl2")
    assert r.status_code == 503 and "unknown gene" not in r.get_data(as_text=True)

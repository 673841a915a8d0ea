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

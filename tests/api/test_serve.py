"""The site in the background: a real server on a free loopback port, stopped cleanly."""

from __future__ import annotations

import json
import socket

import plotly.io as pio
import pytest
import requests

import ctsite.api as ct
from ctsite.errors import CtsiteError, StoreError


def test_serves_the_same_figures_and_stops(api_store):
    site = api_store.serve()
    try:
        assert site.running and site.url.startswith("http://127.0.0.1:")
        health = requests.get(site.url + "healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert requests.get(site.url + "circos", timeout=10).status_code == 200
        params = {"condition": "highCIN_vs_lowCIN", "fdr_i": 0.1}
        doc = requests.get(site.url + "api/figure/circos", params=params, timeout=30).json()
        assert doc["figure"] == json.loads(pio.to_json(api_store.circos(**params)))
        assert "running" in repr(site) and site.url in site._repr_html_()
    finally:
        site.stop()
    assert not site.running
    with pytest.raises(requests.ConnectionError):
        requests.get(site.url + "healthz", timeout=5)
    site.stop()  # twice is fine


def test_context_manager_and_paths(demo_dir):
    with ct.serve(demo_dir / "compiled") as site:
        assert requests.get(site.url + "api/meta", timeout=10).json()["conditions"]
    assert not site.running


def test_a_busy_port_is_a_ctsite_error(api_store):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CtsiteError) as info:
            api_store.serve(port=port)
    assert f"cannot listen on 127.0.0.1:{port}" in info.value.message


def test_no_store_is_a_store_error(tmp_path):
    with pytest.raises(StoreError):
        ct.serve(tmp_path)

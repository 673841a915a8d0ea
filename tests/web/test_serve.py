"""The web-server runner itself (`ctsite.web.serve`): the one listen rule and the background site,
on real sockets. `ctsite serve` (gunicorn, Werkzeug, the reloader) runs in tests/cli/test_serve.py,
`ctsite.api.serve` in tests/api/test_serve.py."""

from __future__ import annotations

import socket

import pytest
import requests
from flask import Flask

from ctsite.errors import CtsiteError
from ctsite.web.serve import BackgroundSite, listen, site_url


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_listen_takes_a_free_port_of_the_hosts_family(host: str) -> None:
    with listen(host, 0) as listener:
        family = socket.AF_INET6 if host == "::1" else socket.AF_INET
        assert listener.family == family
        assert listener.getsockname()[1] > 0


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_busy_address_is_one_clear_error(host: str) -> None:
    with listen(host, 0) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(CtsiteError) as info:
            listen(host, port)
    assert info.value.message.startswith(f"cannot listen on {host}:{port}: ")
    assert "Address already in use" in info.value.message
    assert info.value.hint == "choose another port, or stop the program using it"


def test_site_url_puts_an_ipv6_host_in_brackets() -> None:
    assert site_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert site_url("::1", 8000) == "http://[::1]:8000/"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_the_background_site_serves_and_stops(app: Flask, host: str) -> None:
    with BackgroundSite(app, host, 0) as site:
        port = int(site.url.rstrip("/").rsplit(":", 1)[1])
        assert site.url == site_url(host, port)
        assert requests.get(site.url + "healthz", timeout=10).json()["status"] == "ok"
    assert not site.running
    with pytest.raises(requests.ConnectionError):
        requests.get(site.url + "healthz", timeout=5)

"""Behind the HTTPS load balancer the site marks its cookie Secure and sends HSTS, and only then:
a real HTTP server (werkzeug) on loopback, requests with and without X-Forwarded-Proto."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ctsite.config import load_settings
from ctsite.web.app import create_app
from ctsite.web.security import hash_code, new_secret_key
from tests.support.servers import serving

CODE = "correct horse battery staple"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    with contextlib.ExitStack() as servers:

        def start(hops: int) -> str:
            settings = load_settings(
                root=tmp_path,
                environ={},
                overrides={
                    "site_proxy_hops": hops,
                    "site_access_code_hash": hash_code(CODE),
                    "site_secret_key": new_secret_key(),
                },
            )
            app = create_app(settings, store_path=tmp_path / "no-store")
            return servers.enter_context(serving(app))

        yield start


def _login(url: str, proto: str | None) -> requests.Response:
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    return requests.post(
        url + "/login",
        data={"code": CODE, "next": "/"},
        headers=headers,
        allow_redirects=False,
        timeout=10,
    )


def test_https_behind_the_load_balancer(serve) -> None:
    url = serve(1)
    secure = _login(url, "https")
    assert secure.status_code == 302
    assert "Secure" in secure.headers["Set-Cookie"]
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = _login(url, "http")
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in plain.headers


def test_forwarded_proto_ignored_without_trusted_proxy(serve) -> None:
    """`ctsite serve` (no proxy): a client cannot claim HTTPS with a forged header."""
    url = serve(0)
    response = _login(url, "https")
    assert response.status_code == 302
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in response.headers

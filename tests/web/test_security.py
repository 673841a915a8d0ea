"""The optional access-code gate and the code hashing behind it."""

from __future__ import annotations

import pytest

from ctsite.errors import ConfigError
from ctsite.web.app import create_app
from ctsite.web.security import hash_code, parse_hash, verify_code


def test_hash_and_verify():
    encoded = hash_code("open sesame", iterations=2000)
    algorithm, iterations, salt, _digest = encoded.split("$")
    assert algorithm == "pbkdf2_sha256" and iterations == "2000" and len(salt) == 32
    assert "open sesame" not in encoded
    assert verify_code("open sesame", encoded)
    assert not verify_code("open sesam", encoded)
    assert hash_code("x", iterations=2000) != hash_code("x", iterations=2000)  # salted


@pytest.mark.parametrize(
    "bad", ["plain", "md5$1$a$b", "pbkdf2_sha256$many$salt$00", "pbkdf2_sha256$10$salt$00"]
)
def test_malformed_hash_is_a_config_error(bad, tmp_path, demo_store, make_settings):
    with pytest.raises(ConfigError):
        parse_hash(bad)
    with pytest.raises(ConfigError):
        create_app(make_settings(tmp_path, site_access_code_hash=bad), store_path=demo_store)


def test_gate_off_by_default(client):
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 404


def test_access_gate(tmp_path, demo_store, make_settings):
    encoded = hash_code("s3cret code", iterations=2000)
    app = create_app(make_settings(tmp_path, site_access_code_hash=encoded), store_path=demo_store)
    client = app.test_client()
    # closed: pages redirect to the login page, the API answers 401, health stays open
    r = client.get("/circos?min_numsigi1=5")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    assert client.get("/api/meta").status_code == 401
    assert client.get("/api/figure/circos").status_code == 401
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    login = client.get("/login")
    assert login.status_code == 200 and b'type="password"' in login.data
    # wrong code
    r = client.post("/login", data={"code": "guess", "next": "/circos"})
    assert r.status_code == 403 and b"Wrong access code" in r.data
    assert client.get("/api/meta").status_code == 401
    # an open redirect is refused
    r = client.post("/login", data={"code": "s3cret code", "next": "//evil.example/"})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    # right code: a session cookie opens everything
    r = client.post("/login", data={"code": "s3cret code", "next": "/circos?min_numsigi1=5"})
    assert r.status_code == 302 and r.headers["Location"] == "/circos?min_numsigi1=5"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200
    r = client.get("/api/meta")
    assert r.status_code == 200 and r.headers["Cache-Control"].startswith("private")
    # a fresh browser is locked out again
    assert app.test_client().get("/api/meta").status_code == 401


def test_gate_from_environment(tmp_path, demo_store):
    from ctsite.config import load_settings

    encoded = hash_code("abc", iterations=2000)
    settings = load_settings(root=tmp_path, environ={"CTSITE_SITE_ACCESS_CODE_HASH": encoded})
    app = create_app(settings, store_path=demo_store)
    assert app.test_client().get("/").status_code == 302

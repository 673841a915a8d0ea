"""The optional access-code gate and the code hashing behind it."""

from __future__ import annotations

import pytest

from ctsite.errors import ConfigError
from ctsite.store import Store
from ctsite.web.app import create_app
from ctsite.web.security import hash_code, new_secret_key, parse_hash, verify_code

FAST = "pbkdf2:sha256:2000"  # a cheap Werkzeug method for tests (the default is scrypt)
KEY = new_secret_key()


def test_hash_and_verify():
    encoded = hash_code("open sesame")
    assert encoded.startswith("scrypt:") and "open sesame" not in encoded
    assert verify_code("open sesame", encoded)
    assert not verify_code("open sesam", encoded)
    assert hash_code("long enough", FAST) != hash_code("long enough", FAST)  # salted


def test_legacy_hashes_still_verify():
    """Hashes made before the switch to Werkzeug's helpers keep working."""
    import hashlib

    salt = "00112233445566778899aabbccddeeff"
    digest = hashlib.pbkdf2_hmac("sha256", b"open sesame", salt.encode(), 2000).hex()
    legacy = f"pbkdf2_sha256$2000${salt}${digest}"
    assert parse_hash(legacy) == "pbkdf2_sha256"
    assert verify_code("open sesame", legacy)
    assert not verify_code("open sesamE", legacy)


@pytest.mark.parametrize(
    "weak", ["", " ", "1", "short", "  padded code  ", "aaaaaaaaaa", "password"]
)
def test_weak_codes_are_refused(weak):
    with pytest.raises(ConfigError):
        hash_code(weak, FAST)


@pytest.mark.parametrize(
    "bad",
    [
        "plain",
        "md5$1$a$b",
        "pbkdf2_sha256$many$salt$00",
        "pbkdf2_sha256$10$salt$00",
        "scrypt:32768:8:1$$00",
        "pbkdf2:sha256:10$salt$00",
        "scrypt:32768:8:1$salt$zz",
    ],
)
def test_malformed_hash_is_a_config_error(bad, tmp_path, demo_store, make_settings):
    with pytest.raises(ConfigError):
        parse_hash(bad)
    with pytest.raises(ConfigError):
        settings = make_settings(tmp_path, site_access_code_hash=bad, site_secret_key=KEY)
        create_app(settings, store_path=demo_store)


@pytest.mark.parametrize("key", ["", "too short", "HASH"])
def test_gate_needs_a_real_secret_key(key, tmp_path, demo_store, make_settings):
    encoded = hash_code("s3cret code", FAST)
    key = key.replace("HASH", "x" + encoded)
    with pytest.raises(ConfigError, match="site_secret_key"):
        settings = make_settings(tmp_path, site_access_code_hash=encoded, site_secret_key=key)
        create_app(settings, store_path=demo_store)


def test_gate_off_by_default(client):
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 404


def test_access_gate(tmp_path, demo_store, make_settings):
    encoded = hash_code("s3cret code", FAST)
    settings = make_settings(tmp_path, site_access_code_hash=encoded, site_secret_key=KEY)
    app = create_app(settings, store_path=demo_store)
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
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert client.get("/").status_code == 200
    r = client.get("/api/meta")
    assert r.status_code == 200 and r.headers["Cache-Control"].startswith("private")
    # a fresh browser is locked out again
    assert app.test_client().get("/api/meta").status_code == 401


def test_gate_from_environment(tmp_path, demo_store):
    from ctsite.config import load_settings

    encoded = hash_code("abc def ghi", FAST)
    environ = {"CTSITE_SITE_ACCESS_CODE_HASH": encoded, "CTSITE_SITE_SECRET_KEY": KEY}
    settings = load_settings(root=tmp_path, environ=environ)
    app = create_app(settings, store_path=demo_store)
    assert app.test_client().get("/").status_code == 302


def _gated_app(
    tmp_path, demo_store, make_settings, code="s3cret code", key=KEY, hours=12.0, encoded=None
):
    encoded = encoded or hash_code(code, FAST)
    settings = make_settings(
        tmp_path, site_access_code_hash=encoded, site_secret_key=key, site_session_hours=hours
    )
    return create_app(settings, store_path=demo_store), encoded


def _signed_cookie(secret_key, payload):
    """A session cookie as Flask would sign it with `secret_key`."""
    from flask import Flask

    app = Flask("forger")
    app.secret_key = secret_key
    return app.session_interface.get_signing_serializer(app).dumps(payload)


def test_cookie_forged_from_the_public_hash_is_refused(tmp_path, demo_store, make_settings):
    """Before: the key was sha256("ctsite-session\\0" + hash), so the hash let anyone in."""
    import hashlib

    app, encoded = _gated_app(tmp_path, demo_store, make_settings)
    old_key = hashlib.sha256(b"ctsite-session\0" + encoded.encode()).digest()
    for payload in ({"ctsite_access": True}, {"ctsite_access": "x" * 64}):
        forged = _signed_cookie(old_key, payload)
        for name in ("session", "ctsite_session"):
            client = app.test_client()
            client.set_cookie(name, forged)
            assert client.get("/api/meta").status_code == 401
            r = client.get("/circos")
            assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    # even the right key cannot help without the token bound to key and code
    client = app.test_client()
    client.set_cookie("ctsite_session", _signed_cookie(KEY, {"ctsite_access": True}))
    assert client.get("/api/meta").status_code == 401


def _logged_in(app, code="s3cret code"):
    client = app.test_client()
    r = client.post("/login", data={"code": code, "next": "/"})
    assert r.status_code == 302
    assert client.get("/api/meta").status_code == 200
    return client


def test_new_code_or_new_key_invalidates_old_cookies(tmp_path, demo_store, make_settings):
    app, encoded = _gated_app(tmp_path, demo_store, make_settings)
    cookie = _logged_in(app).get_cookie("ctsite_session").value
    # a restart (or another gunicorn worker) with the same settings accepts the cookie
    same, _ = _gated_app(tmp_path, demo_store, make_settings, encoded=encoded)
    client = same.test_client()
    client.set_cookie("ctsite_session", cookie)
    assert client.get("/api/meta").status_code == 200
    for changed in (
        _gated_app(tmp_path, demo_store, make_settings, code="another code")[0],
        _gated_app(tmp_path, demo_store, make_settings, key=new_secret_key(), encoded=encoded)[0],
    ):
        client = changed.test_client()
        client.set_cookie("ctsite_session", cookie)
        assert client.get("/api/meta").status_code == 401


HOSTILE_NEXT = [
    "//evil.example/",
    "/%09/evil.example",
    "/\t/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "///evil.example",
    "/\r\nSet-Cookie: x=1",
    "/%0d%0aLocation: //evil.example",
    "/\x00",
    "/\x7f",
    " //evil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_stays_on_site(target, tmp_path, demo_store, make_settings):
    from urllib.parse import unquote, urlsplit

    app, _ = _gated_app(tmp_path, demo_store, make_settings)
    client = app.test_client()
    for method in ("get", "post"):
        r = client.get("/login", query_string={"next": unquote(target)})
        assert r.status_code == 200
        r = (
            getattr(client, method)("/login", data={"code": "s3cret code", "next": unquote(target)})
            if method == "post"
            else client.get("/login?next=" + target.replace(" ", "%20"))
        )
        assert r.status_code in (200, 302)
        if r.status_code == 302:
            location = r.headers["Location"]
            parts = urlsplit(location)
            assert not parts.scheme and not parts.netloc and location.startswith("/")
            assert not location.startswith("//") and "\\" not in location
            assert all(ord(ch) >= 32 and ord(ch) != 127 for ch in location)
    assert client.get("/api/meta").status_code == 200


def test_safe_next_keeps_local_paths():
    from ctsite.web.security import safe_next

    assert safe_next("/circos?min_numsigi1=5") == "/circos?min_numsigi1=5"
    assert safe_next("/effects?cell_type=T%20cells") == "/effects?cell_type=T%20cells"


def test_failed_logins_are_rate_limited_and_logged(tmp_path, demo_store, make_settings, caplog):
    import logging

    encoded = hash_code("s3cret code", FAST)
    settings = make_settings(
        tmp_path,
        site_access_code_hash=encoded,
        site_secret_key=KEY,
        site_login_rate="3/minute",
    )
    app = create_app(settings, store_path=demo_store)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="ctsite.audit"):
        codes = [client.post("/login", data={"code": f"guess {i}"}).status_code for i in range(5)]
    assert codes == [403, 403, 403, 429, 429]
    assert sum("wrong access code from" in r.getMessage() for r in caplog.records) == 3
    blocked = client.post("/login", data={"code": "s3cret code"})
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    # another client is not affected, and a right code does not use up the allowance
    other = app.test_client()
    for _ in range(4):
        ok = other.post(
            "/login", data={"code": "s3cret code"}, environ_base={"REMOTE_ADDR": "127.0.0.9"}
        )
        assert ok.status_code == 302
    assert client.get("/healthz").status_code == 200


def test_bad_login_rate_is_a_config_error(tmp_path, demo_store, make_settings):
    encoded = hash_code("s3cret code", FAST)
    settings = make_settings(
        tmp_path, site_access_code_hash=encoded, site_secret_key=KEY, site_login_rate="often"
    )
    with pytest.raises(ConfigError, match="site_login_rate"):
        create_app(settings, store_path=demo_store)


def _gate_settings(tmp_path, make_settings, **overrides):
    return make_settings(
        tmp_path,
        site_access_code_hash=hash_code("s3cret code", FAST),
        site_secret_key=KEY,
        **overrides,
    )


def test_logout_ends_the_session(tmp_path, demo_store, make_settings):
    app = create_app(_gate_settings(tmp_path, make_settings), store_path=demo_store)
    client = _logged_in(app)
    page = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in page and "Log out" in page
    assert "/logout" not in app.test_client().get("/login").get_data(as_text=True)
    assert client.get("/logout").status_code == 405  # a link or prefetch cannot log out
    r = client.post(
        "/logout", headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}
    )
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert client.get("/api/meta").status_code == 401
    assert client.get("/healthz").status_code == 200  # open without a session


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_logout_from_another_site_is_refused(headers, tmp_path, demo_store, make_settings):
    app = create_app(_gate_settings(tmp_path, make_settings), store_path=demo_store)
    client = _logged_in(app)
    assert client.post("/logout", headers=headers).status_code == 403
    assert client.get("/api/meta").status_code == 200  # still logged in


def test_forwarded_for_is_trusted_for_exactly_the_configured_hops(
    tmp_path, demo_store, make_settings, caplog
):
    """nginx appends the address it saw: the last entry is the client, the ones before are
    whatever the client wrote."""
    import logging

    def failed_from(hops: int, forwarded: str) -> str:
        settings = _gate_settings(tmp_path, make_settings, site_forwarded_hops=hops)
        client = create_app(settings, store_path=demo_store).test_client()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ctsite.audit"):
            r = client.post(
                "/login", data={"code": "wrong"}, headers={"X-Forwarded-For": forwarded}
            )
        assert r.status_code == 403
        (record,) = [r for r in caplog.records if "wrong access code" in r.getMessage()]
        return record.getMessage().rsplit(" ", 1)[1]

    assert failed_from(0, "10.1.1.1, 203.0.113.7") == "127.0.0.1"  # `ctsite serve`: no proxy
    assert failed_from(1, "10.1.1.1, 203.0.113.7") == "203.0.113.7"  # nginx
    assert failed_from(2, "10.1.1.1, 203.0.113.7, 10.0.0.2") == "203.0.113.7"  # ALB + nginx


def test_a_full_instance_ceiling_still_checks_a_first_attempt(tmp_path, demo_store, make_settings):
    """Failures of all clients count toward the ceiling; right codes do not. While it is full,
    an address with no failure in the ceiling's window still has one code checked: a new visitor
    with the right code gets in (before: 429 for up to an hour), a guesser's fresh address gets
    one guess, an address that already failed waits; an IPv6 /64 is one address."""
    settings = _gate_settings(
        tmp_path, make_settings, site_login_rate="5/minute", site_login_global_rate="4/hour"
    )
    app = create_app(settings, store_path=demo_store)
    inside = _logged_in(app)
    client = app.test_client()

    def login(code: str, address: str):
        return client.post("/login", data={"code": code}, environ_base={"REMOTE_ADDR": address})

    for i in range(6):
        assert login("s3cret code", f"10.0.0.{i}").status_code == 302  # free
    assert [login("guess", f"10.0.1.{i % 2}").status_code for i in range(4)] == [403] * 4
    assert login("s3cret code", "10.0.2.2").status_code == 302  # a new visitor gets in
    refused = login("guess", "10.0.1.0")  # failed within the hour: no attempt beyond the ceiling
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 3000
    assert b"on this site recently" in refused.data
    assert login("s3cret code", "10.0.1.1").status_code == 429
    # a fresh address: one code checked, then it waits for the window like the others
    assert login("guess", "10.0.2.1").status_code == 403
    again = login("s3cret code", "10.0.2.1")
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 3500
    # the addresses of one IPv6 /64 (one subscriber's network) are one client
    assert login("guess", "2001:db8:0:7::1").status_code == 403
    assert login("guess", "2001:db8:0:7::2").status_code == 429
    assert login("s3cret code", "2001:db8:0:8::1").status_code == 302
    assert inside.get("/api/meta").status_code == 200


@pytest.mark.parametrize(
    ("key", "value"), [("site_login_global_rate", "lots"), ("site_login_rate", "0/minute")]
)
def test_bad_rates_are_config_errors(key, value, tmp_path, demo_store, make_settings):
    with pytest.raises(ConfigError, match=key):
        create_app(_gate_settings(tmp_path, make_settings, **{key: value}), store_path=demo_store)


def test_no_instance_ceiling_when_empty(tmp_path, demo_store, make_settings):
    settings = _gate_settings(
        tmp_path, make_settings, site_login_rate="2/minute", site_login_global_rate=""
    )
    client = create_app(settings, store_path=demo_store).test_client()
    codes = [
        client.post(
            "/login", data={"code": "guess"}, environ_base={"REMOTE_ADDR": f"10.3.0.{i}"}
        ).status_code
        for i in range(30)
    ]
    assert codes == [403] * 30


def test_unreadable_counts_check_no_code(tmp_path, demo_store, make_settings, monkeypatch):
    """The gate fails closed: counts it cannot read mean no code is checked (503), not an
    unlimited login."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app = create_app(_gate_settings(tmp_path, make_settings), store_path=demo_store)
    (database,) = tmp_path.glob("ctsite-*/login-*.sqlite3")
    for path in database.parent.glob(database.name + "*"):
        path.write_bytes(b"not a database" * 100)
    r = app.test_client().post("/login", data={"code": "s3cret code"})
    assert r.status_code == 503 and b"not possible right now" in r.data


# --- red-team pass (rt-web-1): cross-site logins, absolute sessions, the proxy warning, the
# --- login page of a site that is not public yet


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_login_from_another_site_is_refused_uncounted(headers, tmp_path, demo_store, make_settings):
    """Before: any web page could post wrong codes for its visitors: the reviewer's own address
    was locked out (and the instance's ceiling fed). Now refused before anything is counted."""
    settings = _gate_settings(tmp_path, make_settings, site_login_rate="2/minute")
    client = create_app(settings, store_path=demo_store).test_client()
    for _ in range(4):
        r = client.post("/login", data={"code": "guess"}, headers=headers)
        assert r.status_code == 403 and b"own login page" in r.data
    assert client.get("/api/meta").status_code == 401  # not logged in either
    r = client.post("/login", data={"code": "s3cret code"}, headers=headers)
    assert r.status_code == 403 and client.get("/api/meta").status_code == 401
    # the visitor's own attempts are all still there
    same = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}
    assert client.post("/login", data={"code": "typo"}, headers=same).status_code == 403
    assert client.post("/login", data={"code": "s3cret code"}, headers=same).status_code == 302
    assert client.get("/api/meta").status_code == 200


def test_a_session_lasts_from_the_login_not_from_the_last_request(
    tmp_path, demo_store, make_settings
):
    """Before: Flask re-signed the permanent session's cookie on every request, so a session in
    use never ended (a copied cookie kept working as long as someone used it). Now the login
    time is in the signed session and a session older than site_session_hours is refused, however
    recently its cookie was signed; requests send no new cookie."""
    import time

    app, _ = _gated_app(tmp_path, demo_store, make_settings, hours=2.0)
    client = _logged_in(app)
    answer = client.get("/api/meta")
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers  # no sliding
    assert "Set-Cookie" not in client.get("/").headers
    cookie = client.get_cookie("ctsite_session")
    serializer = app.session_interface.get_signing_serializer(app)
    payload = serializer.loads(cookie.value)
    assert abs(payload["ctsite_login_at"] - time.time()) < 60
    # a cookie signed a moment ago, of a login 2 h + 1 s ago: refused; of 1 h 58 min: accepted
    for login_at, status in ((time.time() - 7201, 401), (time.time() - 7100, 200)):
        other = app.test_client()
        other.set_cookie(
            "ctsite_session", serializer.dumps({**payload, "ctsite_login_at": login_at})
        )
        assert other.get("/api/meta").status_code == status
    # a session without a login time (or a nonsense one) is no session
    token = payload["ctsite_access"]
    for bad in (
        {"ctsite_access": token},
        {"ctsite_access": token, "ctsite_login_at": "x"},
        {"ctsite_access": token, "ctsite_login_at": True},
        {"ctsite_access": token, "ctsite_login_at": time.time() + 3600},
    ):
        other = app.test_client()
        other.set_cookie("ctsite_session", serializer.dumps(bad))
        assert other.get("/api/meta").status_code == 401, bad


def test_a_proxy_without_forwarded_hops_is_warned_about_once(
    tmp_path, demo_store, make_settings, caplog
):
    """Before: behind nginx with site_forwarded_hops 0 every visitor was the proxy's address (a
    few typos lock everyone out) and nothing said so. Now the first request that came through a
    proxy logs one warning naming the setting and its value; none without a proxy header, with
    the setting, or with the gate off."""
    import logging

    def warnings(hops: int, gate: bool, forwarded: str | None) -> list[str]:
        overrides = {"site_forwarded_hops": hops}
        settings = (
            _gate_settings(tmp_path, make_settings, **overrides)
            if gate
            else make_settings(tmp_path, **overrides)
        )
        client = create_app(settings, store_path=demo_store).test_client()
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for path in ("/healthz", "/login", "/api/meta", "/healthz"):
                client.get(path, headers=headers)
            client.post("/login", data={"code": "guess"}, headers=headers)
        return [r.getMessage() for r in caplog.records if "X-Forwarded-For" in r.getMessage()]

    (message,) = warnings(0, True, "203.0.113.7")
    assert "CTSITE_SITE_FORWARDED_HOPS" in message and "site_forwarded_hops" in message
    assert "=1" in message and "2" in message
    assert warnings(0, True, None) == []
    assert warnings(1, True, "203.0.113.7") == []
    assert warnings(0, False, "203.0.113.7") == []


STUDY_TEXTS = ("ContactTracing", "CIN", "STING", "doi", "Circos", "Pairwise", "Log out")


def test_the_closed_site_reveals_nothing_of_the_study(tmp_path, demo_store, make_settings):
    """Before: the login page showed the site's title, subtitle, citation and page names to
    anyone. Now a visitor without a session sees a neutral text, no navigation, no study text,
    on the login page and on the site's error pages alike."""
    settings = _gate_settings(
        tmp_path,
        make_settings,
        site_title="Secret Study Title",
        site_subtitle="Hush Subtitle",
        site_contact="pi@lab.example",
    )
    # the identity compiled into the store wins over the settings' (they are its fallback)
    identity = Store.open(demo_store).identity
    assert identity is not None
    compiled = (identity.title, "Synthetic demo data")
    app = create_app(settings, store_path=demo_store)
    client = app.test_client()
    pages = {
        "/login": client.get("/login"),
        "/login (wrong code)": client.post("/login", data={"code": "guess"}),
        "/static/no-such.css": client.get("/static/no-such.css"),
        "PUT /login": client.put("/login"),
    }
    assert [r.status_code for r in pages.values()] == [200, 403, 404, 405]
    for where, answer in pages.items():
        text = answer.get_data(as_text=True)
        for secret in (*STUDY_TEXTS, *compiled, "Secret Study", "Hush", "pi@lab", 'href="/circos"'):
            assert secret not in text, (where, secret)
    login = pages["/login"].get_data(as_text=True)
    assert "This site needs an access code" in login and 'type="password"' in login
    assert "<nav" not in login
    # once logged in, the site is itself again
    client.post("/login", data={"code": "s3cret code"})
    home = client.get("/").get_data(as_text=True)
    assert identity.title in home and "Synthetic demo data" in home and "Log out" in home

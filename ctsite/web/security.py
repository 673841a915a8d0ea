"""Security of the website: response headers (CSP & co.) and the optional access-code gate.

The gate is off unless `site_access_code_hash` (env `CTSITE_SITE_ACCESS_CODE_HASH`) holds a salted
hash made by `hash_code` (`ctsite hash-code`). The hash may be public; the session cookies are
signed with a separate random secret, `site_secret_key` (env `CTSITE_SITE_SECRET_KEY`, printed by
`ctsite hash-code` too). A visitor who types the right code gets a signed, expiring session
cookie; the code itself is never stored anywhere. Codes are checked within per-client and
per-instance limits (`ctsite.web.login_limit`) keyed by the real client address (`install_https`
trusts exactly `site_forwarded_hops` X-Forwarded-For entries); `/logout` ends a session.

A session lasts `site_session_hours` from the login, however much it is used: the login time is
in the signed session and the cookie is not re-issued on each request. Logging out clears the
browser's cookie only: a copy of it (taken from the browser) stays valid until that time; a new
`site_secret_key` (or a new code) ends every session at once. Login and logout are accepted from
the site's own pages only (Fetch Metadata / Origin), so another site cannot log a reviewer out
or spend their attempts. To a visitor without a session the site shows nothing of the study:
the login and error pages carry a neutral text, no title, navigation or citation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from ctsite.errors import ConfigError
from ctsite.web.login_limit import LimiterUnavailable, Refusal, login_limiter

LEGACY_ALGORITHM = "pbkdf2_sha256"  # hashes made by ctsite < 0.3: still verified
DEFAULT_METHOD = "scrypt"  # Werkzeug's default password hash
MIN_CODE_LENGTH = 8
MIN_SECRET_KEY_LENGTH = 32
SESSION_KEY = "ctsite_access"
LOGIN_AT_KEY = "ctsite_login_at"  # when the session's code was typed (seconds since the epoch)
CLOCK_SKEW = 60.0  # seconds a login time may lie in the future (another instance's clock)
FORWARDED_HOPS_CONFIG = "CTSITE_FORWARDED_HOPS"  # app.config key set by install_https
audit = logging.getLogger("ctsite.audit")  # one line per failed login

# plotly.js draws SVG with inline styles and <style> elements, hence 'unsafe-inline' for styles
# only; scripts come from this origin alone (no inline scripts, no eval).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# Paths reachable without the access code (the load balancer and the login page itself).
OPEN_PATHS = ("/healthz", "/login", "/static/")


def check_code_strength(code: str) -> None:
    """Refuse access codes that anyone could guess in a few tries."""
    hint = f"choose a code of at least {MIN_CODE_LENGTH} characters, e.g. a short phrase"
    if not code or not code.strip():
        raise ConfigError("the access code must not be empty or blank", hint=hint)
    if code != code.strip():
        raise ConfigError("the access code must not start or end with spaces", hint=hint)
    if len(code) < MIN_CODE_LENGTH:
        raise ConfigError(
            f"the access code is too short ({len(code)} characters, at least "
            f"{MIN_CODE_LENGTH} needed)",
            hint=hint,
        )
    if len(set(code.lower())) < 4 or code.lower() in _COMMON_CODES:
        raise ConfigError("the access code is too easy to guess", hint=hint)


_COMMON_CODES = {
    "password", "password1", "12345678", "123456789", "1234567890", "qwertyui", "qwertyuiop",
    "abcdefgh", "iloveyou", "letmein1", "welcome1", "contacttracing", "changeme",
}  # fmt: skip


def hash_code(code: str, method: str = DEFAULT_METHOD) -> str:
    """A salted hash of an access code (Werkzeug's `generate_password_hash`)."""
    check_code_strength(code)
    return generate_password_hash(code, method=method)


def new_secret_key() -> str:
    """A random session-signing key for `site_secret_key` (never derived from public values)."""
    return secrets.token_urlsafe(48)


def _malformed(detail: str) -> ConfigError:
    return ConfigError(
        f"site_access_code_hash is malformed ({detail})",
        hint="make a new one with `ctsite hash-code` and set CTSITE_SITE_ACCESS_CODE_HASH to it",
    )


def parse_hash(encoded: str) -> str:
    """Check a stored hash and return its method; a malformed one is a configuration error.

    Accepted: Werkzeug's `method$salt$hex` (`scrypt:…`, `pbkdf2:sha256:N`) and the older
    `pbkdf2_sha256$iterations$salt$hex`.
    """
    parts = encoded.strip().split("$")
    if parts[0] == LEGACY_ALGORITHM and len(parts) == 4:
        method, rounds, salt, digest = LEGACY_ALGORITHM, parts[1], parts[2], parts[3]
    elif len(parts) == 3 and parts[0].split(":")[0] in {"scrypt", "pbkdf2"}:
        method, salt, digest = parts
        fields = method.split(":")
        rounds = fields[2] if fields[0] == "pbkdf2" and len(fields) > 2 else "1000"
    else:
        raise ConfigError(
            "site_access_code_hash is not a hash made by `ctsite hash-code`",
            hint="make one with `ctsite hash-code` and set CTSITE_SITE_ACCESS_CODE_HASH to it",
        )
    try:
        iterations = int(rounds)
        bytes.fromhex(digest)
    except ValueError:
        raise _malformed("iterations or digest unreadable") from None
    if iterations < 1000 or not salt or not digest:
        raise _malformed("too few iterations, or no salt or digest")
    return method


def verify_code(code: str, encoded: str) -> bool:
    """Whether `code` matches the stored hash (constant-time comparison)."""
    encoded = encoded.strip()
    if parse_hash(encoded) != LEGACY_ALGORITHM:
        return check_password_hash(encoded, code)
    _, rounds, salt, hexdigest = encoded.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt.encode("ascii"), int(rounds))
    return hmac.compare_digest(digest.hex(), hexdigest)


def check_secret_key(secret_key: str, encoded_hash: str) -> None:
    """The session key must be a configured random secret, not empty, short or the hash."""
    hint = (
        "run `ctsite hash-code`: it prints a new CTSITE_SITE_SECRET_KEY beside the hash; set both "
        "(keep the key secret: it signs the visitors' session cookies)"
    )
    if not secret_key:
        raise ConfigError("the access-code gate needs site_secret_key (unset)", hint=hint)
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"site_secret_key is too short ({len(secret_key)} characters, at least "
            f"{MIN_SECRET_KEY_LENGTH})",
            hint=hint,
        )
    if encoded_hash.strip() in secret_key:
        raise ConfigError("site_secret_key must not contain the access-code hash", hint=hint)


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else "/" (no open redirect, no bad header)."""
    if not target or any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return "/"
    if not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _access_token(secret_key: str, encoded_hash: str) -> str:
    """What a session must hold: bound to the key and the code (a new code logs everyone out)."""
    message = b"ctsite-access\0" + encoded_hash.strip().encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _too_many(refusal: Refusal, target: str) -> tuple[str, int, dict[str, str]]:
    """The login page again, 429, saying how long to wait (Retry-After for machines)."""
    minutes = max(1, math.ceil(refusal.retry_after / 60))
    wait = f"try again in {minutes} minute{'s' if minutes > 1 else ''}"
    if refusal.instance_wide:
        error = f"Too many wrong access codes on this site recently: {wait}."
    else:
        error = f"Too many wrong access codes from your address: {wait}."
    page = render_template("login.html", error=error, next=target)
    return page, 429, {"Retry-After": str(refusal.retry_after)}


def _same_origin() -> bool:
    """Whether a state-changing request comes from a page of this site: Fetch Metadata first
    (`Sec-Fetch-Site`), else `Origin`'s host name (nginx's `$host` drops the port); clients
    that send neither (not a browser) pass."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).hostname == urlsplit(f"//{request.host}").hostname


def _cross_site_refusal(message: str) -> tuple[str, int] | None:
    """The login page with `message`, 403, when a state-changing request comes from another
    site's page (a form or fetch there: it could log a visitor out, or spend their attempts and
    the instance's with wrong codes); None when it comes from this site."""
    if _same_origin():
        return None
    audit.warning(
        "%s %s from another site refused, uncounted: %s",
        request.method,
        request.path,
        request.remote_addr,
    )
    return render_template("login.html", error=message, next="/"), 403


def _proxy_warning(app: Flask) -> None:
    """Log once per worker (one app per gunicorn worker) when a request came through a proxy
    (it sent X-Forwarded-For) but no X-Forwarded-For entry is trusted: the login limit then
    takes the proxy for every visitor, so a few typos lock everyone out."""
    lock = threading.Lock()
    warned = False

    @app.before_request
    def _check_forwarding() -> None:
        nonlocal warned
        if (
            warned
            or app.config.get(FORWARDED_HOPS_CONFIG, 0)
            or ("X-Forwarded-For" not in request.headers)
        ):
            return
        with lock:
            if warned:
                return
            warned = True
        app.logger.warning(
            "a request came through a proxy (X-Forwarded-For: %d entries) but "
            "site_forwarded_hops is 0: the login limit counts the proxy's address for every "
            "visitor, so a few wrong codes lock everyone out. Set CTSITE_SITE_FORWARDED_HOPS=1 "
            "behind EB's nginx (=2 behind a load balancer as well); `ctsite provision check` "
            "lists it",
            len(request.headers["X-Forwarded-For"].split(",")),
        )


def install_access_gate(
    app: Flask,
    encoded_hash: str,
    secret_key: str,
    session_hours: float = 12.0,
    login_rate: str = "5/minute;30/hour",
    login_global_rate: str = "100/hour",
) -> None:
    """Require the access code (once per browser session) on every page and API route.

    Sessions are signed with `secret_key` (a configured random secret: the hash may be public),
    last `session_hours` from the login (absolute: the login time is signed into the session and
    the cookie is not refreshed), and hold a token bound to the key and the code's hash, so
    changing either invalidates every cookie issued before. Codes are checked only within
    `login_rate` per client address and `login_global_rate` for the whole instance
    (`ctsite.web.login_limit`), from the site's own login page only; `/logout` (POST, from the
    site's own pages) ends the session. Behind a proxy, `install_https` must trust its
    X-Forwarded-For entries: a worker that sees the header untrusted logs it once.
    """
    parse_hash(encoded_hash)  # fail at start-up, not at the first visitor
    check_secret_key(secret_key, encoded_hash)
    if not session_hours > 0:
        raise ConfigError("site_session_hours must be positive", hint="e.g. 12")
    token = _access_token(secret_key, encoded_hash)
    site_id = hashlib.sha256(b"ctsite-login-counts\0" + token.encode()).hexdigest()[:24]
    limiter = login_limiter(site_id, login_rate, login_global_rate)
    lifetime = dt.timedelta(hours=session_hours)
    app.secret_key = secret_key
    app.config.update(
        SESSION_COOKIE_NAME="ctsite_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=lifetime,  # the cookie's expiry and the signature's max age
        SESSION_REFRESH_EACH_REQUEST=False,  # written at login only: it expires, never slides
    )
    _proxy_warning(app)

    def has_access() -> bool:
        held, login_at = session.get(SESSION_KEY), session.get(LOGIN_AT_KEY)
        if not (isinstance(held, str) and hmac.compare_digest(held, token)):
            return False
        if isinstance(login_at, bool) or not isinstance(login_at, int | float):
            return False  # (a session from before login times were recorded: log in again)
        age = time.time() - login_at
        return -CLOCK_SKEW <= age < lifetime.total_seconds()

    @app.context_processor
    def _gate_context() -> dict[str, bool]:
        inside = has_access()
        # base.html: the logout button inside; outside, nothing of the study (no title, no
        # navigation, no citation) on the login and error pages
        return {"logged_in": inside, "gate_closed": not inside}

    @app.before_request
    def _gate() -> BaseResponse | None:
        path = request.path
        if path.startswith(OPEN_PATHS) or has_access():
            return None
        if path.startswith("/api/"):
            response = jsonify(error="this site needs an access code: open /login first")
            response.status_code = 401
            return response
        return redirect(url_for("login", next=safe_next(request.full_path.rstrip("?"))))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> BaseResponse | str | tuple[str, int] | tuple[str, int, dict[str, str]]:
        target = safe_next(request.values.get("next", "/"))
        if request.method != "POST":
            return render_template("login.html", error=None, next=target)
        refused = _cross_site_refusal("Log in from this site's own login page.")
        if refused is not None:
            return refused  # before anything is counted
        client = request.remote_addr or "?"  # the real client: see install_https
        try:
            attempt = limiter.reserve(client)  # counted before the code is checked
        except LimiterUnavailable as error:
            app.logger.error("login counts unavailable, no code checked: %s", error)
            message = "Logging in is not possible right now: try again later."
            return render_template("login.html", error=message, next=target), 503
        if isinstance(attempt, Refusal):
            audit.warning(
                "login refused from %s: %s limit reached",
                client,
                "instance" if attempt.instance_wide else "client",
            )
            return _too_many(attempt, target)
        if verify_code(request.form.get("code", ""), encoded_hash):
            try:
                limiter.release(attempt)  # right codes are free
            except LimiterUnavailable as error:
                app.logger.error("could not give back a login attempt: %s", error)
            session.clear()
            session.permanent = True  # the cookie expires; the login time is checked too
            session[SESSION_KEY] = token
            session[LOGIN_AT_KEY] = time.time()
            return redirect(target)
        beyond = " (its one attempt beyond the full ceiling)" if attempt.beyond_ceiling else ""
        audit.warning("wrong access code%s from %s", beyond, client)
        return render_template("login.html", error="Wrong access code.", next=target), 403

    @app.post("/logout")
    def logout() -> BaseResponse | tuple[str, int]:
        refused = _cross_site_refusal("Log out from the site's own page.")
        if refused is not None:
            return refused
        session.clear()
        return redirect(url_for("login"), code=303)


HSTS = "max-age=31536000"


def install_https(app: Flask, proxy_hops: int, forwarded_hops: int = 0) -> None:
    """Proxies and HTTPS: trust exactly `forwarded_hops` X-Forwarded-For entries (the proxies in
    front of gunicorn that append the address they saw: nginx on EB, plus the load balancer) so
    `request.remote_addr` is the real client, never more (entries further left are the client's
    own words); trust `proxy_hops` proxies' X-Forwarded-Proto (EB's load balancer sets it), then
    mark the session cookie Secure and send HSTS on requests that came over HTTPS only (plain
    HTTP, e.g. `ctsite serve`, keeps working)."""
    from flask.sessions import SecureCookieSessionInterface
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.config[FORWARDED_HOPS_CONFIG] = forwarded_hops  # read by the gate's proxy warning
    if proxy_hops > 0 or forwarded_hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=forwarded_hops, x_proto=proxy_hops
        )

    class HttpsAwareSessions(SecureCookieSessionInterface):
        def get_cookie_secure(self, app: Flask) -> bool:
            return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    app.session_interface = HttpsAwareSessions()

    @app.after_request
    def _hsts(response: Response) -> Response:
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

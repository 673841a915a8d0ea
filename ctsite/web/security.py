"""Security of the website: response headers (CSP & co.) and the optional access-code gate.

The gate is off unless `site_access_code_hash` (env `CTSITE_SITE_ACCESS_CODE_HASH`) holds a salted
hash made by `hash_code` (`ctsite hash-code`). The hash may be public; the session cookies are
signed with a separate random secret, `site_secret_key` (env `CTSITE_SITE_SECRET_KEY`, printed by
`ctsite hash-code` too). A visitor who types the right code gets a signed, expiring session
cookie; the code itself is never stored anywhere. Codes are checked within per-client and
per-instance limits (`ctsite.web.login_limit`) keyed by the real client address (`install_https`
trusts exactly `site_forwarded_hops` X-Forwarded-For entries); `/logout` ends a session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from ctsite.errors import ConfigError
from ctsite.web.login_limit import LimiterUnavailable, Refusal, login_limiter

LEGACY_ALGORITHM = "pbkdf2_sha256"  # hashes made by ctsite < 0.3: still verified
DEFAULT_METHOD = "scrypt"  # Werkzeug's default password hash
MIN_CODE_LENGTH = 8
MIN_SECRET_KEY_LENGTH = 32
SESSION_KEY = "ctsite_access"
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
    expire after `session_hours`, and hold a token bound to the key and the code's hash, so
    changing either invalidates every cookie issued before. Codes are checked only within
    `login_rate` per client address and `login_global_rate` for the whole instance
    (`ctsite.web.login_limit`); `/logout` (POST, from the site's own pages) ends the session.
    """
    parse_hash(encoded_hash)  # fail at start-up, not at the first visitor
    check_secret_key(secret_key, encoded_hash)
    if not session_hours > 0:
        raise ConfigError("site_session_hours must be positive", hint="e.g. 12")
    token = _access_token(secret_key, encoded_hash)
    site_id = hashlib.sha256(b"ctsite-login-counts\0" + token.encode()).hexdigest()[:24]
    limiter = login_limiter(site_id, login_rate, login_global_rate)
    app.secret_key = secret_key
    app.config.update(
        SESSION_COOKIE_NAME="ctsite_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=session_hours),
    )

    def has_access() -> bool:
        held = session.get(SESSION_KEY)
        return isinstance(held, str) and hmac.compare_digest(held, token)

    @app.context_processor
    def _gate_context() -> dict[str, bool]:
        return {"logged_in": has_access()}  # base.html then shows the logout button

    @app.before_request
    def _gate() -> Response | None:
        path = request.path
        if path.startswith(OPEN_PATHS) or has_access():
            return None
        if path.startswith("/api/"):
            response = jsonify(error="this site needs an access code: open /login first")
            response.status_code = 401
            return response
        return redirect(url_for("login", next=safe_next(request.full_path.rstrip("?"))))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]:
        target = safe_next(request.values.get("next", "/"))
        if request.method != "POST":
            return render_template("login.html", error=None, next=target)
        client = request.remote_addr or "?"  # the real client: see install_https
        try:
            refusal = limiter.reserve(client)  # counted before the code is checked
        except LimiterUnavailable as error:
            app.logger.error("login counts unavailable, no code checked: %s", error)
            message = "Logging in is not possible right now: try again later."
            return render_template("login.html", error=message, next=target), 503
        if refusal is not None:
            audit.warning(
                "login refused from %s: %s limit reached",
                client,
                "instance" if refusal.instance_wide else "client",
            )
            return _too_many(refusal, target)
        if verify_code(request.form.get("code", ""), encoded_hash):
            try:
                limiter.release(client)  # right codes are free
            except LimiterUnavailable as error:
                app.logger.error("could not give back a login attempt: %s", error)
            session.clear()
            session.permanent = True  # the cookie expires; the signature's age is checked
            session[SESSION_KEY] = token
            return redirect(target)
        audit.warning("wrong access code from %s", client)
        return render_template("login.html", error="Wrong access code.", next=target), 403

    @app.post("/logout")
    def logout() -> Response | tuple[str, int]:
        if not _same_origin():
            return render_template(
                "login.html", error="Log out from the site's own page.", next="/"
            ), 403
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

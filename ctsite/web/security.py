"""Security of the website: response headers (CSP & co.) and the optional access-code gate.

The gate is off unless `site_access_code_hash` (env `CTSITE_SITE_ACCESS_CODE_HASH`) holds a salted
hash made by `hash_code` (`ctsite hash-code`). A visitor who types the right code gets a signed
session cookie; the code itself is never stored anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, Response, jsonify, redirect, render_template, request, session, url_for

from ctsite.errors import ConfigError

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 240_000

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


def hash_code(code: str, iterations: int = ITERATIONS, salt: str | None = None) -> str:
    """A salted PBKDF2 hash of an access code: `pbkdf2_sha256$iterations$salt$hex`."""
    if not code:
        raise ConfigError("the access code must not be empty")
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt.encode("ascii"), iterations)
    return f"{ALGORITHM}${iterations}${salt}${digest.hex()}"


def parse_hash(encoded: str) -> tuple[int, str, str]:
    """Split and check a stored hash; a malformed one is a configuration error."""
    parts = encoded.strip().split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        raise ConfigError(
            "site_access_code_hash is not a pbkdf2_sha256$iterations$salt$hex hash",
            hint="make one with `ctsite hash-code` and set CTSITE_SITE_ACCESS_CODE_HASH to it",
        )
    try:
        iterations = int(parts[1])
        bytes.fromhex(parts[3])
    except ValueError:
        raise ConfigError(
            "site_access_code_hash is malformed (iterations or digest unreadable)",
            hint="make a new one with `ctsite hash-code`",
        ) from None
    if iterations < 1000 or not parts[2]:
        raise ConfigError("site_access_code_hash has too few iterations or no salt")
    return iterations, parts[2], parts[3]


def verify_code(code: str, encoded: str) -> bool:
    """Whether `code` matches the stored hash (constant-time comparison)."""
    iterations, salt, hexdigest = parse_hash(encoded)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt.encode("ascii"), iterations)
    return hmac.compare_digest(digest.hex(), hexdigest)


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def install_access_gate(app: Flask, encoded_hash: str) -> None:
    """Require the access code (once per browser session) on every page and API route."""
    parse_hash(encoded_hash)  # fail at start-up, not at the first visitor
    # The session key derives from the hash: stable across gunicorn workers and restarts,
    # and it changes (logging everyone out) when the code changes.
    app.secret_key = hashlib.sha256(b"ctsite-session\0" + encoded_hash.encode()).digest()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    @app.before_request
    def _gate() -> Response | None:
        path = request.path
        if path.startswith(OPEN_PATHS) or session.get("ctsite_access") is True:
            return None
        if path.startswith("/api/"):
            response = jsonify(error="this site needs an access code: open /login first")
            response.status_code = 401
            return response
        return redirect(url_for("login", next=request.full_path.rstrip("?")))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response | str | tuple[str, int]:
        target = request.values.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # only local redirects
        if request.method == "POST":
            if verify_code(request.form.get("code", ""), encoded_hash):
                session.clear()
                session["ctsite_access"] = True
                return redirect(target)
            return render_template("login.html", error="Wrong access code.", next=target), 403
        return render_template("login.html", error=None, next=target)


HSTS = "max-age=31536000"


def install_https(app: Flask, proxy_hops: int) -> None:
    """HTTPS awareness: trust `proxy_hops` proxies' X-Forwarded-Proto (EB's load balancer sets
    it), then mark the session cookie Secure and send HSTS on requests that came over HTTPS only
    (plain HTTP, e.g. `ctsite serve`, keeps working)."""
    from flask.sessions import SecureCookieSessionInterface
    from werkzeug.middleware.proxy_fix import ProxyFix

    if proxy_hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=proxy_hops)  # type: ignore[method-assign]

    class HttpsAwareSessions(SecureCookieSessionInterface):
        def get_cookie_secure(self, app: Flask) -> bool:
            return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    app.session_interface = HttpsAwareSessions()

    @app.after_request
    def _hsts(response: Response) -> Response:
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

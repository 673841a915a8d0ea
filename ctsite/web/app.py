"""The Flask application factory: store, caches, Blueprints, security headers, compression,
conditional responses and error pages (JSON for the API, the site's own page for HTML).

`create_app()` with no arguments reads the configuration (ctsite.toml / CTSITE_* variables), so the
same factory runs under `ctsite serve` and `gunicorn "ctsite.web.app:create_app()"`. The app starts
even when the store is missing or broken: `/healthz` then answers 503 and pages say what is wrong,
and the store is opened again (at most every few seconds) until it appears. The open store follows
the store folder's version pointer (`ctsite.store.handle.StoreHandle`).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from ctsite.config import Settings, load_settings
from ctsite.errors import NotFoundError, StoreError
from ctsite.store.handle import StoreHandle
from ctsite.web.api import api
from ctsite.web.assets import PARTIAL_BUNDLE
from ctsite.web.cache import FigureCache
from ctsite.web.encoding import accepts_gzip
from ctsite.web.entries import ApiError, json_response, store_unavailable, wants_json
from ctsite.web.pages import pages
from ctsite.web.security import add_security_headers, install_access_gate, install_https

COMPRESSIBLE = (
    "application/json",
    "text/html",
    "text/css",
    "text/csv",
    "text/javascript",
    "application/javascript",
    "image/svg+xml",
)
MIN_GZIP_BYTES = 600
FAST_GZIP_BYTES = 512 * 1024


def _compress(response: Response) -> Response:
    """gzip a textual response when the client accepts it (already-encoded ones are left).

    `request.accept_encodings` is Werkzeug's parsed header: q-values count (`gzip;q=0` refuses
    gzip) and `*` stands for any encoding not named.
    """
    if response.mimetype in COMPRESSIBLE and "Content-Encoding" not in response.headers:
        # gzipped or not, the answer depends on Accept-Encoding: tell caches so, every time
        response.vary.add("Accept-Encoding")
    if (
        response.direct_passthrough
        or response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or not accepts_gzip()
    ):
        return response
    data = response.get_data()
    if len(data) < MIN_GZIP_BYTES:
        return response
    # a large page (a big Circos' static picture) at level 1: 3-4× faster for ~15% more bytes
    level = 1 if len(data) > FAST_GZIP_BYTES else 6
    response.set_data(gzip.compress(data, compresslevel=level, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    tag, weak = response.get_etag()
    if tag:
        response.set_etag(tag + "-gz", bool(weak))
    return response


def relative_location(response: Response) -> Response:
    """Redirects name a path on this site, never a host: Werkzeug builds the slash-merging and
    trailing-slash redirects from the request's Host header (`Host: evil.example` would send
    the visitor there). Every Location of the site is reduced to its path and query."""
    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            path = "/" + parts.path.lstrip("/")  # never "//host"
            response.headers["Location"] = urlunsplit(("", "", path, parts.query, parts.fragment))
    return response


def error_page(title: str, message: str, status: int) -> Response:
    """The site's own error page (HTML) with the given status."""
    html = render_template("error.html", title=title, message=message)
    return Response(html, status=status, mimetype="text/html")


def create_app(
    settings: Settings | None = None,
    store_path: Path | None = None,
    partial_bundle: Path | None = PARTIAL_BUNDLE,
) -> Flask:
    """Build the website for the store at `store_path` (default: the configured compiled dir).

    `partial_bundle` is the partial plotly.js build to serve when that file exists (None: always
    the plotly package's full bundle).
    """
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["CTSITE_SETTINGS"] = settings
    app.config["CTSITE_PLOTLY_PARTIAL"] = partial_bundle
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["ctsite_store"] = StoreHandle(Path(store_path or settings.compiled_path))
    app.extensions["ctsite_cache"] = FigureCache(settings.site_cache_size)

    install_https(app, settings.site_proxy_hops, settings.site_forwarded_hops)
    if settings.site_access_code_hash:
        install_access_gate(
            app,
            settings.site_access_code_hash,
            settings.site_secret_key,
            settings.site_session_hours,
            settings.site_login_rate,
            settings.site_login_global_rate,
        )

    app.register_blueprint(pages)
    app.register_blueprint(api)

    @app.after_request
    def _finish(response: Response) -> Response:
        add_security_headers(response)
        relative_location(response)
        response = _compress(response)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            if response.get_etag()[0]:
                response.make_conditional(request)
        return response

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        if wants_json():
            return json_response({"error": error.message}, status=error.status)
        title = "Not found" if error.status == 404 else "Something is not right"
        return error_page(title, error.message, error.status)

    @app.errorhandler(StoreError)
    def _store_error(error: StoreError) -> Response:
        """A store file a view could not read (damaged, truncated, changed since the open):
        503 with the site's page or JSON, wherever it was read; never a 500."""
        if isinstance(error, NotFoundError):
            return _api_error(ApiError(error.message, 404))
        return _api_error(store_unavailable(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if wants_json():
            response = json_response({"error": error.description or error.name}, status=status)
        else:
            message = {
                404: "There is no page at this address. The pages of this site are linked above.",
                405: f"This address does not accept {request.method} requests.",
            }.get(status, error.description or error.name)
            response = error_page(error.name, message, status)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value  # e.g. Allow on a 405
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error on %s", request.path)
        message = "internal error: the server logged the details"
        if wants_json():
            return json_response({"error": message}, status=500)
        return error_page("Something went wrong", message, 500)

    return app

"""The Flask application factory: store, caches, security headers, compression, error pages.

`create_app()` with no arguments reads the configuration (ctsite.toml / CTSITE_* variables), so the
same factory runs under `ctsite serve` and `gunicorn "ctsite.web.app:create_app()"`. The app starts
even when the store is missing or broken: `/healthz` then answers 503 and pages say what is wrong,
and the store is opened again (at most every few seconds) until it appears.
"""

from __future__ import annotations

import gzip
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ctsite.config import Settings, load_settings
from ctsite.errors import CtsiteError
from ctsite.web.cache import FigureCache
from ctsite.web.encoding import accepts_gzip
from ctsite.web.security import add_security_headers, install_access_gate

RETRY_SECONDS = 5.0
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


class StoreHolder:
    """The open store; reopened when its manifest changes (an atomic rebuild swaps the store)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store: Any = None
        self._stamp: tuple[int, int] | None = None
        self._error: CtsiteError | None = None
        self._tried = 0.0
        self._lock = threading.Lock()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = (self.path / "manifest.json").stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def get(self) -> Any:
        """The current store, or raise the `CtsiteError` that explains why there is none."""
        stamp = self._stat()
        if self._store is not None and stamp == self._stamp:
            return self._store
        with self._lock:
            now = time.monotonic()
            if self._store is None and self._error and now - self._tried < RETRY_SECONDS:
                raise self._error
            if self._store is None or stamp != self._stamp:
                self._tried = now
                try:
                    from ctsite.compile.store import Store

                    self._store = Store.open(self.path)
                    self._stamp = stamp
                    self._error = None
                except CtsiteError as error:
                    self._store, self._error = None, error
                    raise
        return self._store


def _compress(response: Response) -> Response:
    """gzip a textual response when the client accepts it (already-encoded ones are left).

    `request.accept_encodings` is Werkzeug's parsed header: q-values count (`gzip;q=0` refuses
    gzip) and `*` stands for any encoding not named.
    """
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
    response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    if response.get_etag()[0]:
        tag, weak = response.get_etag()
        response.set_etag(tag + "-gz", weak)
    return response


def create_app(settings: Settings | None = None, store_path: Path | None = None) -> Flask:
    """Build the website for the store at `store_path` (default: the configured compiled dir)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["CTSITE_SETTINGS"] = settings
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["ctsite_store"] = StoreHolder(Path(store_path or settings.compiled_path))
    app.extensions["ctsite_cache"] = FigureCache(settings.site_cache_size)

    if settings.site_access_code_hash:
        install_access_gate(
            app,
            settings.site_access_code_hash,
            settings.site_secret_key,
            settings.site_session_hours,
            settings.site_login_rate,
        )

    from ctsite.web.views import register_views

    register_views(app)

    @app.after_request
    def _finish(response: Response) -> Response:
        add_security_headers(response)
        return _compress(response)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if request.path.startswith("/api/") or request.path == "/healthz":
            response = jsonify(error=error.description or error.name)
            response.status_code = error.code or 500
            return response
        return error

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        app.logger.exception("unexpected error on %s", request.path)
        return jsonify(error="internal error: the server logged the details"), 500

    return app

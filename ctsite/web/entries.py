"""The figure behind a request: validated parameters → in-memory LRU, precomputed file, or built.

Shared by the pages (which reserve the figure's box from it) and the API (which sends it). Every
name in a request (figure, condition, cell type, gene) is validated against the store's manifest
by `parse_params` and the store's lookups; no file path is ever built from request text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, request

from ctsite.config import Settings
from ctsite.errors import CtsiteError
from ctsite.figures import FIGURES, BadParameter, FigureSpec, parse_params
from ctsite.store.reader import StoreError
from ctsite.web.cache import (
    Entry,
    canonical_key,
    encode_json,
    figure_document,
    precomputed_path,
    read_picture,
    read_precomputed,
)

API_CACHE_CONTROL = "public, max-age=300"


class ApiError(Exception):
    """An error answered as JSON {"error": message} (API) or the error page, with a status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def settings() -> Settings:
    return current_app.config["CTSITE_SETTINGS"]


STORE_UNAVAILABLE = (
    "the data store is not available (missing, incomplete or unreadable); the server log says why"
)


def log_store_error(error: CtsiteError) -> None:
    """Log why the store cannot be opened (paths, parse errors) server-side, once per reason;
    visitors only ever see STORE_UNAVAILABLE."""
    if current_app.extensions.get("ctsite_store_error") != error.message:
        current_app.extensions["ctsite_store_error"] = error.message
        current_app.logger.error("data store unavailable: %s", error)


def open_store() -> Any:
    """The app's store, or a 503 `ApiError` with a short message (details go to the log)."""
    try:
        return current_app.extensions["ctsite_store"].get()
    except CtsiteError as error:
        log_store_error(error)
        raise ApiError(STORE_UNAVAILABLE, 503) from None


def figure_spec(name: str) -> FigureSpec:
    spec = FIGURES.get(name)
    if spec is None:
        raise ApiError(f"unknown figure {name!r}; choose one of {', '.join(FIGURES)}", 404)
    return spec


def parse(spec: FigureSpec, store: Any, query: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return parse_params(spec, store, query)
    except BadParameter as error:
        raise ApiError(error.message) from None


def build_entry(name: str, store: Any, params: dict[str, Any]) -> Entry:
    """Compute one figure (no cache): the encoded document plus its table."""
    try:
        result = figure_spec(name).build(store, params)
    except StoreError as error:  # the files on disk, not the request: details to the log
        log_store_error(error)
        raise ApiError(STORE_UNAVAILABLE, 503) from None
    except CtsiteError as error:
        raise ApiError(error.message) from None
    return Entry(body=encode_json(figure_document(name, store, params, result)), table=result.table)


def figure_entry(name: str, need_table: bool = False) -> tuple[Entry, dict[str, Any], Any]:
    """The figure for this request's parameters: LRU, then precomputed file, then computed."""
    store = open_store()
    params = parse(figure_spec(name), store, request.args)
    params_key = canonical_key(params)
    key = (store.fingerprint, name, params_key)
    cache = current_app.extensions["ctsite_cache"]
    entry = cache.get(key)
    if entry is None or (need_table and entry.table is None):
        body = picture = None
        if not need_table:
            condition = store.condition(str(params["condition"]))
            path = precomputed_path(
                store.figure_cache_dir(), name, condition.id, store.fingerprint, params_key
            )
            body = read_precomputed(path)
            picture = read_picture(path) if body is not None else None
        if body is not None:
            entry = Entry(body=body, picture=picture)
        else:
            entry = build_entry(name, store, params)
        cache.put(key, entry)
    return entry, params, store


def json_response(payload: Any, status: int = 200, cache_control: str | None = None) -> Response:
    response = Response(encode_json(payload), status=status, mimetype="application/json")
    if cache_control:
        response.headers["Cache-Control"] = cache_control
        response.add_etag()
    return response


def cache_control() -> str:
    """Shared caches may keep answers of an open site; a gated site's stay in the browser."""
    return "private, max-age=300" if settings().site_access_code_hash else API_CACHE_CONTROL


def wants_json() -> bool:
    """Whether this request is answered in JSON (the API and the health check) or HTML."""
    return request.path.startswith("/api/") or request.path == "/healthz"

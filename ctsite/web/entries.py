"""The figure behind a request: validated parameters → in-memory LRU, precomputed file, or built.

Shared by the pages (which reserve the figure's box from it) and the API (which sends it). Every
name in a request (figure, condition, cell type, gene) is validated against the store's manifest
by `parse_params` and the store's lookups; no file path is ever built from request text.

A store file that cannot be read (damaged, truncated, changed) raises `StoreError` where it is
read; it is left to propagate, so the app's handler answers 503 for the API and the pages alike
(a page's own "show the error inline" path only takes request errors, `ApiError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, request

from ctsite.config import Settings
from ctsite.errors import CtsiteError, NotFoundError, StoreError
from ctsite.figures import FIGURES, BadParameter, FigureSpec, parse_params
from ctsite.figures.precomputed import (
    canonical_key,
    encode_json,
    figure_document,
    precomputed_path,
    read_view,
)
from ctsite.store.integrity import Problem, reason_of
from ctsite.web.cache import Entry

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


def _log_once(key: str, text: str) -> None:
    """Log a store problem server-side (paths, parse errors, reason codes) once per distinct
    text, so a health check every few seconds does not flood the log."""
    if current_app.extensions.get(key) != text:
        current_app.extensions[key] = text
        current_app.logger.error("%s", text)


def log_store_error(error: CtsiteError) -> None:
    """Log why the store cannot be read, with its reason code; visitors only ever see
    STORE_UNAVAILABLE."""
    _log_once("ctsite_store_error", f"data store unavailable [{reason_of(error)}]: {error}")


def log_store_problems(problems: tuple[Problem, ...]) -> None:
    """Log what the health check found (once per distinct set), and when it is fixed again."""
    if problems:
        found = "; ".join(str(p) for p in problems)
        _log_once("ctsite_store_problems", f"data store damaged [{problems[0].reason}]: {found}")
    elif current_app.extensions.pop("ctsite_store_problems", None) is not None:
        current_app.logger.warning("data store readable again")


def store_unavailable(error: CtsiteError) -> ApiError:
    """The 503 answer to a store that cannot be read (why: to the log)."""
    log_store_error(error)
    return ApiError(STORE_UNAVAILABLE, 503)


def open_store() -> Any:
    """The app's store, or a 503 `ApiError` with a short message (details go to the log)."""
    try:
        return current_app.extensions["ctsite_store"].get()
    except CtsiteError as error:
        raise store_unavailable(error) from None


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
    except NotFoundError as error:  # a name of the request
        raise ApiError(error.message) from None
    except StoreError:
        raise  # the files on disk, not the request: the app's handler answers 503
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
        view = None
        if not need_table:
            condition = store.condition(str(params["condition"]))
            path = precomputed_path(
                store.figure_cache_dir(), name, condition.id, store.fingerprint, params_key
            )
            view = read_view(path)  # only the bytes `ctsite figures` recorded
        if view is not None:
            entry = Entry(body=view.body, picture=view.picture)
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

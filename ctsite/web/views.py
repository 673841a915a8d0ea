"""Pages (Jinja templates) and the JSON/CSV API of the website.

Every name in a request (figure, condition, cell type, gene) is validated against the store's
manifest before use (by `parse_params` and the store's lookups); no file path is ever built from
request text. Bad parameters answer 400 with a message, a missing store 503.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

from flask import Flask, Response, current_app, render_template, request

from ctsite import __version__
from ctsite.config import Settings
from ctsite.errors import CtsiteError
from ctsite.web.cache import (
    Entry,
    canonical_key,
    encode_json,
    figure_document,
    precomputed_path,
    read_precomputed,
)
from ctsite.web.encoding import accepts_gzip

API_CACHE_CONTROL = "public, max-age=300"
GENE_QUERY_MAX = 60
GENE_RESULTS = 20
PAGES = ("circos", "pairwise", "effects")


class ApiError(Exception):
    """An error answered as JSON {"error": message} with an HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _settings() -> Settings:
    return current_app.config["CTSITE_SETTINGS"]


def _store() -> Any:
    try:
        return current_app.extensions["ctsite_store"].get()
    except CtsiteError as error:
        raise ApiError(f"the data store is not available: {error}", 503) from None


def _figures() -> dict[str, Any]:
    from ctsite.web.figures import FIGURES

    return FIGURES


def _spec(name: str) -> Any:
    spec = _figures().get(name)
    if spec is None:
        raise ApiError(f"unknown figure {name!r}; choose one of {', '.join(_figures())}", 404)
    return spec


def _parse(spec: Any, store: Any, query: Any) -> dict[str, Any]:
    from ctsite.web.figures import BadParameter, parse_params

    try:
        return parse_params(spec, store, query)
    except BadParameter as error:
        raise ApiError(error.message) from None


def build_entry(name: str, store: Any, params: dict[str, Any]) -> Entry:
    """Compute one figure (no cache): the encoded document plus its table."""
    spec = _spec(name)
    try:
        result = spec.build(store, params)
    except CtsiteError as error:
        raise ApiError(error.message) from None
    return Entry(body=encode_json(figure_document(name, store, params, result)), table=result.table)


def _entry(name: str, need_table: bool = False) -> tuple[Entry, dict[str, Any], Any]:
    """The figure for this request's parameters: LRU, then precomputed file, then computed."""
    store = _store()
    spec = _spec(name)
    params = _parse(spec, store, request.args)
    params_key = canonical_key(params)
    key = (store.fingerprint, name, params_key)
    cache = current_app.extensions["ctsite_cache"]
    entry = cache.get(key)
    if entry is None or (need_table and entry.table is None):
        body = None
        if not need_table:
            condition = store.condition(str(params["condition"]))
            path = precomputed_path(
                store.figure_cache_dir(), name, condition.id, store.fingerprint, params_key
            )
            body = read_precomputed(path)
        entry = Entry(body=body) if body is not None else build_entry(name, store, params)
        cache.put(key, entry)
    return entry, params, store


def _json(payload: Any, status: int = 200, cache_control: str | None = None) -> Response:
    response = Response(encode_json(payload), status=status, mimetype="application/json")
    if cache_control:
        response.headers["Cache-Control"] = cache_control
        response.add_etag()
    return response


def _cache_control() -> str:
    return "private, max-age=300" if _settings().site_access_code_hash else API_CACHE_CONTROL


def _control_dict(control: Any) -> dict[str, Any]:
    names = ("name", "label", "kind", "help", "minimum", "maximum", "step", "optional")
    data = {field: getattr(control, field, None) for field in names}
    data["single_condition_only"] = bool(getattr(control, "single_condition_only", False))
    return data


def meta(store: Any) -> dict[str, Any]:
    """Everything the pages need to draw their controls."""
    figures = {}
    for name, spec in _figures().items():
        figures[name] = {
            "title": spec.title,
            "description": spec.description,
            "how_to_read": spec.how_to_read,
            "controls": [_control_dict(c) for c in spec.controls],
            "defaults": spec.defaults(store),
        }
    return {
        "title": _settings().site_title,
        "fingerprint": store.fingerprint,
        "conditions": [
            {"id": c.id, "name": c.name, "label": c.label, "kind": c.kind, "of": list(c.of)}
            for c in store.conditions
        ],
        "cell_types": [
            {"name": name, "color": store.cell_type_colors.get(name, "#888888")}
            for name in store.cell_types
        ],
        "thresholds": list(store.thresholds),
        "figures": figures,
    }


@cache
def _gene_index(fingerprint: str, genes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((gene.lower(), gene) for gene in genes)


def search_genes(store: Any, query: str) -> list[str]:
    """Genes starting with the query (case-insensitive), then genes containing it."""
    q = query.strip().lower()
    index = _gene_index(store.fingerprint, tuple(store.genes))
    starts = [gene for low, gene in index if low.startswith(q)]
    if len(starts) >= GENE_RESULTS:
        return starts[:GENE_RESULTS]
    contains = [gene for low, gene in index if q in low and not low.startswith(q)]
    return (starts + contains)[:GENE_RESULTS]


@cache
def plotly_js() -> tuple[bytes, bytes, str]:
    """plotly.min.js as shipped in the plotly package: (raw, gzipped, etag)."""
    import gzip

    try:
        raw = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    except (FileNotFoundError, OSError):
        from plotly.offline import get_plotlyjs

        raw = get_plotlyjs().encode("utf-8")
    return raw, gzip.compress(raw, compresslevel=6, mtime=0), hashlib.sha256(raw).hexdigest()[:20]


@cache
def _asset_version(static_folder: str) -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(static_folder).glob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _control_values(spec: Any, store: Any, params: dict[str, Any]) -> dict[str, str]:
    """The form value of each control for the current parameters."""
    values: dict[str, str] = {}
    for control in spec.controls:
        value = params.get(control.name)
        if value is None:
            values[control.name] = ""
        elif control.kind == "condition":
            values[control.name] = store.condition(str(value)).name
        elif isinstance(value, bool):
            values[control.name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            values[control.name] = ", ".join(str(v) for v in value)
        elif isinstance(value, float):
            values[control.name] = f"{value:g}"
        else:
            values[control.name] = str(value)
    return values


def _form_quote(
    text: str, safe: str = "", encoding: str | None = None, errors: str | None = None
) -> str:
    """Percent-encode exactly like the browser's URLSearchParams (so a preload matches)."""
    return quote_plus(text, safe="*", encoding=encoding, errors=errors).replace("~", "%7E")


def initial_query(spec: Any, values: dict[str, str]) -> str:
    """The query string figure.js sends on page load (controls in order, empty ones left out)."""
    pairs = []
    for control in spec.controls:
        value = values.get(control.name, "").strip()
        if control.kind == "bool":
            pairs.append((control.name, "1" if value == "true" else "0"))
        elif value:
            pairs.append((control.name, value))
    return urlencode(pairs, quote_via=_form_quote)


def register_views(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response | tuple[str, int]:
        if request.path.startswith("/api/") or request.path == "/healthz":
            return _json({"error": error.message}, status=error.status)
        return render_template("error.html", message=error.message), error.status

    @app.context_processor
    def _context() -> dict[str, Any]:
        return {
            "site": _settings(),
            "pages": [(name, spec.title) for name, spec in _figures().items()],
            "asset_version": _asset_version(app.static_folder or ""),
            "plotly_version": plotly_js()[2],
        }

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            store = current_app.extensions["ctsite_store"].get()
        except CtsiteError as error:
            return _json({"status": "unavailable", "error": error.message}, status=503)
        return _json({"status": "ok", "fingerprint": store.fingerprint, "version": __version__})

    @app.get("/")
    def home() -> str:
        store = _store()
        specs = _figures()
        return render_template("home.html", store=store, specs=specs)

    def figure_page(name: str) -> str:
        store = _store()
        spec = _spec(name)
        defaults = _control_values(spec, store, _parse(spec, store, {}))
        error = None
        try:
            values = _control_values(spec, store, _parse(spec, store, request.args))
        except ApiError as exc:
            # Show what was asked for (the figure request then explains what is wrong).
            error = exc.message
            values = dict(defaults)
            for control in spec.controls:
                if control.name in request.args:
                    values[control.name] = request.args[control.name][:200]
        return render_template(
            "figure.html",
            name=name,
            spec=spec,
            store=store,
            values=values,
            defaults=defaults,
            error=error,
            initial_query=initial_query(spec, values),
        )

    for page in PAGES:
        app.add_url_rule(f"/{page}", page, lambda page=page: figure_page(page))

    @app.get("/api/meta")
    def api_meta() -> Response:
        return _json(meta(_store()), cache_control=_cache_control())

    @app.get("/api/genes")
    def api_genes() -> Response:
        query = request.args.get("q", "")
        if len(query) > GENE_QUERY_MAX:
            raise ApiError(f"q is too long (at most {GENE_QUERY_MAX} characters)")
        return _json({"genes": search_genes(_store(), query)}, cache_control=_cache_control())

    @app.get("/api/figure/<name>")
    def api_figure(name: str) -> Response:
        entry = _entry(name)[0]
        gz = accepts_gzip()
        response = Response(entry.gzipped if gz else entry.body, mimetype="application/json")
        if gz:
            response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        response.set_etag(entry.etag + ("-gz" if gz else ""))
        response.headers["Cache-Control"] = _cache_control()
        return response

    @app.get("/api/data/<name>.csv")
    def api_data(name: str) -> Response:
        entry, params, store = _entry(name, need_table=True)
        condition = store.condition(str(params["condition"]))
        response = Response(entry.csv(), mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{name}-{condition.id}.csv"'
        )
        response.set_etag(entry.etag + "-csv")
        response.headers["Cache-Control"] = _cache_control()
        return response

    @app.get("/static/vendor/plotly.min.js")
    def vendor_plotly() -> Response:
        raw, gzipped, etag = plotly_js()
        gz = accepts_gzip()
        response = Response(gzipped if gz else raw, mimetype="text/javascript")
        if gz:
            response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        response.set_etag(etag + ("-gz" if gz else ""))
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    @app.after_request
    def _conditional(response: Response) -> Response:
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            if response.get_etag()[0]:
                response.make_conditional(request)
        return response

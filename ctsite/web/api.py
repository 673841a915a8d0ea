"""The JSON/CSV API of the website (a Blueprint): health, metadata, gene search, figures, data.

Bad parameters answer 400 with a message, unknown figures 404, a missing store 503 (always JSON:
see the error handlers in `ctsite.web.app`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

from ctsite import __version__
from ctsite.figures import FIGURES
from ctsite.figures.params import GENE_QUERY_MAX, GENE_RESULTS
from ctsite.web.citation import current_identity
from ctsite.web.downloads import csv_header, download_stem, provenance
from ctsite.web.encoding import accepts_gzip
from ctsite.web.entries import (
    STORE_UNAVAILABLE,
    ApiError,
    cache_control,
    figure_entry,
    figure_spec,
    json_response,
    log_store_problems,
    open_store,
    settings,
)

api = Blueprint("api", __name__)


def control_dict(control: Any) -> dict[str, Any]:
    names = ("name", "label", "kind", "help", "minimum", "maximum", "step", "optional")
    data = {field: getattr(control, field, None) for field in names}
    data["single_condition_only"] = bool(getattr(control, "single_condition_only", False))
    return data


def meta(store: Any) -> dict[str, Any]:
    """Everything the pages need to draw their controls."""
    figures = {
        name: {
            "title": spec.title,
            "description": spec.description,
            "how_to_read": spec.how_to_read,
            "controls": [control_dict(c) for c in spec.controls],
            "defaults": spec.defaults(store),
        }
        for name, spec in FIGURES.items()
    }
    return {
        "title": settings().site_title,
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
def gene_index(fingerprint: str, genes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((gene.lower(), gene) for gene in genes)


def search_genes(store: Any, query: str) -> list[str]:
    """Genes starting with the query (case-insensitive), then genes containing it."""
    q = query.strip().lower()
    index = gene_index(store.fingerprint, tuple(store.genes))
    starts = [gene for low, gene in index if low.startswith(q)]
    if len(starts) >= GENE_RESULTS:
        return starts[:GENE_RESULTS]
    contains = [gene for low, gene in index if q in low and not low.startswith(q)]
    return (starts + contains)[:GENE_RESULTS]


@api.get("/healthz")
def healthz() -> Response:
    """200 while the store serves and is undamaged, else 503 (Elastic Beanstalk and the alarms
    watch it). Every call re-reads the pointer and stats the open version's files (cheap), so
    damage shows at once on every worker. Reason codes go to the log, and into the answer only
    when the access gate is off: behind the gate it says nothing but ok / not ok."""
    health = current_app.extensions["ctsite_store"].health()
    log_store_problems(health.problems)
    gated = bool(settings().site_access_code_hash)
    if health.store is None or health.problems:
        body: dict[str, Any] = {"status": "unavailable"}
        if not gated:
            reasons = list(dict.fromkeys(p.reason for p in health.problems))
            body |= {"error": STORE_UNAVAILABLE, "reasons": reasons}
        return json_response(body, status=503)
    if gated:
        return json_response({"status": "ok"})
    return json_response(
        {
            "status": "ok",
            "fingerprint": health.store.fingerprint,
            "store_version": health.store.version,
            "version": __version__,
        }
    )


@api.get("/api/meta")
def api_meta() -> Response:
    return json_response(meta(open_store()), cache_control=cache_control())


@api.get("/api/genes")
def api_genes() -> Response:
    query = request.args.get("q", "")
    if len(query) > GENE_QUERY_MAX:
        raise ApiError(f"q is too long (at most {GENE_QUERY_MAX} characters)")
    return json_response(
        {"genes": search_genes(open_store(), query)}, cache_control=cache_control()
    )


@api.get("/api/figure/<name>")
def api_figure(name: str) -> Response:
    entry = figure_entry(name)[0]
    gz = accepts_gzip()
    response = Response(entry.gzipped if gz else entry.body, mimetype="application/json")
    if gz:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(entry.etag + ("-gz" if gz else ""))
    response.headers["Cache-Control"] = cache_control()
    return response


@api.get("/api/picture/<name>.svg")
def api_picture(name: str) -> Response:
    """The static picture of a view (a figure page's <picture> names one per width class)."""
    entry = figure_entry(name)[0]
    response = Response(entry.preview(figure_spec(name).title), mimetype="image/svg+xml")
    response.set_etag(entry.etag + "-svg")
    response.headers["Cache-Control"] = cache_control()
    response.make_conditional(request)  # (a 304 when the browser has it)
    return response


@api.get("/api/data/<name>.csv")
def api_data(name: str) -> Response:
    """The rows behind a figure, after `#` lines of provenance (`ctsite.web.downloads`), named
    after the figure, condition and main thresholds."""
    entry, params, store = figure_entry(name, need_table=True)
    spec = FIGURES[name]
    condition = store.condition(str(params["condition"]))
    page_url = url_for(f"pages.{name}", _external=True)
    fields = provenance(current_identity().name, store, spec, params, page_url)
    response = Response(csv_header(fields) + entry.csv(), mimetype="text/csv")
    stem = download_stem(spec, condition.label, params)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    response.set_etag(entry.etag + "-csv")
    response.headers["Cache-Control"] = cache_control()
    return response

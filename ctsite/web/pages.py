"""The HTML pages of the website (a Blueprint): home, one page per figure, the plotly.js script.

A figure page is rendered from the URL (controls filled in, errors shown inline) and carries its
first view: a static SVG picture of the figure for the URL's parameters (`ctsite.figures.preview`,
drawn from the same figure JSON the API sends) in a box of the figure's own height. The page needs
no script to show it; figure.js swaps in the interactive Plotly figure on the first interaction
(pointer over the figure, focus in the controls, a submitted change), so opening a page never runs
plotly.js. When the parameters are wrong there is no picture and figure.js asks the API at once
(the error is shown inline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from flask import Blueprint, Response, current_app, render_template, request, url_for

from ctsite.figures import FIGURES, FigureSpec
from ctsite.figures.circos_labels import WIDTH_CLASSES
from ctsite.web.assets import asset_version, plotly_script
from ctsite.web.citation import (
    BIBTEX_MIMETYPE,
    CFF_MIMETYPE,
    bibtex,
    citation_cff,
    current_identity,
    json_ld,
)
from ctsite.web.downloads import base_provenance, download_stem
from ctsite.web.encoding import accepts_gzip
from ctsite.web.entries import ApiError, figure_entry, figure_spec, open_store, parse, settings

pages = Blueprint("pages", __name__)


def plotly() -> Any:
    return plotly_script(current_app.config["CTSITE_PLOTLY_PARTIAL"])


@pages.app_context_processor
def page_context() -> dict[str, Any]:
    return {
        "site": settings(),
        "identity": current_identity(),
        "pages": [(f"pages.{name}", spec.title) for name, spec in FIGURES.items()],
        "asset_version": asset_version(current_app.static_folder or ""),
        "plotly": plotly(),
    }


def control_values(spec: FigureSpec, store: Any, params: dict[str, Any]) -> dict[str, str]:
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


def form_quote(text: str) -> str:
    """Percent-encode exactly like the browser's URLSearchParams (so a preload matches)."""
    return quote_plus(text, safe="*").replace("~", "%7E")


def initial_query(spec: FigureSpec, values: dict[str, str]) -> str:
    """The query string figure.js sends on page load (controls in order, empty ones left out)."""
    pairs = []
    for control in spec.controls:
        value = values.get(control.name, "").strip()
        if control.kind == "bool":
            pairs.append((control.name, "1" if value == "true" else "0"))
        elif value:
            pairs.append((control.name, value))
    return "&".join(f"{form_quote(name)}={form_quote(value)}" for name, value in pairs)


@pages.get("/")
def home() -> str:
    store = open_store()
    identity = current_identity()
    return render_template(
        "home.html", store=store, specs=FIGURES, identity=identity, json_ld=json_ld(identity)
    )


def citation_download(text: str, mimetype: str, filename: str) -> Response:
    response = Response(text, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.add_etag()
    return response


@pages.get("/CITATION.cff")
def citation_file() -> Response:
    """The dataset's Citation File Format entry, from the open store's identity (404 when the
    lab set neither a citation nor a DOI: there is nothing to cite)."""
    identity = current_identity()
    if not identity.citable:
        raise ApiError("this site names no citation or DOI to cite", 404)
    return citation_download(citation_cff(identity), CFF_MIMETYPE, "CITATION.cff")


@pages.get("/citation.bib")
def citation_bibtex() -> Response:
    """The same as BibTeX (404 likewise)."""
    identity = current_identity()
    if not identity.citable:
        raise ApiError("this site names no citation or DOI to cite", 404)
    return citation_download(bibtex(identity), BIBTEX_MIMETYPE, "citation.bib")


def figure_page(name: str) -> tuple[str, int]:
    """The page (200), or the page with the parameter error shown inline (400: a link with a
    wrong value is an error for a crawler or a link checker too, not a page that worked)."""
    store = open_store()
    spec = figure_spec(name)
    defaults = control_values(spec, store, parse(spec, store, {}))
    error = None
    height = None
    preview = phone = message = None
    pictures: list[dict[str, Any]] = []
    try:
        values = control_values(spec, store, parse(spec, store, request.args))
    except ApiError as exc:
        # Show what was asked for (the figure request then explains what is wrong).
        error = exc.message
        values = dict(defaults)
        for control in spec.controls:
            if control.name in request.args:
                values[control.name] = request.args[control.name][:200]
    else:
        try:
            entry = figure_entry(name)[0]
            height = entry.layout_height
            if spec.sizes:  # a picture per width class: the browser fetches the one it shows
                height = None
                pictures = picture_sources(spec, initial_query(spec, values))
                preview, message = "", entry.message
            else:
                preview, message = entry.preview(spec.title), entry.message
                phone = entry.phone_preview(spec.title)
        except ApiError:
            pass  # the figure request shows the message inline
    page = render_template(
        "figure.html",
        name=name,
        spec=spec,
        store=store,
        values=values,
        defaults=defaults,
        error=error,
        height=height,
        preview=preview,
        pictures=pictures,
        sizes=size_queries(spec),
        phone=phone,
        message=message,
        initial_query=initial_query(spec, values),
        provenance=base_provenance(current_identity().name, store),
        download_stem=download_stem(spec, store.condition(values["condition"]).label, values)
        if error is None
        else name,
    )
    return page, 400 if error else 200


def size_queries(spec: FigureSpec) -> list[dict[str, str]] | None:
    """A figure's width classes with their media queries, narrowest first, the default last
    (""): the order a <picture> and figure.js try them in."""
    if not spec.sizes:
        return None
    classes = sorted((WIDTH_CLASSES[s] for s in spec.sizes[1:]), key=lambda c: c.width)
    return [{"name": c.name, "media": c.media} for c in classes] + [
        {"name": spec.sizes[0], "media": ""}
    ]


def picture_sources(spec: FigureSpec, query: str) -> list[dict[str, Any]]:
    """The static picture of each width class, in `size_queries`' order (a <source> each, the
    default's the <img>)."""
    base = url_for("api.api_picture", name=spec.name)
    out = []
    for size in size_queries(spec) or []:
        cls = WIDTH_CLASSES[size["name"]]
        out.append(
            {
                "url": f"{base}?{query}{'&' if query else ''}size={cls.name}",
                "media": size["media"],
                "width": int(cls.width),
                "height": int(cls.height),
            }
        )
    return out


def page_view(name: str) -> Callable[[], tuple[str, int]]:
    """The view of one figure's page: a real function with its own name (extensions that
    inspect views, such as rate limiters, expect `__name__`; a functools.partial has none)."""

    def view() -> tuple[str, int]:
        return figure_page(name)

    view.__name__ = view.__qualname__ = f"{name}_page"
    view.__doc__ = f"The {name} page."
    return view


for _name in FIGURES:
    pages.add_url_rule(f"/{_name}", _name, page_view(_name))


@pages.get("/static/vendor/<filename>")
def vendor(filename: str) -> Response:
    """plotly.js (partial or full, see `ctsite.web.assets`), cached for a year by its URL."""
    script = plotly()
    if filename != script.filename:
        raise ApiError(f"no such script: {filename}", 404)
    gz = accepts_gzip()
    response = Response(script.gzipped if gz else script.raw, mimetype="text/javascript")
    if gz:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(script.etag + ("-gz" if gz else ""))
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response

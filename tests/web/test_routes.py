"""Every route of the site, found in `app.url_map` (a new route is covered without editing this
file): a visitor who logged in through the real form gets 200 on each, a method a route does not
take is a 405 with `Allow`, redirects never name a host, and every response of a compressible
type says `Vary: Accept-Encoding`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctsite.figures import FIGURES
from ctsite.web.app import COMPRESSIBLE, create_app
from ctsite.web.security import hash_code, new_secret_key

CODE = "s3cret code"
FAST = "pbkdf2:sha256:2000"
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH")
# Routes with nothing to answer on the demo store: it names no citation or DOI (their 200 on a
# store that does: tests/web/test_identity.py).
NOTHING_ON_THE_DEMO = {"pages.citation_file", "pages.citation_bibtex"}


class FormReader(HTMLParser):
    """The first form of a page: its action and its inputs (name → value)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and self.action is not None and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


def log_in(client: FlaskClient, code: str = CODE) -> None:
    """Log in the way a browser does: read the login page's form, fill in the code, post it."""
    page = client.get("/login?next=/")
    assert page.status_code == 200
    form = FormReader()
    form.feed(page.get_data(as_text=True))
    assert form.action and "code" in form.fields
    answer = client.post(form.action, data={**form.fields, "code": code})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]


def sample_urls(app: Flask) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(endpoint, a URL that reaches it, its methods) for every rule of the app."""
    from ctsite.web.pages import plotly

    with app.test_request_context():
        script = plotly().filename
    samples = {
        ("static", "filename"): ["style.css", "favicon.svg", "figure.js"],
        ("pages.vendor", "filename"): [script],
        ("api.api_figure", "name"): list(FIGURES),
        ("api.api_data", "name"): list(FIGURES),
        ("api.api_picture", "name"): list(FIGURES),
    }
    for rule in app.url_map.iter_rules():
        methods = frozenset(rule.methods or ())
        if not rule.arguments:
            yield rule.endpoint, rule.rule, methods
            continue
        (argument,) = rule.arguments  # a rule with more arguments needs a sample set here
        values = samples.get((rule.endpoint, argument))
        assert values, f"add sample values for {rule.endpoint}'s <{argument}> in sample_urls"
        with app.test_request_context():
            from flask import url_for

            for value in values:
                yield rule.endpoint, url_for(rule.endpoint, **{argument: value}), methods


@pytest.fixture(scope="module")
def gated_app(demo_store, tmp_path_factory, make_settings) -> Flask:
    settings = make_settings(
        tmp_path_factory.mktemp("gated"),
        site_access_code_hash=hash_code(CODE, FAST),
        site_secret_key=new_secret_key(),
    )
    return create_app(settings, store_path=demo_store)


@pytest.fixture(params=["gated", "open"])
def visitor(request, gated_app, app) -> tuple[Flask, FlaskClient]:
    """A logged-in visitor of the gated site, or any visitor of the open one."""
    site = gated_app if request.param == "gated" else app
    client = site.test_client()
    if request.param == "gated":
        log_in(client)
    return site, client


def test_a_logged_in_visitor_reaches_every_route(visitor) -> None:
    """Before: the figure pages answered 500 (Flask-Limiter's hook and functools.partial)."""
    site, client = visitor
    failures = []
    for endpoint, url, methods in sample_urls(site):
        for method in ("GET", "HEAD", "OPTIONS"):
            if method not in methods:
                continue
            answer = client.open(url, method=method)
            expected = 404 if endpoint in NOTHING_ON_THE_DEMO and method != "OPTIONS" else 200
            if answer.status_code != expected:
                failures.append(f"{method} {url} ({endpoint}) → {answer.status_code}")
    assert not failures, failures
    assert client.get("/api/meta").status_code == 200  # still logged in


def test_every_405_names_the_allowed_methods(visitor) -> None:
    site, client = visitor
    checked = 0
    for _, url, methods in sample_urls(site):
        for method in set(METHODS) - methods:
            answer = client.open(url, method=method)
            assert answer.status_code == 405, (method, url, answer.status_code)
            allowed = {m.strip() for m in answer.headers.get("Allow", "").split(",")}
            assert allowed == set(methods), (method, url, answer.headers.get("Allow"))
            checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("/api//meta", "/api/meta"),
        ("/static//style.css", "/static/style.css"),
        ("/api//genes?q=ab", "/api/genes?q=ab"),
        ("/api/figure//circos", "/api/figure/circos"),
    ],
)
def test_slash_merging_redirect_names_no_host(visitor, url, target) -> None:
    """Before: `Host: evil.example` → `Location: http://evil.example/...`."""
    site, client = visitor
    headers = {"Host": "evil.example"}
    cookie = client.get_cookie("ctsite_session")
    if cookie is not None:  # the test client keeps cookies per host: send it by hand
        headers["Cookie"] = f"ctsite_session={cookie.value}"
    answer = site.test_client(use_cookies=False).get(url, headers=headers)
    assert answer.status_code in (301, 308), answer.status_code
    assert answer.headers["Location"] == target


def test_gate_redirects_name_no_host(gated_app) -> None:
    client = gated_app.test_client()
    evil = {"Host": "evil.example"}
    closed = client.get("/circos?min_numsigi1=5", headers=evil)
    assert closed.status_code == 302 and closed.headers["Location"].startswith("/login?next=")
    login = client.post("/login", data={"code": CODE, "next": "/effects"}, headers=evil)
    assert login.status_code == 302 and login.headers["Location"] == "/effects"
    logout = client.post("/logout", headers=evil)
    assert logout.status_code in (302, 303) and logout.headers["Location"].startswith("/login")


def _compressible(mimetype: str) -> bool:
    return mimetype in COMPRESSIBLE


@pytest.mark.parametrize("accept", [None, "identity", "gzip", "br"])
def test_every_compressible_response_varies_on_accept_encoding(visitor, accept) -> None:
    """Before: only gzipped answers said so (small bodies, gzip-less clients: no Vary)."""
    site, client = visitor
    headers = {"Accept-Encoding": accept} if accept else {}
    urls = [url for _, url, methods in sample_urls(site) if "GET" in methods]
    urls += ["/no-such-page", "/api/no-such", "/api/figure/circos?min_numsigi1=x", "/healthz"]
    missing = []
    for url in urls:
        answer = client.get(url, headers=headers)
        if _compressible(answer.mimetype) and "accept-encoding" not in {
            v.lower() for v in answer.vary
        }:
            missing.append(f"{url} {answer.status_code} {answer.mimetype}")
    assert not missing, missing


def test_login_page_has_no_logout_but_pages_do(gated_app, app) -> None:
    """The logout control is a form (POST) on every page of a gated site, none on an open one."""
    client = gated_app.test_client()
    log_in(client)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<form[^>]+method="post"[^>]+action="/logout"', home), home[:2000]
    assert "/logout" not in app.test_client().get("/").get_data(as_text=True)


class LinkReader(HTMLParser):
    """The attributes of the element with a given id."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id") == self.element_id:
            self.attrs = values


def _element(html: str, element_id: str) -> dict[str, str]:
    reader = LinkReader(element_id)
    reader.feed(html)
    assert reader.attrs, f"no #{element_id}"
    return reader.attrs


@pytest.mark.parametrize(
    "query",
    [
        "",
        "min_numsigi1=5",
        "condition=highCIN_vs_noSTING&fdr_i=0.1",
        "cell_type1=T+cells&cell_type2=Tumor+cells&bidirectional=1",
        "seeds=Ccl2&steps=3",
    ],
)
@pytest.mark.parametrize("name", list(FIGURES))
def test_the_csv_link_carries_the_pages_view(client: FlaskClient, name: str, query: str) -> None:
    """Before: href="/api/data/<name>.csv" whatever the URL said, so without JavaScript (or
    before the first interaction) a deep link's Download CSV gave the default view. Now the
    link carries the page's canonical query (the one its picture and figure.js use), and the
    CSV it names is the CSV of the page's view."""
    page = client.get(f"/{name}?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    href = _element(html, "download-csv")["href"]
    picture = _element(html, "figure-static")["data-query"]
    assert picture and href == f"/api/data/{name}.csv?{picture}"
    from_link = client.get(href)
    assert from_link.status_code == 200 and from_link.mimetype == "text/csv"
    assert from_link.data == client.get(f"/api/data/{name}.csv?{query}").data

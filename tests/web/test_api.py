"""The website's routes through Flask's test client, over the compiled demo store."""

from __future__ import annotations

import gzip
import io
import json
from html import escape as html_escape

import pandas as pd
import pytest

from ctsite.figures import FIGURES, parse_params
from tests.support.demo_truth import num_sig_i1

PAGES = ["/", "/circos", "/pairwise", "/effects"]


def accepted_conditions(store, spec):
    control = next(c for c in spec.controls if c.kind == "condition")
    return [c for c in store.conditions if c.kind == "single" or not control.single_condition_only]


def all_cases(store):
    return [
        (name, cond.name)
        for name, spec in FIGURES.items()
        for cond in accepted_conditions(store, spec)
    ]


def test_healthz_ok(client, store):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json["status"] == "ok"
    assert r.json["fingerprint"] == store.fingerprint


def test_healthz_503_without_store(tmp_path, make_settings):
    from ctsite.web.app import create_app

    app = create_app(make_settings(tmp_path), store_path=tmp_path / "missing")
    client = app.test_client()
    r = client.get("/healthz")
    assert r.status_code == 503
    assert "not available" in r.json["error"] and "/tmp" not in r.json["error"]
    r = client.get("/api/meta")
    assert r.status_code == 503 and "not available" in r.json["error"]
    page = client.get("/circos")
    assert page.status_code == 503 and b"not available" in page.data


@pytest.mark.parametrize("path", PAGES)
def test_pages_render(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "<script>" not in html  # no inline scripts (CSP script-src 'self')
    assert "http://" not in html.replace("http://www.w3.org", "")
    for src in ("cdn.", "fonts.googleapis", "unpkg", "jsdelivr"):
        assert src not in html


def test_home_page_content(client, store):
    html = client.get("/").get_data(as_text=True)
    assert "10.1038/s41586-023-06464-z" in html
    assert "github.com/LaughneyLab/ContactTracing_tutorial" in html
    for cond in store.conditions:
        assert html_escape(cond.label) in html
    for name in FIGURES:
        assert f'href="/{name}"' in html


def test_figure_page_controls(client, store):
    html = client.get("/circos").get_data(as_text=True)
    for control in FIGURES["circos"].controls:
        assert f'name="{control.name}"' in html
        assert control.label in html
    assert 'type="range"' in html and 'type="number"' in html
    assert "/static/vendor/plotly" in html


def test_figure_page_reflects_query(client):
    html = client.get("/circos?min_numsigi1=7").get_data(as_text=True)
    assert 'name="min_numsigi1"' in html
    assert 'value="7"' in html
    bad = client.get("/circos?min_numsigi1=-3")
    assert bad.status_code == 400  # the page shows the error inline with default controls
    assert "Minimum interaction effect (numSigI1)" in bad.get_data(as_text=True)


def test_meta(client, store):
    meta = client.get("/api/meta").json
    assert [c["name"] for c in meta["conditions"]] == [c.name for c in store.conditions]
    assert [c["name"] for c in meta["cell_types"]] == store.cell_types
    assert all(c["color"].startswith("#") for c in meta["cell_types"])
    assert meta["thresholds"][0] == pytest.approx(0.01)
    assert meta["thresholds"][-1] == pytest.approx(0.25)
    assert set(meta["figures"]) == {"circos", "pairwise", "effects"}
    circos = meta["figures"]["circos"]
    assert [c["name"] for c in circos["controls"]][:1] == ["condition"]
    assert circos["defaults"]["fdr_i"] == pytest.approx(0.25)


def test_genes_autocomplete(client, store):
    genes = client.get("/api/genes?q=cc").json["genes"]
    assert "Ccl2" in genes
    assert all("cc" in g.lower() for g in genes)
    assert genes == sorted(genes, key=lambda g: not g.lower().startswith("cc"))
    assert client.get("/api/genes?q=" + "x" * 100).status_code == 400
    assert client.get("/api/genes?q=zzzzzz").json["genes"] == []


def test_every_figure_every_condition(client, store):
    cases = all_cases(store)
    assert len(cases) >= 7  # circos + pairwise: 3 conditions each, effects: 2 single ones
    for name, condition in cases:
        r = client.get(f"/api/figure/{name}", query_string={"condition": condition})
        assert r.status_code == 200, (name, condition, r.json)
        doc = r.json
        assert doc["name"] == name
        assert doc["params"]["condition"] == condition
        figure = doc["figure"]
        assert isinstance(figure["data"], list) and "layout" in figure
        assert figure["data"] or doc["message"], (name, condition)


def test_csv_is_the_figure_table(client, store):
    for name, condition in all_cases(store):
        spec = FIGURES[name]
        params = parse_params(spec, store, {"condition": condition})
        expected = spec.build(store, params).table
        r = client.get(f"/api/data/{name}.csv", query_string={"condition": condition})
        assert r.status_code == 200
        assert r.mimetype == "text/csv"
        assert "attachment" in r.headers["Content-Disposition"]
        # the rows after the provenance lines (tests/web/test_downloads.py checks those)
        body = b"".join(line for line in r.data.splitlines(True) if not line.startswith(b"# "))
        assert body == expected.to_csv(index=False, lineterminator="\n").encode()
        got = pd.read_csv(io.BytesIO(r.data), comment="#") if r.data.strip() else pd.DataFrame()
        assert len(got) == len(expected)


def test_circos_csv_counts_come_from_the_inputs(client, demo_store):
    """The circos download's numSigI1, checked against the input file itself (SPEC-data.md):
    per (cell type, target), the genes whose interaction FDR is below the cutoff; 0 for a
    ligand that is not also a receptor."""
    condition = "highCIN_vs_lowCIN"
    expected = num_sig_i1(demo_store.parent, condition, 0.1)
    r = client.get("/api/data/circos.csv", query_string={"condition": condition, "fdr_i": 0.1})
    assert r.status_code == 200
    nodes = pd.read_csv(io.BytesIO(r.data), comment="#").query("kind == 'node'")
    got = dict(zip(zip(nodes["cell_type"], nodes["target"], strict=True), nodes["numSigI1"]))
    assert got and any(got.values())
    assert got == {key: expected[key] for key in got}


def test_defaults_draw_something(client):
    for name in FIGURES:
        doc = client.get(f"/api/figure/{name}").json
        assert doc["figure"]["data"], f"{name}: the default view of the demo draws nothing"


@pytest.mark.parametrize(
    ("name", "query", "needle"),
    [
        ("circos", {"condition": "nope"}, "unknown condition"),
        ("circos", {"fdr_i": "0.5"}, "fdr_i"),
        ("circos", {"fdr_l": "abc"}, "fdr_l"),
        ("circos", {"min_numsigi1": "-1"}, "min_numsigi1"),
        ("circos", {"min_numsigi1": "2.5"}, "min_numsigi1"),
        ("circos", {"min_log2fc": "nan"}, "min_log2fc"),
        ("circos", {"genes": "Ccl2,NotAGene"}, "NotAGene"),
        ("pairwise", {"cell_type1": "../../etc/passwd"}, "unknown cell type"),
        ("pairwise", {"bidirectional": "maybe"}, "bidirectional"),
        ("effects", {"condition": "highCIN_vs_lowCIN AND highCIN_vs_noSTING"}, "single"),
        ("effects", {"seeds": "Ccl2, Xyz1"}, "Xyz1"),
        ("effects", {"steps": "9"}, "steps"),
    ],
)
def test_bad_parameters_are_400(client, name, query, needle):
    for route in (f"/api/figure/{name}", f"/api/data/{name}.csv"):
        r = client.get(route, query_string=query)
        assert r.status_code == 400, (route, query)
        assert needle.lower() in r.json["error"].lower()


def test_unknown_figure_is_404_json(client):
    for route in ("/api/figure/../../etc/passwd", "/api/figure/nope", "/api/data/nope.csv"):
        r = client.get(route)
        assert r.status_code == 404
        assert r.mimetype == "application/json"


def test_security_headers(client):
    for path in ["/", "/circos", "/api/meta", "/api/figure/circos", "/healthz", "/nope"]:
        h = client.get(path).headers
        csp = h["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-eval" not in csp
        assert "script-src 'self'" in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert h["X-Frame-Options"] == "DENY"


def test_gzip_etag_and_cache_control(client):
    plain = client.get("/api/figure/circos")
    zipped = client.get("/api/figure/circos", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.data)) == plain.json
    assert len(zipped.data) < len(plain.data) / 3
    assert "max-age" in plain.headers["Cache-Control"]
    etag = zipped.headers["ETag"]
    again = client.get(
        "/api/figure/circos", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b""
    meta = client.get("/api/meta", headers={"Accept-Encoding": "gzip"})
    assert meta.headers["Content-Encoding"] == "gzip" and meta.headers["ETag"]
    assert (
        client.get(
            "/api/meta", headers={"If-None-Match": meta.headers["ETag"], "Accept-Encoding": "gzip"}
        ).status_code
        == 304
    )
    page = client.get("/circos", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"


def script_urls(html):
    import re

    return re.findall(r'<script src="([^"]+)"', html)


def page_data(html):
    import json
    import re

    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


@pytest.mark.parametrize("partial", [True, False])
def test_plotly_is_served_locally(demo_store, tmp_path, make_settings, partial):
    """The partial bundle when its file exists, else the plotly package's full bundle."""
    from ctsite.web.app import create_app

    bundle = tmp_path / "plotly-partial.min.js"
    if partial:
        bundle.write_text("/*! plotly.js partial bundle (test stand-in) */ window.Plotly = {};")
    client = create_app(
        make_settings(tmp_path), store_path=demo_store, partial_bundle=bundle
    ).test_client()
    html = client.get("/circos").get_data(as_text=True)
    assert not any("/static/vendor/" in u for u in script_urls(html))  # loaded on interaction
    src = page_data(html)["plotly"]
    assert src.startswith(
        "/static/vendor/plotly-partial.min.js?v=" if partial else "/static/vendor/plotly.min.js?v="
    )
    r = client.get(src, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert b"plotly.js" in gzip.decompress(r.data)[:400]
    assert "immutable" in r.headers["Cache-Control"]
    other = "plotly.min.js" if partial else "plotly-partial.min.js"
    assert client.get(f"/static/vendor/{other}").status_code == 404
    for asset in ("style.css", "figure.js", "thumb-circos.svg"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_lru_cache_hits(app, client):
    cache = app.extensions["ctsite_cache"]
    query = {"min_numsigi1": "3"}
    client.get("/api/figure/circos", query_string=query)
    hits = cache.hits
    first = client.get("/api/figure/circos", query_string=query)
    assert cache.hits == hits + 1
    # the same parameters spelt differently share one cache entry
    same = client.get("/api/figure/circos", query_string={"min_numsigi1": "3.0", "x": "1"})
    assert cache.hits == hits + 2
    assert same.data == first.data


def test_unknown_page_and_wrong_method_use_the_site_error_page(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert 'class="topbar"' in html and "Back to the home page" in html  # the site's own page
    assert "Not Found" in html
    r = client.post("/circos")
    assert r.status_code == 405 and r.mimetype == "text/html"
    assert "Back to the home page" in r.get_data(as_text=True)
    assert "GET" in r.headers["Allow"]
    # the API keeps answering in JSON
    r = client.post("/api/figure/circos")
    assert r.status_code == 405 and r.mimetype == "application/json" and r.json["error"]
    assert client.get("/api/nope").mimetype == "application/json"


def test_figure_page_reserves_the_figure_height(client):
    doc = client.get("/api/figure/effects").json
    html = client.get("/effects").get_data(as_text=True)
    height = doc["figure"]["layout"]["height"]
    assert f'style="height: {height}px; --h: {height}"' in html  # (--h: the picture's shape)


def test_routes_live_in_blueprints(app):
    assert set(app.blueprints) == {"pages", "api"}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {"pages.home", "pages.circos", "api.api_figure", "api.healthz"} <= endpoints


@pytest.mark.parametrize(
    ("accept", "zipped"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("br, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("*;q=0", False),
        ("identity", False),
        ("br", False),
        (None, False),
    ],
)
def test_gzip_follows_the_parsed_accept_encoding(client, accept, zipped):
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    r = client.get("/api/figure/circos", headers=headers)
    assert r.status_code == 200
    assert (r.headers.get("Content-Encoding") == "gzip") is zipped

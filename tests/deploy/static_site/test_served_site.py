"""Journey: `ctsite export-site` of the demo → a plain static file server (`python -m
http.server`) with the site under a path prefix → every page in Chromium, on the real browser
engine (the bundle web-assets/build.mjs writes, which the export copies).

Each page renders with its title, its links lead to the other pages under the prefix, the
default view's picture loads, and no request goes anywhere but that server. Every control of
every figure, changed in the form as a user would and submitted, draws the figure the server's
/api/figure answers for the same query (canonical comparison, tests/support/canonical.py);
hovering shows a label; the gene search suggests genes; the CSV (the engine's whole text, with
the server's provenance lines but the `url`, which names the static page), SVG and PNG download
under the server's file names; an address with a query, the server's or the static page's,
opens that view. A second copy, exported without the browser engine, keeps its default views
and says plainly that the controls need the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import pytest

from ctsite.figures import FIGURES
from tests.deploy.static_site.conftest import plain_settings, without_url_line
from tests.support.canonical import differences
from tests.support.cli import cli_env, run_ctsite
from tests.support.static_host import static_host
from tests.web.test_browser import browser  # Chromium as the site's tests run it

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]
__all__ = ["browser"]  # (a fixture of this module's tests)

PREFIX = "some/prefix"  # where the CLI's export is served: /some/prefix/
BARE = "bare"  # where the engine-less export is served: /bare/
OTHER_VIEW = (
    "condition=highCIN_vs_lowCIN&fdr_i=0.1&fdr_l=0.05&min_numsigi1=3&min_numdeg=0&min_log2fc=0.12"
)
GENE_PREFIX = "Ccl"
PAGES = {"index.html": None, **{f"{name}/index.html": name for name in FIGURES}}


def default_query(server_client, name: str) -> str:
    page = server_client.get(f"/{name}").get_data(as_text=True)
    return page.split('data-query="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


@pytest.fixture(scope="module")
def host_root(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Path:
    """The static server's folder: the CLI's export (with the built engine) at PREFIX, one
    without the engine at BARE."""
    from ctsite.deploy.static_site.export_site import export_site
    from ctsite.web.snapshot import AppSnapshot

    root = tmp_path_factory.mktemp("host")
    result = run_ctsite(
        "export-site", str(root / PREFIX), "--data", str(demo_store),
        cwd=root, env=cli_env(without=("CTSITE_",), COLUMNS="200"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    engine = list((root / PREFIX / "static/vendor").glob("ctsite-engine.*.js"))
    assert engine, "no engine in the export: build web-assets first (node web-assets/build.mjs)"
    no_engine = partial(AppSnapshot, plain_settings(root), engine=root / "no-such-engine.js")
    export_site(root / BARE, demo_store, no_engine)
    return root


@pytest.fixture(scope="module")
def host(host_root: Path) -> Iterator[str]:
    """`python -m http.server` over the host's folder; its base URL."""
    with static_host(host_root) as base:
        yield base


class Visit:
    """A browser page that records every request, every failed answer and console error; any
    request to another host or port than the static server is recorded and refused."""

    def __init__(self, browser, host: str) -> None:
        self.context = browser.new_context(
            accept_downloads=True, viewport={"width": 1400, "height": 950}
        )
        self.page = self.context.new_page()
        self.origin = urlparse(host).netloc
        self.requests: list[str] = []
        self.off_site: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}")
        )

        def route(r) -> None:
            url = r.request.url
            self.requests.append(url)
            if url.startswith(("data:", "blob:")) or urlparse(url).netloc == self.origin:
                r.continue_()
            else:
                self.off_site.append(url)
                r.abort()

        self.page.route("**/*", route)

    def check_clean(self, under: str) -> None:
        assert not self.off_site, f"requests left the static server: {self.off_site}"
        outside = [u for u in self.requests if u.startswith("http") and not u.startswith(under)]
        assert not outside, f"requests outside the site's folder: {outside}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture
def visit(browser, host):
    v = Visit(browser, host)
    yield v
    v.context.close()


def site_name(server_client) -> str:
    page = server_client.get("/").get_data(as_text=True)
    return page.split("<title>", 1)[1].split("</title>", 1)[0]


def test_every_page_and_link_under_a_path_prefix(visit, host, server_client):
    base = urljoin(host, PREFIX + "/")
    name = site_name(server_client)
    page = visit.page
    for rel, figure in PAGES.items():
        response = page.goto(base + rel)
        assert response is not None and response.status == 200
        title = name if figure is None else f"{FIGURES[figure].title} · {name}"
        assert page.title() == title
        # the style sheet and icon came from the export (the page is styled)
        styled = "Array.from(document.styleSheets).some((s) => s.href && s.cssRules.length > 0)"
        assert page.evaluate(styled)
        links = page.eval_on_selector_all("header a", "els => els.map((e) => e.href)")
        assert links and all(link.startswith(base) for link in links), links
    # the navigation, clicked: every page from every page, under the prefix
    page.goto(base + "index.html")
    for rel, figure in PAGES.items():
        label = "Home" if figure is None else FIGURES[figure].title
        page.locator("header nav a", has_text=label).first.click()
        page.wait_for_load_state("load")
        assert page.url == base + rel
        assert page.locator("nav a[aria-current=page]").inner_text() == label
    # the home page's cards and the brand lead to the pages too
    page.goto(base + "circos/index.html")
    page.locator("header a.brand").click()
    page.wait_for_load_state("load")
    assert page.url == base + "index.html"
    assert page.locator("img.thumb").count() == 3
    page.wait_for_function(
        "() => Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)"
    )
    for figure in FIGURES:
        page.goto(base + "index.html")
        page.locator(f"a.button[href='{figure}/index.html']").click()
        page.wait_for_load_state("load")
        assert page.url == base + f"{figure}/index.html"
    visit.check_clean(base)


def test_the_404_page(visit, host, server_client):
    base = urljoin(host, PREFIX + "/")
    page = visit.page
    page.goto(base + "404.html")
    assert page.title() == f"Not Found · {site_name(server_client)}"
    page.locator("main a", has_text="Back to the home page").click()
    page.wait_for_load_state("load")
    assert page.url == base + "index.html"
    visit.check_clean(base)


@pytest.mark.parametrize("figure", list(FIGURES))
def test_default_picture_and_csv_equal_the_servers(visit, host, server_client, figure):
    base = urljoin(host, PREFIX + "/")
    page = visit.page
    page.goto(base + f"{figure}/index.html")
    static = page.locator("#figure-static")
    assert static.count() == 1
    picture = page.locator("#figure-static img, #figure-static svg").first
    assert picture.is_visible()
    if page.locator("#figure-static img").count():  # a picture file per width class
        page.wait_for_function(
            "() => { const i = document.querySelector('#figure-static img');"
            " return i.complete && i.naturalWidth > 0; }"
        )
        assert page.evaluate("document.querySelector('#figure-static img').currentSrc").startswith(
            base + "pictures/"
        )
    query = static.get_attribute("data-query")
    expected = server_client.get(f"/api/data/{figure}.csv?{query}")
    assert expected.status_code == 200
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    got = Path(download.path()).read_bytes()
    assert download.suggested_filename == expected.headers["Content-Disposition"].split('"')[1]
    got_lines, got_url = without_url_line(got)
    want_lines, want_url = without_url_line(expected.get_data())
    assert got_lines == want_lines
    path, _, parameters = want_url.partition(b"?")
    assert path.endswith(f"/{figure}".encode())
    assert got_url == f"{figure}/index.html?".encode() + parameters
    visit.check_clean(base)


@pytest.mark.parametrize("figure", list(FIGURES))
def test_without_the_engine_the_default_view_stays_and_says_why(visit, host, figure):
    base = urljoin(host, BARE + "/")
    page = visit.page
    page.goto(base + f"{figure}/index.html")
    assert page.locator("#status").inner_text().startswith("This is the default view")
    assert "figure engine" in page.locator("#status").inner_text()
    assert page.locator("#submit").is_disabled()
    assert page.locator("#export-svg").is_disabled()
    page.hover(".figure-wrap")  # what would draw the interactive figure on the server's site
    page.wait_for_load_state("networkidle")
    assert page.locator("#figure-static").count() == 1
    assert page.get_attribute("#figure", "data-view") == "static"
    assert page.evaluate("typeof window.Plotly") == "undefined"
    # the CSV link is the exported default view's file
    href = page.evaluate("document.getElementById('download-csv').href")
    assert href.startswith(base + "downloads/") and href.endswith(".csv")
    # an address of another view says that it needs the engine (the default is shown)
    page.goto(base + f"{figure}/index.html?condition=nope")
    assert "needs the figure engine" in page.locator("#figure-error").inner_text()
    visit.check_clean(base)


# ---- the real engine: every control, hover, gene search, downloads, addresses ----------------

# Each figure's controls, changed one after the other as a user would (name → value); every
# step is a new view drawn by the engine and compared with the server's answer.
CONTROL_CHANGES: dict[str, list[tuple[str, str | bool]]] = {
    "circos": [
        ("condition", "highCIN_vs_noSTING"),
        ("fdr_i", "0.1"),
        ("fdr_l", "0.1"),
        ("min_numsigi1", "3"),
        ("min_numdeg", "1"),
        ("min_log2fc", "0.2"),
        ("genes", "Ccl"),  # typed; the first suggestion picked
    ],
    "pairwise": [
        ("condition", "highCIN_vs_lowCIN"),
        ("cell_type1", "T cells"),
        ("cell_type2", "Tumor cells"),
        ("cell_type3", "Macrophages/mMDSC"),
        ("bidirectional", True),
        ("fdr_i", "0.2"),
        ("fdr_l", "0.1"),
        ("min_numsigi1", "5"),
        ("min_expression", "0.05"),
        ("min_log2fc", "0.05"),
    ],
    "effects": [
        ("condition", "highCIN_vs_noSTING"),
        ("cell_type", "Macrophages/mMDSC"),
        ("seeds", "Ccl"),  # typed; the first suggestion picked
        ("fdr_i", "0.1"),
        ("min_log2fc", "0.05"),
        ("min_expression", "0.05"),
        ("fdr_l", "0.1"),
        ("steps", "3"),
    ],
}
SIZE_NAME = """() => {
  const sizes = JSON.parse(document.getElementById('page-data').textContent).sizes || [];
  const hit = sizes.find((s) => !s.media || window.matchMedia(s.media).matches);
  return hit ? hit.name : null;
}"""  # the width class figure.js asks for (the media query its <picture> uses)
# (the whole figure: a Circos' shapes, labels and colour bars are drawn apart, figure_layer.js)
DRAWN = """() => { const g = window.ctsiteFigureLayer.whole(document.getElementById('figure'));
  return JSON.parse(JSON.stringify({data: g.data, layout: g.layout})); }"""


def test_every_control_is_in_the_walk():
    """CONTROL_CHANGES names every control of every figure (the one definition's list)."""
    from ctsite.figures.browser_spec import figure_spec

    spec = figure_spec()["figures"]
    for name in FIGURES:
        assert [c for c, _ in CONTROL_CHANGES[name]] == [c["name"] for c in spec[name]["controls"]]


def wait_drawn(page, after: str | None = None) -> str:
    """Wait until the page drew a figure (another than the draw `after`); its draw id."""
    page.wait_for_function(
        """(after) => { const g = document.getElementById('figure');
        return g.dataset.ready && g.dataset.ready !== after
          && !document.querySelector('.figure-card').classList.contains('loading'); }""",
        arg=after,
        timeout=30000,
    )
    return page.get_attribute("#figure", "data-ready") or ""


def drawn_part(expected: Any, actual: Any) -> Any:
    """The part of what Plotly holds (gd.data, gd.layout) that the document set: Plotly adds
    defaults (an axis's computed range, trace uids), it does not change what it was given."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: drawn_part(v, actual[k]) for k, v in expected.items() if k in actual}
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [drawn_part(e, a) for e, a in zip(expected, actual, strict=True)]
    return actual


def server_query(page, query: str) -> str:
    size = page.evaluate(SIZE_NAME)
    return f"{query}&size={size}" if size else query


def assert_drawn_as_server(page, server_client, figure: str) -> str:
    """The figure on the page is the server's /api/figure document for the page's query; the
    query."""
    query = page.get_attribute("#figure", "data-query") or ""
    answer = server_client.get(f"/api/figure/{figure}?{server_query(page, query)}")
    assert answer.status_code == 200, (query, answer.get_json())
    expected = answer.get_json()
    drawn = page.evaluate(DRAWN)
    want = {"data": expected["figure"]["data"], "layout": expected["figure"]["layout"]}
    diff = differences(want, drawn_part(want, drawn))
    assert not diff, f"{figure}?{query}: {str(diff)[:3000]}"
    assert page.locator("#status").inner_text().strip() == (expected["message"] or "")
    assert page.locator("#figure-error").is_hidden()
    return query


def change(page, control: str, value: str | bool) -> None:
    """Change one control like a user: choose, tick, type (a gene: type, pick a suggestion)."""
    box = page.locator(f"#c-{control}")
    kind = box.get_attribute("data-kind")
    if kind in ("condition", "cell_type"):
        box.select_option(value=str(value))
    elif kind == "bool":
        box.set_checked(bool(value))
    elif kind == "genes":
        box.fill("")
        box.press_sequentially(str(value))
        options = f"#{box.get_attribute('list')} option"
        page.wait_for_function(f"() => document.querySelectorAll('{options}').length > 0")
        box.fill(page.locator(options).first.get_attribute("value") or "")
    else:
        box.fill(str(value))


def hover_label(page) -> str:
    """Point at the figure's marks until Plotly shows a hover label; its text. Marks that are
    not SVG elements of their own (the Circos rings, chords and labels hover from traces that
    draw nothing) are found by pointing across the figure."""
    label = page.locator("#figure .hoverlayer .hovertext")
    marks = page.locator("#figure .scatterlayer .point, #figure .barlayer .point")
    for i in range(min(marks.count(), 60)):
        box = marks.nth(i).bounding_box()
        if not box or box["width"] == 0:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if label.count():
            return label.first.text_content() or ""
    box = page.locator("#figure .main-svg").first.bounding_box()
    if box:
        for fy in (0.5, 0.3, 0.7, 0.2, 0.8):
            for fx in (0.5, 0.3, 0.7, 0.4, 0.6, 0.2, 0.8):
                page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                if label.count():
                    return label.first.text_content() or ""
    return ""


def download(page, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(selector)
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


@pytest.mark.parametrize("figure", list(FIGURES))
def test_every_control_draws_the_servers_figure(visit, host, server_client, figure):
    base = urljoin(host, PREFIX + "/")
    page = visit.page
    page.goto(base + f"{figure}/index.html")
    assert page.get_attribute("#figure", "data-view") == "static"
    page.hover(".figure-wrap")  # the first interaction: the engine computes the default view
    drawn = wait_drawn(page)
    assert page.get_attribute("#figure", "data-view") == "interactive"
    assert page.locator("#figure-static").count() == 0
    assert assert_drawn_as_server(page, server_client, figure) == default_query(
        server_client, figure
    )
    assert hover_label(page), "no hover label over the default view"
    for control, value in CONTROL_CHANGES[figure]:
        change(page, control, value)
        page.click("#submit")
        drawn = wait_drawn(page, drawn)
        query = assert_drawn_as_server(page, server_client, figure)
        sent = parse_qs(query).get(control, [""])[0]
        typed = page.input_value(f"#c-{control}") if value is not True else "1"
        assert sent == typed and sent not in ("", "0"), (control, query)
        assert urlparse(page.url).query == query  # the view is in the address
    assert hover_label(page), "no hover label over the last view"
    # the downloads of the last view: the server's file names; the CSV the server's but its url
    expected = server_client.get(f"/api/data/{figure}.csv?{query}")
    stem = expected.headers["Content-Disposition"].split('"')[1].removesuffix(".csv")
    name, csv = download(page, "#download-csv")
    assert name == f"{stem}.csv"
    got_lines, got_url = without_url_line(csv)
    want_lines, want_url = without_url_line(expected.get_data())
    assert got_lines == want_lines
    assert got_url == f"{base}{figure}/index.html?".encode() + want_url.split(b"?", 1)[1]
    name, svg = download(page, "#export-svg")
    assert name == f"{stem}.svg" and svg.lstrip().startswith(b"<svg")
    assert b"<ctsite:provenance" in svg and b"store_fingerprint" in svg
    name, png = download(page, "#export-png")
    assert name == f"{stem}.png" and png[:8] == b"\x89PNG\r\n\x1a\n" and b"tEXt" in png
    requested = [urlparse(u).path for u in visit.requests]
    assert not any("/api/" in path for path in requested), requested
    assert any(path.endswith(".json") and "/data/store." in path for path in requested)
    visit.check_clean(base)


@pytest.mark.parametrize(
    ("control", "typed", "head"), [("genes", GENE_PREFIX, ""), ("seeds", "Ccl2, Ap", "Ccl2, ")]
)
def test_the_gene_search_suggests_the_servers_genes(
    visit, host, server_client, control, typed, head
):
    figure = "circos" if control == "genes" else "effects"
    base = urljoin(host, PREFIX + "/")
    page = visit.page
    page.goto(base + f"{figure}/index.html")
    box = page.locator(f"#c-{control}")
    box.fill("")
    box.press_sequentially(typed)
    last = typed.split(",")[-1].strip()
    expected = server_client.get(f"/api/genes?q={last}").get_json()["genes"]
    assert expected
    options = f"#{box.get_attribute('list')} option"
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length === n", arg=[options, len(expected)]
    )
    got = page.eval_on_selector_all(options, "els => els.map((e) => e.value)")
    assert got == [head + gene for gene in expected]
    visit.check_clean(base)


# a view other than the default of each figure, as the server's address writes it
ADDRESSES = {
    "circos": OTHER_VIEW,
    "pairwise": "condition=highCIN_vs_lowCIN&cell_type1=T+cells&cell_type2=Tumor+cells"
    "&bidirectional=1&fdr_i=0.2&fdr_l=0.05&min_numsigi1=5&min_expression=0&min_log2fc=0.12",
    "effects": "condition=highCIN_vs_noSTING&cell_type=Macrophages%2FmMDSC&seeds=Ccl2%2C+Apoe"
    "&fdr_i=0.1&min_log2fc=0.12&min_expression=0&fdr_l=0.05&steps=3",
}


@pytest.mark.parametrize("figure", list(FIGURES))
def test_an_address_opens_its_view(visit, host, server_client, figure):
    base = urljoin(host, PREFIX + "/")
    page = visit.page
    query = ADDRESSES[figure]
    for address in (f"{figure}/index.html?{query}", f"{figure}?{query}"):
        # the static page's address, then the server's (/circos?…) under the prefix: the
        # host's folder redirect (/circos → /circos/, query kept) serves the page
        page.goto(base + address)
        wait_drawn(page)  # at once: the page's picture is of the default view, not this one
        assert page.get_attribute("#figure", "data-view") == "interactive"
        for key, values in parse_qs(query).items():
            box = page.locator(f"#c-{key}")
            checkbox = box.get_attribute("type") == "checkbox"
            shown = ("1" if box.is_checked() else "0") if checkbox else box.input_value()
            assert shown == values[0], key
        assert assert_drawn_as_server(page, server_client, figure) == query
    assert page.url == base + f"{figure}/?{query}"
    visit.check_clean(base)


def test_a_refused_view_says_why(visit, host, server_client):
    """A view the engine refuses (a gene the store does not have): the server's 400 message,
    inline, as on the server's site."""
    base = urljoin(host, PREFIX + "/")
    page = visit.page
    page.goto(base + "effects/index.html")
    page.fill("#c-seeds", "Nosuchgene")
    page.click("#submit")
    page.wait_for_function("() => !document.getElementById('figure-error').hidden")
    query = urlparse(page.url).query
    assert "seeds=Nosuchgene" in query
    refused = server_client.get(f"/api/figure/effects?{query}")
    assert refused.status_code == 400
    assert refused.get_json()["error"] in page.locator("#figure-error").inner_text()
    visit.check_clean(base)

"""Journey: `ctsite export-site` of the demo → a plain static file server (`python -m
http.server`) with the site under a path prefix → every page in Chromium.

Each page renders with its title, its links lead to the other pages under the prefix, the
default view's picture loads, the CSV link downloads the default view's CSV equal to the
server's `/api/data` CSV (but its `url` line, which names the page on the static site), and no
request goes anywhere but that server. A second copy, exported without the browser engine,
keeps its default views and says plainly that the controls need the engine. A third carries a
stand-in engine (the interface of design-26: `ctsiteEngine.openSite(index, {fetch})` →
`figure(name, query)`, `genes(prefix)`) answering a few views with the server's own answers,
so figure.js's static mode is checked on its own: the figure drawn from the engine, the CSV
saved with the server's provenance lines, a view opened from the address, gene suggestions.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from ctsite.figures import FIGURES
from tests.deploy.static_site.conftest import plain_settings, without_url_line
from tests.support.cli import cli_env, run_ctsite, start_python, stop_process, wait_while_running
from tests.web.test_browser import browser, free_port  # Chromium as the site's tests run it

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]
__all__ = ["browser"]  # (a fixture of this module's tests)

PREFIX = "some/prefix"  # where the CLI's export is served: /some/prefix/
BARE = "bare"  # where the engine-less export is served: /bare/
STAND_IN = "stand-in"  # where the export with a stand-in engine is served
OTHER_VIEW = (
    "condition=highCIN_vs_lowCIN&fdr_i=0.1&fdr_l=0.05&min_numsigi1=3&min_numdeg=0&min_log2fc=0.12"
)
GENE_PREFIX = "Ccl"
PAGES = {"index.html": None, **{f"{name}/index.html": name for name in FIGURES}}


STAND_IN_ENGINE = """window.ctsiteEngine = (() => {
  const answers = ANSWERS;
  const genes = GENES;
  async function openSite(indexUrl, { fetch }) {
    const index = await (await fetch(indexUrl)).json();
    if (index.index_version !== 1) throw new Error("not a ctsite data index");
    return {
      store: index,
      figure: async (name, query) =>
        answers[`${name}?${query}`] || { status: 400, error: `stand-in: no view ${name}?${query}` },
      genes: async (prefix) => genes[prefix] || [],
    };
  }
  return { openSite };
})();
"""


def csv_parts(csv: bytes) -> tuple[str, str]:
    """A server CSV's `parameters` provenance value and its rows (after the `#` lines)."""
    text = csv.decode()
    head = [line for line in text.splitlines() if line.startswith("# ")]
    parameters = next(line for line in head if line.startswith("# parameters: "))
    return parameters[len("# parameters: ") :], text.split("\n", len(head))[-1]


def stand_in_engine(path: Path, server_client, figure_queries: dict[str, list[str]]) -> None:
    """A stand-in engine answering `figure_queries` (name → queries) as the server does."""
    answers = {}
    for name, queries in figure_queries.items():
        for query in queries:
            sized = f"{query}&size=desktop" if FIGURES[name].sizes else query
            doc = server_client.get(f"/api/figure/{name}?{sized}").get_json()
            parameters, rows = csv_parts(server_client.get(f"/api/data/{name}.csv?{query}").data)
            answers[f"{name}?{sized}"] = {
                "status": 200, "figure": doc["figure"], "message": doc["message"] or "",
                "csv": rows, "parameters": parameters,
            }  # fmt: skip
    genes = {GENE_PREFIX: server_client.get(f"/api/genes?q={GENE_PREFIX}").get_json()["genes"]}
    path.write_text(
        STAND_IN_ENGINE.replace("ANSWERS", json.dumps(answers)).replace("GENES", json.dumps(genes))
    )


def default_query(server_client, name: str) -> str:
    page = server_client.get(f"/{name}").get_data(as_text=True)
    return page.split('data-query="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


@pytest.fixture(scope="module")
def host_root(tmp_path_factory: pytest.TempPathFactory, demo_store: Path, server_client) -> Path:
    """The static server's folder: the CLI's export at PREFIX, one without engine at BARE, one
    with the stand-in engine at STAND_IN."""
    from ctsite.deploy.static_site.export_site import export_site
    from ctsite.web.snapshot import AppSnapshot

    root = tmp_path_factory.mktemp("host")
    result = run_ctsite(
        "export-site", str(root / PREFIX), "--data", str(demo_store),
        cwd=root, env=cli_env(without=("CTSITE_",), COLUMNS="200"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    no_engine = partial(AppSnapshot, plain_settings(root), engine=root / "no-such-engine.js")
    export_site(root / BARE, demo_store, no_engine)
    engine = root / "stand-in-engine.js"
    views = {name: [default_query(server_client, name)] for name in FIGURES}
    views["circos"].append(OTHER_VIEW)
    stand_in_engine(engine, server_client, views)
    export_site(
        root / STAND_IN, demo_store, partial(AppSnapshot, plain_settings(root), engine=engine)
    )
    return root


@pytest.fixture(scope="module")
def host(host_root: Path) -> Iterator[str]:
    """`python -m http.server` over the host's folder; its base URL."""
    port = free_port()
    proc = start_python(
        "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(host_root),
        cwd=host_root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(base, timeout=2):
                return True
        except OSError:
            return False

    try:
        wait_while_running(proc, answers, "the static server answers", timeout=30)
        yield base
    finally:
        stop_process(proc)


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


def wait_drawn(page) -> None:
    page.wait_for_function(
        "() => { const g = document.getElementById('figure');"
        " return g.dataset.ready && !document.querySelector('.figure-card').classList.contains('loading'); }",
        timeout=15000,
    )


@pytest.mark.parametrize("figure", list(FIGURES))
def test_with_an_engine_the_figure_and_csv_come_from_it(visit, host, server_client, figure):
    base = urljoin(host, STAND_IN + "/")
    page = visit.page
    page.goto(base + f"{figure}/index.html")
    assert page.get_attribute("#figure", "data-view") == "static"
    page.hover(".figure-wrap")  # the first interaction: the engine computes the figure
    wait_drawn(page)
    assert page.get_attribute("#figure", "data-view") == "interactive"
    assert page.locator("#figure .main-svg").count() >= 1
    assert page.locator("#figure-static").count() == 0
    assert page.locator("#figure-error").is_hidden()
    # the CSV: the engine's rows under the server's provenance lines, the server's file name
    query = default_query(server_client, figure)
    expected = server_client.get(f"/api/data/{figure}.csv?{query}")
    assert page.evaluate("document.getElementById('download-csv').href").startswith("blob:")
    with page.expect_download() as info:
        page.click("#download-csv")
    got = Path(info.value.path()).read_bytes()
    assert info.value.suggested_filename == expected.headers["Content-Disposition"].split('"')[1]
    got_lines, got_url = without_url_line(got)
    want_lines, want_url = without_url_line(expected.get_data())
    assert got_lines == want_lines
    assert got_url == f"{base}{figure}/index.html?".encode() + want_url.split(b"?", 1)[1]
    requested = [urlparse(u).path for u in visit.requests]
    assert not any("/api/" in path for path in requested), requested
    assert any(path.endswith(".json") and "/data/store." in path for path in requested)
    visit.check_clean(base)


def test_with_an_engine_an_address_opens_its_view(visit, host):
    base = urljoin(host, STAND_IN + "/")
    page = visit.page
    page.goto(base + f"circos/index.html?{OTHER_VIEW}")
    wait_drawn(page)  # at once: the page's picture is of the default view, not this one
    assert page.get_attribute("#figure", "data-view") == "interactive"
    assert page.input_value("#c-fdr_i") == "0.1"
    assert page.input_value("#c-condition") == "highCIN_vs_lowCIN"
    assert page.locator("#figure-error").is_hidden()
    # a view the engine refuses: its message inline, as the server's 400
    page.fill("#c-min_numsigi1", "4")
    page.click("#submit")
    page.wait_for_function("() => !document.getElementById('figure-error').hidden")
    assert "stand-in: no view circos?" in page.locator("#figure-error").inner_text()
    assert "min_numsigi1=4" in page.url
    # the server's address of a view (/circos?…) under the prefix: the host's folder redirect
    # (/circos → /circos/, query kept) serves the page, which opens that view
    page.goto(base + f"circos?{OTHER_VIEW}")
    wait_drawn(page)
    assert page.url == base + f"circos/?{OTHER_VIEW}"
    assert page.input_value("#c-fdr_i") == "0.1"
    assert page.locator("#figure-error").is_hidden()
    visit.check_clean(base)


def test_with_an_engine_genes_are_suggested(visit, host, server_client):
    base = urljoin(host, STAND_IN + "/")
    page = visit.page
    page.goto(base + "circos/index.html")
    page.fill("#c-genes", GENE_PREFIX)
    expected = server_client.get(f"/api/genes?q={GENE_PREFIX}").get_json()["genes"]
    assert expected
    page.wait_for_function(
        "n => document.querySelectorAll('#dl-genes option').length === n", arg=len(expected)
    )
    options = page.eval_on_selector_all("#dl-genes option", "els => els.map((e) => e.value)")
    assert options == expected
    visit.check_clean(base)

"""End to end in a real browser: `ctsite serve` as a subprocess, Debian's Chromium via Playwright.

The server starts in an empty directory with no configuration, so it also proves that a first-time
user gets the demo site with one command. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from ctsite.store import versions
from tests.support.cli import cli_env, start_ctsite, stop_process, wait_healthy
from tests.support.components import require_module, unavailable
from tests.support.servers import serving

NPM_SECONDS = 600  # each of `npm ci` and the bundle build, when the bundle is missing
SERVE_SECONDS = 120  # `ctsite serve` compiles the demo, then answers /healthz
# the first test may build the partial plotly.js bundle and start the site (session fixtures)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(2 * NPM_SECONDS + SERVE_SECONDS + 300),
]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def partial_bundle() -> Path:
    """The partial plotly.js bundle, built from the npm registry by web-assets/ when missing
    (as `.ci/run` and the image do); skips when npm is not installed."""
    from ctsite.web.assets import PARTIAL_BUNDLE

    if PARTIAL_BUNDLE.is_file():
        return PARTIAL_BUNDLE
    if shutil.which("npm") is None:
        unavailable("npm is not installed: cannot build the partial plotly.js bundle")
    assets = Path(__file__).resolve().parents[2] / "web-assets"
    for command in (["npm", "ci", "--no-audit", "--no-fund"], ["node", "build.mjs"]):
        result = subprocess.run(
            command, cwd=assets, capture_output=True, text=True, timeout=NPM_SECONDS
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert PARTIAL_BUNDLE.is_file()
    return PARTIAL_BUNDLE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, partial_bundle: Path) -> Iterator[str]:
    """`ctsite serve` with no data configured (it builds and serves the demo)."""
    workdir = tmp_path_factory.mktemp("serve")
    port = free_port()
    log = (workdir / "serve.log").open("w")
    proc = start_ctsite(
        "serve", "--port", str(port),
        cwd=workdir, env=cli_env(without=("CTSITE_",)), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        if wait_healthy(proc, port, timeout=SERVE_SECONDS) is None:
            pytest.fail(
                "ctsite serve did not become healthy: " + (workdir / "serve.log").read_text()
            )
        assert versions.manifest_path(workdir / "data" / "demo" / "compiled").is_file()
        yield base
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable("chromium is not installed (apt-get install chromium)")
    sync_api = require_module("playwright.sync_api", "pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page plus what it did: console errors and every URL it requested."""

    def __init__(self, browser, base: str, **context_args) -> None:
        self.context = browser.new_context(accept_downloads=True, **context_args)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.page.add_init_script(
            "window.layoutShift = 0; new PerformanceObserver((list) => {"
            " for (const e of list.getEntries()) if (!e.hadRecentInput) layoutShift += e.value;"
            " }).observe({type: 'layout-shift', buffered: true});"
        )
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            url = r.request.url
            self.requests.append(url)
            host = urlparse(url).hostname
            if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        self.page.route("**/*", route)

    def wait_figure(self, previous: str | None = None) -> int:
        """Wait until the figure is drawn (after `previous` ready mark); count its SVG elements."""
        self.page.wait_for_function(
            "prev => { const g = document.getElementById('figure');"
            " return g.dataset.ready && g.dataset.ready !== prev"
            " && !document.querySelector('.figure-card').classList.contains('loading'); }",
            arg=previous or "",
            timeout=15000,
        )
        return self.page.eval_on_selector_all("#figure svg *", "els => els.length")

    def activate(self, url: str | None = None) -> int:
        """Open `url` (if given), point at the static picture and wait for the interactive
        figure that replaces it (what a visitor's first pointer movement over it does)."""
        if url is not None:
            self.page.goto(url)
        assert self.page.locator(PICTURE).count() == 1, "no static picture"
        self.page.hover(".figure-wrap")
        count = self.wait_figure()
        assert self.page.locator("#figure-static").count() == 0, "the picture was not replaced"
        assert self.page.get_attribute("#figure", "data-view") == "interactive"
        return count

    def vendor_scripts(self) -> set[str]:
        """plotly.js URLs requested (a prefetch and the script may both pass the router, which
        turns the HTTP cache off)."""
        return {u for u in self.requests if "/static/vendor/" in u}

    def check_clean(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.blocked, f"requests left localhost: {self.blocked}"
        assert all(
            urlparse(u).hostname in (None, "127.0.0.1")
            for u in self.requests
            if u.startswith("http")
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, server):
    w = Watched(browser, server, viewport={"width": 1400, "height": 950})
    yield w
    w.close()


# the static picture: inline SVG, or (a figure laid out per width class) the <img> of a <picture>
PICTURE = "#figure-static svg:visible, #figure-static img:visible"
# the texts of the static picture (an <img>'s SVG fetched and read)
STATIC_TEXTS = """async () => {
  const img = document.querySelector('#figure-static img');
  const root = img
    ? new DOMParser().parseFromString(await (await fetch(img.currentSrc)).text(), 'image/svg+xml')
    : document.getElementById('figure-static');
  return Array.from(root.querySelectorAll('text, tspan')).map((e) => e.textContent);
}"""

PAINTED = """() => document.fonts.ready.then(
    () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))"""


def shot(page, name: str) -> None:
    """A screenshot into test-artifacts/, once the fonts are in and two frames have painted."""
    page.evaluate(PAINTED)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_home_page(watched, server):
    page = watched.page
    page.goto(server + "/")
    # the demo's identity: synthetic, and the ContactTracing paper only as the method
    assert "Synthetic demo data" in page.locator(".demo-notice").inner_text()
    assert "doi:10.1038/s41586-023-06464-z" in page.locator("main .method-credit").inner_text()
    assert page.locator(".citation").count() == 0
    assert page.locator("img.thumb").count() == 3
    shot(page, "home")
    watched.check_clean()


# (the whole figure: a Circos' shapes, labels and colour bars are drawn apart, figure_layer.js)
TEXTS_DRAWN = """() => { const gd = window.ctsiteFigureLayer.whole(document.getElementById('figure'));
    return (gd.data || [])
    .filter((t) => String(t.mode || '').includes('text'))
    .flatMap((t) => [].concat(t.text || []))
    .concat((gd.layout.annotations || [])
      .flatMap((a) => String(a.text).split(/<br\\s*\\/?>/i)))  // (a line of text each)
    .map((s) => new DOMParser().parseFromString(String(s), 'text/html').body.textContent.trim())
    .filter(Boolean); }"""


@pytest.mark.parametrize(("name", "minimum"), [("circos", 200), ("pairwise", 40), ("effects", 20)])
def test_each_page_renders_its_figure(watched, server, name, minimum):
    page = watched.page
    page.goto(f"{server}/{name}")
    # the page opens with a static picture of the figure for its parameters; no plotly.js runs
    picture = page.locator(PICTURE)
    assert picture.is_visible()
    assert page.get_attribute("#figure", "data-view") == "static"
    page.wait_for_function("() => location.search.length > 1")  # the whole view in the URL (idle)
    assert page.get_attribute("#figure-static", "data-query") == urlparse(page.url).query
    assert (picture.get_attribute("role") == "img" and picture.get_attribute("aria-label")) or (
        picture.evaluate("e => e.tagName") == "IMG" and picture.get_attribute("alt")
    )
    static_texts = page.evaluate(STATIC_TEXTS)
    # idle time: plotly.js and the figure are prefetched, not run
    page.wait_for_function("() => !!document.querySelector('link[rel=prefetch]')")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.Plotly") == "undefined"
    assert page.locator("#figure .main-svg").count() == 0
    # pointing at the picture draws the interactive figure in its place
    count = watched.activate()  # (how fast: benchmarks/bench_web.py, bench_lighthouse.py)
    assert count >= minimum, f"{name}: only {count} SVG elements drawn"
    assert page.locator("#figure .main-svg").count() >= 1
    query = parse_qs(urlparse(page.url).query)
    assert "condition" in query  # the state is in the URL from the first view
    assert page.locator("#figure-error").is_hidden()
    # the picture showed the same figure: every label Plotly drew was in it
    drawn = page.evaluate(TEXTS_DRAWN)
    assert drawn and set(drawn) <= set(static_texts), set(drawn) - set(static_texts)
    # the figure is fetched once: the idle-time prefetch is the request figure.js draws from
    assert sum("/api/figure/" in u for u in watched.requests) == 1, watched.requests
    # the partial plotly.js bundle, holding just the three trace types the site draws
    scripts = watched.vendor_scripts()
    assert len(scripts) == 1 and "/static/vendor/plotly-partial.min.js?v=" in scripts.pop()
    traces = page.evaluate("Object.keys(Plotly.PlotSchema.get().traces).sort()")
    assert traces == ["barpolar", "scatter", "scatterpolar"]
    # nothing moved while the figure arrived (its box was reserved)
    assert page.evaluate("window.layoutShift") < 0.05
    shot(page, name)
    watched.check_clean()


def test_static_picture_without_javascript(browser, server):
    """The picture is part of the HTML: with scripts off the page still shows every figure."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1400, "height": 950}
    )
    try:
        page = context.new_page()
        for name in ("circos", "pairwise", "effects"):
            page.goto(f"{server}/{name}")
            box = page.locator(PICTURE).bounding_box()
            assert box and box["width"] > 500 and box["height"] > 400, (name, box)
            if page.locator("#figure-static img").count():  # (a picture per width class)
                assert page.eval_on_selector("#figure-static img", "e => e.naturalWidth") > 0
            else:
                assert page.locator("#figure-static svg path").count() >= 3
    finally:
        context.close()


def test_control_updates_figure_url_and_back_button(watched, server):
    page = watched.page
    watched.activate(f"{server}/circos")
    before = page.eval_on_selector_all("#figure svg path", "els => els.length")
    ready = page.get_attribute("#figure", "data-ready")
    url_before = page.url
    # the slider moves the number box
    page.fill("#c-min_numsigi1", "0")
    assert page.input_value("#r-min_numsigi1") == "0"
    page.click("#submit")
    watched.wait_figure(ready)
    assert parse_qs(urlparse(page.url).query)["min_numsigi1"] == ["0"]
    after = page.eval_on_selector_all("#figure svg path", "els => els.length")
    assert after != before, "lowering the minimum numSigI1 should change the chords"
    # the slider moves the number box too
    page.locator("#r-min_numsigi1").fill("30")
    assert page.input_value("#c-min_numsigi1") == "30"
    # back restores the previous view and its controls
    ready = page.get_attribute("#figure", "data-ready")
    page.go_back()
    watched.wait_figure(ready)
    assert page.url == url_before
    assert page.input_value("#c-min_numsigi1") == "10"
    assert page.eval_on_selector_all("#figure svg path", "els => els.length") == before
    watched.check_clean()


def test_a_width_class_change_keeps_the_view_being_loaded(watched, server):
    """Before: turning a phone (another width class) while a submitted view was still loading
    drew the previous view again in the new class: the form said 20, the figure and the URL 10."""
    page = watched.page
    watched.activate(f"{server}/circos")
    ready = page.get_attribute("#figure", "data-ready")
    # the figure API answers after 400 ms, so the view is still loading when the width changes
    page.evaluate(
        "() => { const f = window.fetch; window.fetch = (u, o) =>"
        " String(u).includes('/api/figure/')"
        " ? new Promise((r) => setTimeout(r, 400)).then(() => f(u, o)) : f(u, o); }"
    )
    page.fill("#c-min_numsigi1", "20")
    page.click("#submit")
    page.set_viewport_size({"width": 390, "height": 844})
    watched.wait_figure(ready)
    page.wait_for_function(
        "() => !document.querySelector('.figure-card').classList.contains('loading')"
    )
    assert parse_qs(page.get_attribute("#figure", "data-query") or "")["min_numsigi1"] == ["20"]
    assert parse_qs(urlparse(page.url).query)["min_numsigi1"] == ["20"]
    size = page.evaluate(
        "window.ctsiteFigureLayer.whole(document.getElementById('figure')).layout.meta.size"
    )
    assert size == "phone"
    watched.check_clean()


def test_out_of_range_value_is_refused(watched, server):
    page = watched.page
    watched.activate(f"{server}/pairwise")
    url = page.url
    page.fill("#c-min_numsigi1", "500")
    assert page.locator("#e-min_numsigi1").is_visible()
    assert "Out of range" in page.inner_text("#e-min_numsigi1")
    page.click("#submit")
    page.locator("#figure-error").wait_for(state="visible")
    assert page.url == url
    page.click("#reset")
    page.locator("#e-min_numsigi1").wait_for(state="hidden")
    watched.check_clean()


def test_friendly_empty_message_and_server_errors_inline(watched, server):
    page = watched.page
    page.goto(f"{server}/pairwise?min_numsigi1=100")
    assert "No interactions" in page.inner_text("#status")  # with the picture, before Plotly
    watched.activate()
    assert "No interactions" in page.inner_text("#status")
    page.goto(f"{server}/effects?seeds=NotAGene")
    page.wait_for_selector("#figure-error:not([hidden])")
    assert "NotAGene" in page.inner_text("#figure-error")
    watched.errors.clear()  # the 400 itself is logged by Chromium as a failed resource
    watched.check_clean()


def test_csv_download(watched, server, tmp_path):
    page = watched.page
    watched.activate(f"{server}/circos?min_numsigi1=5")
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename.startswith("circos_")  # figure, condition, thresholds
    assert "min_numsigi1-5" in download.suggested_filename
    text = target.read_text()
    rows = [line for line in text.splitlines() if not line.startswith("#")]  # (provenance)
    assert rows[0].count(",") >= 3
    with urllib.request.urlopen(f"{server}/api/data/circos.csv?min_numsigi1=5") as r:
        assert r.read().decode() == text
    watched.check_clean()


def test_svg_and_png_export(watched, server, tmp_path):
    page = watched.page
    page.goto(f"{server}/effects")
    assert page.get_attribute("#figure", "data-view") == "static"
    # exporting from the static picture draws the interactive figure first, then exports it
    # (computing and drawing it first: a minute allowed on a loaded machine)
    with page.expect_download(timeout=60_000) as info:
        page.click("#export-svg")
    assert page.get_attribute("#figure", "data-view") == "interactive"
    target = tmp_path / "fig.svg"
    info.value.save_as(target)
    assert target.read_text()[:200].lstrip().startswith("<svg")
    with page.expect_download() as info:
        page.click("#export-png")
    target = tmp_path / "fig.png"
    info.value.save_as(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    watched.check_clean()


def test_export_while_a_view_is_loading_saves_that_view(watched, server, tmp_path):
    """Before: a click on SVG while a submitted view was still loading (the static picture
    shown, no figure drawn yet) did nothing: the export saw the view's document, which is set
    before Plotly has loaded and drawn it, found no Plotly and returned. (The same race made
    test_svg_and_png_export time out in CI now and then.) Now it waits for the view being
    loaded to be drawn, then saves it."""
    page = watched.page
    page.goto(f"{server}/effects")
    assert page.get_attribute("#figure", "data-view") == "static"
    page.evaluate(
        "() => { const f = document.getElementById('controls');"
        " f.elements['min_log2fc'].value = '0.5'; f.requestSubmit(); }"
    )
    with page.expect_download(timeout=60_000) as info:
        page.click("#export-svg")
    assert page.get_attribute("#figure", "data-view") == "interactive"
    target = tmp_path / "fig.svg"
    info.value.save_as(target)
    assert "min_log2fc=0.5" in target.read_text()  # the provenance: the view that was loading
    watched.check_clean()


SCROLL_SETTLED = """() => new Promise((done) => {
    let last = window.scrollY, still = 0;
    const frame = () => {
        if (window.scrollY !== last) { last = window.scrollY; still = 0; }
        else if (++still >= 10) { done(last); return; }
        requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
})"""  # the scroll position once it has not moved for 10 frames (the fling has ended)


def swipe_up(page, selector: str) -> float:
    """A finger swiping upwards over `selector` (touch events through Chromium's input
    pipeline, so the page scrolls as it would on a phone): how far the page scrolled."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    x = box["x"] + box["width"] / 2
    y = min(box["y"] + min(box["height"] / 2, 100), page.viewport_size["height"] - 40)
    before = page.evaluate("window.scrollY")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
        )
        for step in range(1, 16):
            point = {"x": x, "y": y - 20 * step}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            page.wait_for_timeout(16)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()
    return page.evaluate(SCROLL_SETTLED) - before


def test_phone_layout(browser, server):
    w = Watched(
        browser,
        server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    try:
        w.page.goto(f"{server}/circos")
        assert w.page.locator(PICTURE).is_visible()
        # a swipe over the picture scrolls the page and draws nothing
        assert swipe_up(w.page, "#figure-static") > 50
        assert w.page.get_attribute("#figure", "data-view") == "static"
        assert w.page.evaluate("typeof window.Plotly") == "undefined"
        w.page.evaluate("window.scrollTo(0, 0)")
        w.page.tap("#figure-static")  # a tap on the picture draws the interactive figure
        w.wait_figure()
        assert w.page.locator("#figure-static").count() == 0
        # the interactive figure does not take a swipe for a zoom: the page still scrolls
        assert w.page.evaluate("document.getElementById('figure')._fullLayout.dragmode") is False
        assert swipe_up(w.page, "#figure") > 50
        w.page.evaluate("window.scrollTo(0, 0)")
        # the figure first, its (collapsible) controls below it: nothing shifts while loading
        top = "s => document.querySelector(s).getBoundingClientRect().top"
        assert w.page.evaluate(top, ".figure-card") < w.page.evaluate(top, ".controls")
        assert w.page.evaluate("document.getElementById('controls-panel').tagName") == "DETAILS"
        assert w.page.evaluate("window.layoutShift") < 0.05
        width = w.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"horizontal scrolling on a phone ({width}px)"
        shot(w.page, "circos-phone")
        # a cartesian figure too (where Plotly's default drag would zoom and hold the page)
        w.page.goto(f"{server}/pairwise")
        w.page.tap("#figure-static")
        w.wait_figure()
        assert swipe_up(w.page, "#figure") > 50
        w.check_clean()
    finally:
        w.close()


def test_help_dialog_and_keyboard(watched, server):
    page = watched.page
    page.goto(f"{server}/pairwise")
    page.click("#help-button")
    assert page.locator("#help-dialog").is_visible()
    shot(page, "pairwise-help")
    page.keyboard.press("Escape")
    assert page.locator("#help-dialog").is_hidden()
    # keyboard only: focus in the controls draws the interactive figure; type, Enter submits
    page.focus("#c-min_numsigi1")
    watched.wait_figure()
    assert page.get_attribute("#figure", "data-view") == "interactive"
    ready = page.get_attribute("#figure", "data-ready")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    watched.wait_figure(ready)
    assert parse_qs(urlparse(page.url).query)["min_numsigi1"] == ["5"]
    watched.check_clean()


def test_site_error_pages(watched, server):
    page = watched.page
    response = page.goto(f"{server}/no/such/page")
    assert response.status == 404
    assert page.locator(".topbar").count() == 1
    assert page.locator("text=Back to the home page").count() == 1
    answer = page.request.post(f"{server}/pairwise")
    assert answer.status == 405 and "Back to the home page" in answer.text()
    watched.errors.clear()  # Chromium logs the 404 of the page itself
    watched.check_clean()


@pytest.fixture(scope="module")
def fallback_server(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app without the partial bundle (a plain checkout): a real HTTP server in a thread."""
    from ctsite.config import load_settings
    from ctsite.web.app import create_app

    root = tmp_path_factory.mktemp("fallback")
    app = create_app(
        load_settings(root=root, environ={}), store_path=demo_store, partial_bundle=None
    )
    with serving(app) as url:
        yield url


@pytest.mark.parametrize(("name", "minimum"), [("circos", 200), ("pairwise", 40), ("effects", 20)])
def test_fallback_full_bundle_draws_every_figure(browser, fallback_server, name, minimum):
    w = Watched(browser, fallback_server, viewport={"width": 1400, "height": 950})
    try:
        assert w.activate(f"{fallback_server}/{name}") >= minimum
        scripts = w.vendor_scripts()
        assert len(scripts) == 1 and "/static/vendor/plotly.min.js?v=" in scripts.pop()
        assert "scatter3d" in w.page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)")
        w.check_clean()
    finally:
        w.close()


def test_csv_link_of_a_deep_link_without_javascript(browser, server, tmp_path):
    """Before: with scripts off, a deep link's Download CSV gave the default view's CSV."""
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{server}/circos?min_numsigi1=5&fdr_i=0.1")
        with page.expect_download() as info:
            page.click("#download-csv")
        query = parse_qs(urlparse(info.value.url).query)
        assert query["min_numsigi1"] == ["5"] and query["fdr_i"] == ["0.1"], info.value.url
        target = tmp_path / "view.csv"
        info.value.save_as(target)
        with urllib.request.urlopen(f"{server}/api/data/circos.csv?min_numsigi1=5&fdr_i=0.1") as r:
            assert r.read().decode() == target.read_text()
        with urllib.request.urlopen(f"{server}/api/data/circos.csv") as r:
            assert r.read().decode() != target.read_text()  # (the default view differs)
    finally:
        context.close()


def test_csv_link_follows_the_view(watched, server):
    """With scripts on: the deep link's view before any interaction (server-rendered), then
    each change and the back button (figure.js)."""
    page = watched.page
    page.goto(f"{server}/circos?min_numsigi1=5")
    csv = lambda: parse_qs(urlparse(page.get_attribute("#download-csv", "href")).query)  # noqa: E731
    assert page.get_attribute("#figure", "data-view") == "static"
    assert csv()["min_numsigi1"] == ["5"]
    watched.activate()
    ready = page.get_attribute("#figure", "data-ready")
    page.fill("#c-min_numsigi1", "0")
    page.click("#submit")
    watched.wait_figure(ready)
    assert csv()["min_numsigi1"] == ["0"]
    ready = page.get_attribute("#figure", "data-ready")
    page.go_back()
    watched.wait_figure(ready)
    assert csv()["min_numsigi1"] == ["5"]
    watched.check_clean()


CODE = "s3cret review code"
EVIL_PAGE = """<!doctype html><html><body><h1>Cute cat pictures</h1><script>
Promise.allSettled(Array.from({length: 12}, (_, i) => fetch("%(login)s", {method: "POST",
  mode: "no-cors", credentials: "omit", body: new URLSearchParams({code: "guess" + i})})))
  .then(() => { const f = document.createElement("form"); f.method = "post";
    f.action = "%(login)s"; f.innerHTML = '<input name="code" value="one more guess">';
    document.body.appendChild(f); f.submit(); });
</script></body></html>"""


@pytest.fixture(scope="module")
def gated_server(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site with the access gate on (3 wrong codes a minute per client)."""
    from ctsite.config import load_settings
    from ctsite.web.app import create_app
    from ctsite.web.security import hash_code, new_secret_key

    settings = load_settings(
        root=tmp_path_factory.mktemp("gated"),
        environ={},
        overrides={
            "site_access_code_hash": hash_code(CODE, "pbkdf2:sha256:2000"),
            "site_secret_key": new_secret_key(),
            "site_login_rate": "3/minute",
            "site_title": "Secret Study Title",
        },
    )
    with serving(create_app(settings, store_path=demo_store)) as url:
        yield url


def test_another_site_cannot_lock_a_reviewer_out(browser, gated_server):
    """A page on another site posts 13 wrong codes to the login (fetch, then a form) in the
    reviewer's browser. Before: they were counted against the reviewer's address, whose right
    code then got 429. Now they are refused uncounted (403) and the reviewer gets in. The login
    page shows nothing of the study."""
    from flask import Flask

    evil = Flask("evil")
    evil.add_url_rule("/", "index", lambda: EVIL_PAGE % {"login": f"{gated_server}/login"})
    with serving(evil, "127.0.0.2") as evil_url:  # another host: another site
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(evil_url + "/")
            page.wait_for_url(f"{gated_server}/login")  # the evil form's navigation, answered
            page.goto(f"{gated_server}/circos?min_numsigi1=5")  # → the login page
            page.fill("#code", CODE)
            posted = lambda r: r.request.method == "POST" and "/login" in r.url  # noqa: E731
            with page.expect_response(posted) as login:
                page.click("button[type=submit]")
            assert login.value.status == 302, login.value.status
            page.wait_for_url(f"{gated_server}/circos?min_numsigi1=5")
            # the title compiled into the (demo) store, which wins over the server's settings
            demo_title = "ContactTracing demo (synthetic data)"
            assert demo_title in page.content()
            # the login page of a fresh browser shows nothing of the study
            closed = browser.new_page()
            closed.goto(f"{gated_server}/pairwise")
            assert demo_title not in closed.content() and demo_title not in closed.title()
            assert "Secret Study" not in closed.content() and "Secret Study" not in closed.title()
            assert closed.locator("nav").count() == 0
            assert closed.locator("text=This site needs an access code").count() == 1
            closed.close()
        finally:
            context.close()

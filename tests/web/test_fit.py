"""Figures a reader can read (issue 25, point 2): measured in Chromium at a phone's 390×844 and a
desktop's 1400×1000, on the demo and on a lab's data with other (long) names.

Each figure page: the figure's drawn width is at least 90 % of its card, no blank band over
80 px inside the card, no text under 9 px in the static picture at phone width, and the same
after the interactive figure replaced it (a tap, or the pointer on a desktop); Pairwise and
Effects labels are inside the figure and clear of the colour bars. axe-core (from the npm
registry, web-assets/package.json) finds no violation on any page at either size; the SVG and
PNG downloads carry their provenance; printing a figure page takes one page.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.cli import cli_env, start_ctsite, stop_process, wait_healthy
from tests.support.components import unavailable
from tests.support.datasets import write_deg, write_expression, write_lr
from tests.support.pictures import INLINE_PICTURE
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    NPM_SECONDS,
    SERVE_SECONDS,
    Watched,
    browser,
    free_port,
    partial_bundle,
    server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(2 * NPM_SECONDS + 2 * SERVE_SECONDS + 600),
]

WEB_ASSETS = Path(__file__).resolve().parents[2] / "web-assets"
AXE = WEB_ASSETS / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FIGURES = ("circos", "pairwise", "effects")
SIZES = {"phone": (390, 844), "desktop": (1400, 1000)}

# ---------------------------------------------------------------- a lab's data, other names

LAB_CELL_TYPES = ["Tumor cells", "Cancer-associated fibroblasts", "Plasmacytoid DC"]
LAB_LIGANDS = ["Serpine2", "Tgfb1", "Ccl2"]
LAB_RECEPTORS = ["a9b1_complex", "Lrp1", "Ccr2"]
LAB_PAIRS = [("Serpine2", "a9b1_complex"), ("Serpine2", "Lrp1"), ("Ccl2", "Ccr2"),
             ("Tgfb1", "a9b1_complex")]  # fmt: skip


def lab_dataset(root: Path) -> Path:
    """Three cell types with long names (one lime, like the paper's "Tumor cells"), long gene
    names on the outer columns ("Serpine2", "a9b1_complex"): the names the issue saw cut."""
    root.mkdir(parents=True, exist_ok=True)
    write_lr(root / "lr.tsv", LAB_PAIRS)
    targets = LAB_LIGANDS + LAB_RECEPTORS
    genes = targets + [f"g{i:02d}" for i in range(16)]
    rows = [(ct, t) for ct in LAB_CELL_TYPES for t in targets]
    n = len(rows)
    receptor_row = np.array([t in LAB_RECEPTORS for _, t in rows])
    i1 = np.where(receptor_row[:, None], 0.001, 0.9) * np.ones((n, len(genes)))
    fdr = np.full((n, len(genes)), 0.001)
    write_deg(
        root / "deg.h5ad", rows, genes, fdr=fdr, i1=i1, ligands=set(LAB_LIGANDS),
        receptors=set(LAB_RECEPTORS), mast_lfc=[0.3 if i % 2 else -0.25 for i in range(n)],
        mast_fdr=[0.01] * n, comparison="A",
    )  # fmt: skip
    labels = [ct for ct in LAB_CELL_TYPES for _ in range(4)]
    write_expression(root / "expr.h5ad", labels, genes, np.ones((len(labels), len(genes))))
    (root / "ctsite.toml").write_text(
        'compiled_dir = "out"\nsite_title = "A lab"\n[data]\ninteractions = "lr.tsv"\n'
        'expression = "expr.h5ad"\n[[data.conditions]]\nname = "tumour_vs_normal"\n'
        'file = "deg.h5ad"\n'
    )
    return root


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory, partial_bundle: Path) -> Iterator[str]:  # noqa: F811
    from ctsite.compile.workflow import compile_data
    from ctsite.config import load_settings

    root = lab_dataset(tmp_path_factory.mktemp("lab") / "site")
    settings = load_settings(root=root, environ={})
    compile_data(settings)
    port = free_port()
    log = (root / "serve.log").open("w")
    proc = start_ctsite(
        "serve", "--port", str(port), "--data", str(settings.compiled_path),
        cwd=root, env=cli_env(without=("CTSITE_",)), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        if wait_healthy(proc, port, timeout=SERVE_SECONDS) is None:
            pytest.fail("ctsite serve did not become healthy: " + (root / "serve.log").read_text())
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(params=["demo", "lab"])
def site(request) -> str:
    return request.getfixturevalue("server" if request.param == "demo" else "lab_server")


def open_page(browser, base: str, size: str, **options) -> Watched:  # noqa: F811
    width, height = SIZES[size]
    phone = size == "phone"
    return Watched(
        browser, base, viewport={"width": width, "height": height},
        is_mobile=phone, has_touch=phone, **options,
    )  # fmt: skip


# ---------------------------------------------------------------- measured in the browser

MEASURE = """() => {
  const card = document.querySelector('.figure-card');
  const c = card.getBoundingClientRect();
  const interactive = document.getElementById('figure').dataset.view === 'interactive';
  // the figure as drawn: the visible picture's scaled viewBox, or Plotly's main SVG
  let drawn = 0, root = null;
  if (interactive) {
    root = document.querySelector('#figure .main-svg');
    drawn = root ? root.getBoundingClientRect().width : 0;
  } else {
    for (const svg of document.querySelectorAll('#figure-static svg')) {
      if (!svg.getClientRects().length || svg.getBoundingClientRect().width === 0) continue;
      const m = svg.getScreenCTM(), vb = svg.viewBox.baseVal;
      drawn = vb.width * Math.hypot(m.a, m.b);
      root = svg;
    }
  }
  // every visible thing inside the card: SVG shapes and text (not white backgrounds), leaf
  // HTML elements with text, form controls
  const shapes = 'path,text,circle,line,polyline,polygon,ellipse,image,rect';
  const spans = [];
  const white = /^(none|#fff|#ffffff|white|rgb\\(255, 255, 255\\)|transparent|rgba\\(0, 0, 0, 0\\))$/i;
  for (const el of card.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (el instanceof SVGElement) {
      if (!el.matches(shapes) || el.closest('defs')) continue;
      if (el.tagName === 'rect' && white.test(style.fill || el.getAttribute('fill') || 'none')) continue;
    } else if (el.children.length || !el.textContent.trim()) {
      if (!el.matches('input,select,button,img,textarea')) continue;
    }
    spans.push([Math.max(r.top, c.top), Math.min(r.bottom, c.bottom)]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let reach = c.top, band = 0;
  for (const [top, bottom] of spans) {
    band = Math.max(band, top - reach);
    reach = Math.max(reach, bottom);
  }
  band = Math.max(band, c.bottom - reach);
  // text sizes as drawn (font size times the picture's scale)
  const small = [];
  const texts = root ? (interactive ? document.querySelectorAll('#figure text') : root.querySelectorAll('text')) : [];
  let measured = 0;
  for (const t of texts) {
    if (!t.textContent.trim() || !t.getClientRects().length) continue;
    measured += 1;
    const m = t.getScreenCTM();
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    if (px < 9) small.push(`${t.textContent.trim().slice(0, 24)}: ${px.toFixed(1)}px`);
  }
  return {card: c.width, drawn, band, small, measured, interactive};
}"""

LABELS_INSIDE = """() => {
  // Plotly's scatter text and annotations: inside the figure, clear of every colour bar
  const svg = document.querySelector('#figure .main-svg').getBoundingClientRect();
  const bars = Array.from(document.querySelectorAll('#figure .colorbar'))
    .map((b) => b.getBoundingClientRect());
  const bad = [];
  bars.forEach((b, i) => {
    if (b.left < svg.left - 0.5 || b.right > svg.right + 0.5) bad.push(`colour bar ${i}: outside`);
  });
  // column headers clear of each other
  const heads = Array.from(document.querySelectorAll('#figure .annotation')).map((a) => a.getBoundingClientRect());
  heads.forEach((a, i) => heads.slice(i + 1).forEach((b) => {
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) bad.push(`headers ${i} overlap`);
  }));
  const checked = [];
  for (const t of document.querySelectorAll('#figure .textpoint text, #figure .annotation-text, #figure .legendtext')) {
    const r = t.getBoundingClientRect(), name = t.textContent.trim();
    if (!name || r.width === 0) continue;
    checked.push(name);
    if (r.left < svg.left - 0.5 || r.right > svg.right + 0.5 || r.top < svg.top - 0.5
        || r.bottom > svg.bottom + 0.5) bad.push(`${name}: outside the figure`);
    // text clipped to the plot area (Plotly's cliponaxis) must lie inside it
    const plot = document.querySelector('#figure .nsewdrag');
    if (plot && t.closest('.textpoint') && t.closest('[clip-path]')) {
      const p = plot.getBoundingClientRect();
      if (r.left < p.left - 0.5 || r.right > p.right + 0.5) bad.push(`${name}: cut by the plot area`);
    }
    for (const b of bars) {
      if (r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom)
        bad.push(`${name}: under a colour bar`);
    }
  }
  // what the figure's data and layout say it draws: point labels and annotation texts
  const gd = document.getElementById('figure');
  const plain = (s) => new DOMParser().parseFromString(String(s), 'text/html').body.textContent.trim();
  const points = (gd.data || []).filter((t) => String(t.mode || '').includes('text'))
    .flatMap((t) => [].concat(t.text || [])).map(plain).filter(Boolean);
  const notes = ((gd.layout || {}).annotations || []).map((a) => plain(String(a.text || '').replace(/<br\\s*\\/?>/gi, '')))
    .filter(Boolean);
  const scales = (gd.data || []).filter((t) => t.showscale || (t.marker || {}).showscale).length;
  return {bad, checked, points, notes, bars: bars.length, scales,
          headers: heads.length};
}"""


def check_fit(page, where: str, text_sizes: bool = True) -> None:
    page.evaluate(INLINE_PICTURE)  # (a per-width-class <img>: its SVG inline, as shown)
    m = page.evaluate(MEASURE)
    assert m["drawn"] >= 0.9 * m["card"], (where, m)
    assert m["band"] <= 80, (where, m)
    if text_sizes:
        # (texts measured: none would make the size check pass on a picture without text)
        assert m["measured"] >= 5, (where, m)
        assert not m["small"], (where, m["small"][:10])


def activate(w: Watched, size: str) -> None:
    if size == "phone":
        w.page.tap("#figure-static")
    else:
        w.page.hover(".figure-wrap")
    w.wait_figure()
    assert w.page.get_attribute("#figure", "data-view") == "interactive"


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"fit-{name}.png"), full_page=True)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", FIGURES)
def test_figure_fills_its_card_and_reads(request, browser, site, name, size):  # noqa: F811
    """Before: at 390 px each picture was a ~330 px stamp in an 820 px box (bands of 300 px,
    labels ~5 px high); after a tap, Pairwise cut "Tumor cells", "Serpine2", and hid
    "a9b1_complex" under its colour bar."""
    w = open_page(browser, site, size)
    try:
        w.page.goto(f"{site}/{name}")
        w.page.wait_for_load_state("load")
        tag = f"{name}-{size}-{request.node.callspec.params['site']}"
        # at desktop width a long Circos gene name may shrink to fit its band (the label
        # layout's own tests); at phone width every text of every figure is checked here
        sizes = name != "circos" or size == "phone"
        check_fit(w.page, f"{tag} static", sizes)
        activate(w, size)
        check_fit(w.page, f"{tag} interactive", sizes)
        shot(w.page, tag)
        w.check_clean()
    finally:
        w.close()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", ["pairwise", "effects"])
def test_labels_are_never_cut(browser, site, name, size):  # noqa: F811
    """Before, at 390 px after a tap: "Tumor cells" cut to "Tumor", "Serpine2" to "erpine2",
    "a9b1_complex" under the colour bar. (Circos labels: their own layout and tests.)"""
    w = open_page(browser, site, size)
    try:
        w.page.goto(f"{site}/{name}")
        activate(w, size)
        found = w.page.evaluate(LABELS_INSIDE)
        assert found["bad"] == [], found["bad"]
        # every label the figure draws was measured, and the colour bars were found: the
        # checks above cannot pass by measuring nothing
        assert found["points"], found
        missing = Counter(found["points"] + found["notes"]) - Counter(found["checked"])
        assert not missing, (missing, found["checked"])
        assert found["bars"] == found["scales"] >= 1, found
        assert found["headers"] == len(found["notes"]), found
    finally:
        w.close()


# ---------------------------------------------------------------- axe-core


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from the npm registry (web-assets devDependencies; `.ci/run` installs them)."""
    if not AXE.is_file():
        if shutil.which("npm") is None:
            unavailable("npm is not installed: cannot install axe-core")
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=WEB_ASSETS, capture_output=True, text=True, timeout=NPM_SECONDS,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    assert AXE.is_file()
    return AXE


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => `${v.id}: ${v.help} — ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
}"""


@pytest.mark.parametrize("size", list(SIZES))
def test_axe_finds_no_violation(browser, site, axe_script, size):  # noqa: F811
    # (the site's CSP allows no injected script: the test's own context bypasses it)
    w = open_page(browser, site, size, bypass_csp=True)
    try:
        for path in ("/", *(f"/{n}" for n in FIGURES)):
            w.page.goto(site + path)
            w.page.add_script_tag(path=str(axe_script))
            assert w.page.evaluate(AXE_RUN) == [], (path, size)
            if path != "/":  # the interactive figure too
                activate(w, size)
                assert w.page.evaluate(AXE_RUN) == [], (path, size, "interactive")
    finally:
        w.close()


# ---------------------------------------------------------------- downloads and print


def png_text(data: bytes) -> dict[str, str]:
    """The tEXt/iTXt chunks of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, out = 8, {}
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        crc = int.from_bytes(data[at + 8 + length : at + 12 + length], "big")
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            out[key.decode("latin-1")] = rest[2:].split(b"\0", 2)[2].decode("utf-8")
        at += 12 + length
    return out


def test_svg_and_png_carry_their_provenance(browser, server, tmp_path):  # noqa: F811
    """Before: `effects-CIN-dependent_interactions.svg` with nothing in it but the drawing."""
    w = open_page(browser, server, "desktop")
    try:
        w.page.goto(f"{server}/pairwise?min_numsigi1=5")
        with w.page.expect_download() as info:
            w.page.click("#export-svg")
        svg = info.value
        stem = w.page.evaluate("JSON.parse(document.getElementById('page-data').textContent).stem")
        assert svg.suggested_filename == f"{stem}.svg"
        assert "min_numsigi1-5" in stem and stem.startswith("pairwise_")
        svg.save_as(tmp_path / "f.svg")
        text = (tmp_path / "f.svg").read_text()
        metadata = re.search(r"<metadata>(.*?)</metadata>", text, re.S)
        assert metadata, text[:300]
        for field in ("site", "store_version", "ctsite_version", "parameters", "url"):
            assert f'name="{field}"' in metadata.group(1), field
        url = html.unescape(re.search(r'name="url">([^<]+)<', metadata.group(1)).group(1))
        assert "min_numsigi1=5" in url
        with urllib.request.urlopen(url) as r:  # the address draws the same view again
            assert r.status == 200 and 'value="5"' in r.read().decode()
        with w.page.expect_download() as info:
            w.page.click("#export-png")
        png = info.value
        assert png.suggested_filename == f"{stem}.png"
        png.save_as(tmp_path / "f.png")
        fields = png_text((tmp_path / "f.png").read_bytes())
        assert fields["url"] == url
        assert {"site", "store_version", "ctsite_version", "parameters"} <= set(fields)
        # the CSV link of the same view has the same name
        with w.page.expect_download() as info:
            w.page.click("#download-csv")
        assert info.value.suggested_filename == f"{stem}.csv"
        w.check_clean()
    finally:
        w.close()


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.parametrize("name", FIGURES)
def test_printing_a_figure_page_takes_one_page(browser, server, name):  # noqa: F811
    w = open_page(browser, server, "desktop")
    try:
        w.page.goto(f"{server}/{name}")
        assert pdf_pages(w.page.pdf(format="A4")) == 1, "the picture"
        activate(w, "desktop")
        w.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        assert pdf_pages(w.page.pdf(format="A4")) == 1, "the interactive figure"
    finally:
        w.close()


# ---------------------------------------------------------------- smaller things that were cut


def test_home_sketches_fit_their_captions(browser, server):  # noqa: F811
    """Before: the Ligand effects sketch's caption ended "…step by st"."""
    w = open_page(browser, server, "desktop")
    try:
        for name in FIGURES:
            w.page.goto(f"{server}/static/thumb-{name}.svg")
            texts, overflow = w.page.evaluate(
                """() => { const svg = document.documentElement, vb = svg.viewBox.baseVal;
                  const boxes = Array.from(svg.querySelectorAll('text')).map((t) => t.getBBox());
                  return [boxes.length,
                          boxes.filter((b) => b.x < 0 || b.x + b.width > vb.width).length]; }"""
            )
            assert texts >= 1, name  # (no caption found would be no overflow)
            assert overflow == 0, name
    finally:
        w.close()


SELECTS_FIT = """() => [document.querySelectorAll('#controls select').length,
  Array.from(document.querySelectorAll('#controls select')).flatMap((s) => {
  // the chosen option's text as the select draws it, against the room left of its arrow
  const style = getComputedStyle(s);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return Array.from(s.options).filter((o) => ctx.measureText(o.text).width > room)
    .map((o) => `${s.name}: ${o.text}`);
})]"""


@pytest.mark.parametrize("size", list(SIZES))
def test_every_choice_reads_whole(browser, server, size):  # noqa: F811
    """Before: the Condition dropdown showed "CIN & STING-dependent interac…"."""
    w = open_page(browser, server, size)
    try:
        for name in FIGURES:
            w.page.goto(f"{server}/{name}")
            selects, cut = w.page.evaluate(SELECTS_FIT)
            assert selects >= 1, name  # (no select found would be nothing cut)
            assert cut == [], name
    finally:
        w.close()


def test_full_screen_view_on_a_phone(browser, server):  # noqa: F811
    """A phone can give the figure the whole screen (and pinch-zoom the page: the viewport
    does not forbid it)."""
    w = open_page(browser, server, "phone")
    try:
        w.page.goto(f"{server}/pairwise")
        viewport = w.page.get_attribute("meta[name=viewport]", "content")
        assert "user-scalable=no" not in viewport and "maximum-scale=1" not in viewport
        w.page.tap("#fullscreen")
        w.page.wait_for_function(
            "() => document.fullscreenElement === document.querySelector('.figure-wrap')"
        )
        assert w.page.get_attribute("#figure", "data-view") == "interactive"
        w.check_clean()
    finally:
        w.close()


@pytest.mark.parametrize("path", ["/", "/circos", "/pairwise", "/effects"])
def test_no_page_scrolls_sideways_on_a_phone(browser, site, path):  # noqa: F811
    """Before: Home was 513 px wide at 390 (the combined condition's name in the table)."""
    w = open_page(browser, site, "phone")
    try:
        w.page.goto(site + path)
        assert w.page.evaluate("document.documentElement.scrollWidth") <= 390, path
    finally:
        w.close()

"""The Circos figure's shapes and labels drawn by the page's own layer (figure_layer.js), its
colour bars by a graph of their own: what a visitor sees must be what Plotly draws from the same
figure document, after the first view and after a change of view; the downloads still hold the
whole figure; the other figures are left to Plotly whole."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.test_browser import (  # noqa: F401 (fixtures)
    NPM_SECONDS,
    SERVE_SECONDS,
    Watched,
    browser,
    partial_bundle,
    server,
)
from tests.web.test_fit import SIZES, open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(2 * NPM_SECONDS + SERVE_SECONDS + 300),
]

# The layer against the figure document, and against Plotly drawing that whole document (in a
# graph of the same size laid over the page's): every shape's path and paint, every label's text,
# weight and colour, and where each lands on the screen.
COMPARE = """async () => {
  const gd = document.getElementById('figure');
  const whole = window.ctsiteFigureLayer.whole(gd);
  const layer = gd.querySelector('svg.figure-layer');
  const bad = [];
  const shapes = whole.layout.shapes || [], notes = whole.layout.annotations || [];
  const paths = layer ? [...layer.querySelectorAll('g.shapes path')] : [];
  const texts = layer ? [...layer.querySelectorAll('g.annotations text')] : [];
  const fills = layer ? [...layer.querySelectorAll('g.fills path')] : [];
  const outlines = whole.data.filter((t) => t.fill === 'toself' && t.hoverinfo === 'skip');
  if (fills.length !== outlines.length) bad.push(`fills ${fills.length} != outlines ${outlines.length}`);
  fills.forEach((p, i) => {
    if (outlines[i] && p.getAttribute('fill') !== outlines[i].fillcolor) bad.push(`fill ${i}: colour`);
  });
  if (paths.length !== shapes.length) bad.push(`paths ${paths.length} != shapes ${shapes.length}`);
  if (texts.length !== notes.length) bad.push(`texts ${texts.length} != notes ${notes.length}`);
  shapes.forEach((s, i) => {
    const p = paths[i];
    if (!p) return;
    if (p.getAttribute('d') !== s.path) bad.push(`shape ${i}: another path`);
    if ((p.getAttribute('fill') || 'none') !== (s.fillcolor || 'none')) bad.push(`shape ${i}: fill`);
    const w = (s.line || {}).width;
    if (w > 0 && (p.getAttribute('stroke') !== s.line.color
        || Number(p.getAttribute('stroke-width')) !== w)) bad.push(`shape ${i}: line`);
  });
  const plain = (s) => new DOMParser().parseFromString(String(s), 'text/html').body.textContent;
  notes.forEach((a, i) => {
    const t = texts[i];
    if (!t) return;
    if (t.textContent !== plain(a.text)) bad.push(`note ${i}: "${t.textContent}" != "${a.text}"`);
    if ((t.getAttribute('font-weight') === 'bold') !== /<b>/i.test(a.text)) bad.push(`note ${i}: weight`);
    if (t.getAttribute('fill') !== a.font.color) bad.push(`note ${i}: colour`);
  });
  // the page's graph holds no shape, label or colour bar of its own
  const own = gd.querySelector('.svg-container > .main-svg');
  // (the outline's trace, kept for its legend group, has one empty point: an empty fill path)
  const ownFills = [...own.querySelectorAll('.scatterlayer path.js-fill')]
    .filter((p) => !['', 'M0,0Z'].includes(p.getAttribute('d') || '')).length;
  if (own.querySelectorAll('.shapelayer path, .annotation, .colorbar').length || ownFills) {
    bad.push('drawn twice');
  }
  if ((gd.layout.shapes || []).length || (gd.layout.annotations || []).length) bad.push('Plotly has them');
  const scales = whole.data.filter((t) => (t.marker || {}).showscale).length;
  const bars = [...gd.querySelectorAll('.figure-layer-scales .colorbar')];
  if (bars.length !== scales) bad.push(`colour bars ${bars.length} != ${scales}`);

  // Plotly drawing the whole figure, in a graph laid exactly over the page's
  const ref = document.createElement('div');
  ref.style.cssText = gd.style.cssText + ';position:absolute;top:0;left:0;visibility:hidden';
  gd.parentElement.appendChild(ref);
  await Plotly.newPlot(ref, JSON.parse(JSON.stringify(whole.data)),
                       JSON.parse(JSON.stringify(whole.layout)), {staticPlot: true});
  const o1 = gd.getBoundingClientRect(), o2 = ref.getBoundingClientRect();
  const box = (e, o) => { const r = e.getBoundingClientRect();
    return [r.left - o.left, r.top - o.top, r.width, r.height]; };
  const far = (a, b, pos, size) => Math.abs(a[0] - b[0]) > pos || Math.abs(a[1] - b[1]) > pos
    || Math.abs(a[2] - b[2]) > size || Math.abs(a[3] - b[3]) > size;
  const refTexts = [...ref.querySelectorAll('.annotation-text')];
  const refPaths = [...ref.querySelectorAll('.shapelayer path')];
  const refBars = [...ref.querySelectorAll('.colorbar')];
  const refFills = [...ref.querySelectorAll('.scatterlayer path.js-fill')];
  if (refFills.length !== fills.length) bad.push(`Plotly drew ${refFills.length} outlines, not ${fills.length}`);
  fills.forEach((p, i) => { if (!refFills[i]) return;
    const a = box(p, o1), b = box(refFills[i], o2);
    if (far(a, b, 0.5, 0.5)) bad.push(`outline ${i}: ${a} vs Plotly ${b}`); });
  if (refTexts.length !== texts.length || refPaths.length !== paths.length
      || refBars.length !== bars.length) bad.push('Plotly drew another number of parts');
  let worst = 0;
  texts.forEach((t, i) => { if (!refTexts[i]) return;
    const a = box(t, o1), b = box(refTexts[i], o2);
    worst = Math.max(worst, Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]));
    if (far(a, b, 1.5, 0.5)) bad.push(`label ${t.textContent}: ${a} vs Plotly ${b}`); });
  paths.forEach((p, i) => { if (!refPaths[i]) return;
    const a = box(p, o1), b = box(refPaths[i], o2);
    if (far(a, b, 1, 1)) bad.push(`shape ${i}: ${a} vs Plotly ${b}`); });
  bars.forEach((e, i) => { if (!refBars[i]) return;
    const a = box(e, o1), b = box(refBars[i], o2);
    if (far(a, b, 0.5, 0.5)) bad.push(`colour bar ${i}: ${a} vs Plotly ${b}`); });
  Plotly.purge(ref);
  ref.remove();
  return {bad, paths: paths.length, texts: texts.length, bars: bars.length, fills: fills.length, worst,
          bold: texts.filter((t) => t.getAttribute('font-weight') === 'bold').length};
}"""


def compared(w: Watched) -> dict[str, Any]:
    """COMPARE on the page, which must find nothing wrong; its counts."""
    found = w.page.evaluate(COMPARE)
    assert not found["bad"], found["bad"][:10]
    return found


def change(w: Watched, name: str, value: str) -> None:
    previous = w.page.get_attribute("#figure", "data-ready")
    w.page.fill(f"#controls [name={name}]", value)
    w.page.evaluate("document.getElementById('controls').requestSubmit()")
    w.wait_figure(previous)


@pytest.mark.parametrize("size", list(SIZES))
def test_circos_layer_draws_what_plotly_draws(browser, server, size):  # noqa: F811
    w = open_page(browser, server, size)
    try:
        w.activate(f"{server}/circos")
        first = compared(w)
        assert first["paths"] >= 10 and first["texts"] >= 20 and first["bars"] == 3, first
        assert first["fills"] == 1, first  # the numSigI1 histogram
        # another view: the same elements rewritten (searched genes bold, the others grey)
        gene = w.page.evaluate(
            "document.querySelectorAll('#figure svg.figure-layer text')[20].textContent"
        )
        change(w, "genes", gene)
        assert w.page.get_attribute("#figure", "data-query").count("genes=") == 1
        second = compared(w)
        assert second["bold"] > first["bold"], (first, second)
        # a view with fewer chords (fewer shapes and labels), then back
        change(w, "min_numsigi1", "40")
        compared(w)
        # no chord passes (no chord colour bar: the colour bars' graph redrawn), then back
        for name in ("min_numsigi1", "min_log2fc"):
            change(
                w, name, w.page.get_attribute(f"#controls input[type=number][name={name}]", "max")
            )
        assert w.page.locator("#status").inner_text().startswith("No chords pass")
        empty = compared(w)
        assert empty["bars"] == 2, empty
        change(w, "min_log2fc", "0")
        change(w, "min_numsigi1", "0")
        again = compared(w)
        assert again["bars"] == 3, again
        w.check_clean()
    finally:
        w.close()


def test_colour_bars_come_back_after_plotly_remakes_its_frame(browser, server):  # noqa: F811
    """Before: a Plotly.react with another config (Plotly then starts over, removing every SVG
    of its frame, the colour bars' graph's too) left the Circos without colour bars for good:
    their graph kept its mark of what it had drawn, so it was never drawn again."""
    w = open_page(browser, server, "desktop")
    try:
        w.activate(f"{server}/circos")
        w.page.evaluate(
            "() => { const gd = document.getElementById('figure');"
            " return Plotly.react(gd, gd.data, gd.layout,"
            " Object.assign({}, gd._context, {displaylogo: true})); }"
        )
        change(w, "min_numsigi1", "12")
        drawn = compared(w)
        assert drawn["bars"] == 3, drawn
        w.check_clean()
    finally:
        w.close()


def test_the_histograms_legend_entry_hides_and_shows_it(browser, server):  # noqa: F811
    """The numSigI1 histogram, drawn by the layer, follows its legend group as Plotly's own
    trace did: a click on the legend's numSigI1 entry hides it, another shows it again; a new
    view draws it again (the legend starts afresh with every view)."""
    w = open_page(browser, server, "desktop")
    try:
        w.activate(f"{server}/circos")
        outline = "#figure svg.figure-layer g.fills path"
        entry = w.page.locator("#figure .legend .traces").filter(has_text=re.compile(r"^numSigI1$"))
        assert w.page.get_attribute(outline, "display") is None
        entry.locator(".legendtoggle").click()
        expect(w.page.locator(outline)).to_have_attribute("display", "none")
        entry.locator(".legendtoggle").click()
        expect(w.page.locator(outline)).not_to_have_attribute("display", "none")
        entry.locator(".legendtoggle").click()
        change(w, "min_numsigi1", "12")
        assert w.page.get_attribute(outline, "display") is None
        assert compared(w)["fills"] == 1
        w.check_clean()
    finally:
        w.close()


def test_circos_download_holds_the_whole_figure(browser, server, tmp_path):  # noqa: F811
    w = open_page(browser, server, "desktop")
    try:
        w.activate(f"{server}/circos")
        counts = w.page.evaluate(
            "() => { const l = window.ctsiteFigureLayer.whole(document.getElementById('figure'))"
            ".layout; return [l.shapes.length, l.annotations.length]; }"
        )
        with w.page.expect_download() as info:
            w.page.click("#export-svg")
        info.value.save_as(tmp_path / "circos.svg")
        svg = (tmp_path / "circos.svg").read_text()
        assert len(re.findall(r'class="annotation"', svg)) == counts[1]
        assert len(re.findall(r'class="shape-group"', svg)) == counts[0]
        assert len(re.findall(r'class="cbfills"', svg)) == 3  # (a colour bar's gradient)
        # the numSigI1 histogram's outline, with its points (the layer drew it on the page)
        outlines = re.findall(r'<path class="js-fill" d="([^"]*)"', svg)
        assert any(len(d) > 1000 for d in outlines), [d[:40] for d in outlines]
        w.check_clean()
    finally:
        w.close()


@pytest.mark.parametrize("name", ["pairwise", "effects"])
def test_other_figures_are_plotlys_whole(browser, server, name):  # noqa: F811
    w = open_page(browser, server, "desktop")
    try:
        w.activate(f"{server}/{name}")
        assert w.page.locator("#figure svg.figure-layer, #figure .figure-layer-scales").count() == 0
        assert w.page.evaluate(
            "() => { const g = document.getElementById('figure');"
            " return window.ctsiteFigureLayer.whole(g) === g; }"
        )
        w.check_clean()
    finally:
        w.close()

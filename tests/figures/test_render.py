"""The figures render in a real browser: headless Chromium draws every default figure of the demo
store with the plotly.js bundled in the plotly package (no network), without console errors,
as SVG; hovering a chord shows its text. Screenshots are saved under test-artifacts/figures/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import plotly
import plotly.utils
import pytest

from ctsite.figures import FIGURES, parse_params
from tests.support.components import require_module, unavailable

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "figures"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    unavailable("no Chromium executable (apt-get install chromium)")


@pytest.fixture(scope="module")
def page():
    sync_api = require_module("playwright.sync_api", "pip install playwright")
    executable = _chromium()
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not plotly_js.is_file():
        unavailable("plotly.min.js not found in the plotly package")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.set_content("<html><body><div id='fig' style='width:1150px'></div></body></html>")
        page.add_script_tag(content=plotly_js.read_text(encoding="utf-8"))
        page.errors = errors  # type: ignore[attr-defined]
        page.requests = requests  # type: ignore[attr-defined]
        yield page
        browser.close()


def draw(page, figure: dict) -> dict:
    data = json.loads(json.dumps(figure, cls=plotly.utils.PlotlyJSONEncoder))
    page.evaluate("f => Plotly.newPlot('fig', f.data, f.layout)", data)
    return page.evaluate(
        """() => ({
            paths: document.querySelectorAll('#fig svg path').length,
            texts: document.querySelectorAll('#fig svg text').length,
            gl: document.querySelectorAll('#fig canvas.gl-canvas').length,
            traces: document.getElementById('fig').data.length,
        })"""
    )


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_default_figures_render_as_svg(page, demo_store, name):
    spec = FIGURES[name]
    result = spec.build(demo_store, parse_params(spec, demo_store, {}))
    counts = draw(page, result.figure)
    assert counts["traces"] == len(result.figure["data"])
    assert counts["paths"] > {"circos": 50, "pairwise": 40, "effects": 40}[name], counts
    assert counts["texts"] > 10
    assert counts["gl"] == 0
    assert page.errors == []
    assert all(u.startswith(("about:", "data:")) for u in page.requests), page.requests
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_circos_draws_few_elements_however_many_chords(page, demo_store):
    """Plotly makes an SVG element of every bar, every marker and every gap-separated piece of
    a line, and styles each: a redraw's time goes into them. The Circos figure keeps to one
    element per colour (ring cells, chords, leader lines as shapes; the histogram one outline),
    whatever the number of targets and chords."""
    spec = FIGURES["circos"]
    query = {"min_numsigi1": "0", "fdr_i": "0.25", "fdr_l": "0.25", "min_log2fc": "0"}
    result = spec.build(demo_store, parse_params(spec, demo_store, query))
    table = result.table
    chords, nodes = (table["kind"] == "chord").sum(), (table["kind"] == "node").sum()
    assert chords > 500 and nodes > 200
    counts = draw(page, result.figure)
    assert counts["paths"] < 250, counts
    assert page.errors == []


def test_circos_hover_shows_chord_details(page, demo_store):
    spec = FIGURES["circos"]
    result = spec.build(demo_store, parse_params(spec, demo_store, {"min_numsigi1": "40"}))
    draw(page, result.figure)
    index = next(i for i, t in enumerate(result.figure["data"]) if t.get("name") == "chords")
    page.evaluate(
        f"() => Plotly.Fx.hover('fig', [{{curveNumber: {index}, pointNumber: 0}}], 'polar')"
    )
    text = page.evaluate("() => document.querySelector('#fig .hoverlayer').textContent")
    first = result.table[result.table["kind"] == "chord"].iloc[0]
    assert first["ligand"] in text and first["receptor"] in text and "numSigI1" in text
    assert page.errors == []


def test_empty_figures_show_their_message(page, tiny_store):
    spec = FIGURES["pairwise"]
    params = parse_params(
        spec, tiny_store, {"condition": "P", "cell_type1": "Alpha", "cell_type2": "Beta"}
    )
    result = spec.build(tiny_store, params)
    draw(page, result.figure)
    assert "No interactions" in page.evaluate("() => document.getElementById('fig').textContent")
    assert page.errors == []

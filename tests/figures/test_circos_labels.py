"""The Circos label layout (`ctsite.figures.circos_labels`): its geometry in Python, and — what
counts — the labels as Chromium draws them, in the static picture and in the interactive Plotly
figure, on the demo and on study-scale data (`benchmarks/bench_compile.py`'s generator), at
1400 and 390 px: no two label boxes overlap, none leaves the drawing, every chord end is
labelled at desktop width on data the size of the paper's Figure 4, searched genes always.

Boxes are measured in the browser (each <text>'s getBBox turned by its getScreenCTM: the
rotated box as drawn), never taken from the layout's own widths.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ctsite.figures import FIGURES, parse_params
from ctsite.figures.circos import circos_data
from ctsite.figures.circos_labels import (
    DESKTOP,
    PHONE,
    TABLET,
    WIDTH_CLASSES,
    Candidate,
    label_angle,
    layout_circos,
    overlap,
    spread,
)
from ctsite.figures.geometry import sectors
from ctsite.figures.precomputed import canonical_key
from tests.figures.conftest import compile_config
from tests.support.components import require_module, unavailable
from tests.support.pictures import INLINE_PICTURE
from tests.support.servers import serving

FIGURE_4_ENDS = 169  # labelled chord ends in the paper's Figure 4
SLACK = 0.3  # px: boxes may touch (sub-pixel rounding), never overlap more
STUDY_CELL_TYPES = ("Macrophages/mMDSC", "cDC", "pDC")
WIDTHS = {
    1400: {"width": 1400, "height": 1000},  # desktop
    1024: {"width": 1024, "height": 768},  # tablet (the card beside the controls)
    390: {"width": 390, "height": 844},  # phone
}

# ---------------------------------------------------------------- the layout in Python


def test_spread_keeps_order_spacing_and_bounds() -> None:
    thetas = np.array([10.0, 10.1, 10.2, 10.3, 50.0, 50.5, 359.0])
    out = spread(thetas, 2.0, 1.0, 359.0)
    assert np.all(np.diff(out) >= 2.0 - 1e-9)
    assert out[0] >= 1.0 and out[-1] <= 359.0
    assert abs(out[4] - 50.0) < 2.5  # labels far from a crowd stay near their chord end


def test_spread_leaves_well_spaced_labels_where_they_are() -> None:
    thetas = np.array([5.0, 20.0, 40.0])
    assert np.allclose(spread(thetas, 2.0, 0.0, 360.0), thetas)


@pytest.mark.parametrize("phi", np.arange(0.0, 360.0, 7.5))
def test_radial_labels_are_never_upside_down(phi: float) -> None:
    angle = label_angle(phi)
    assert -90.0 <= angle <= 90.0  # text runs left to right (or straight up/down)
    # and along the radius: the text's direction is parallel to the ray at phi
    ray = (math.sin(math.radians(phi)), -math.cos(math.radians(phi)))
    text = (math.cos(math.radians(angle)), math.sin(math.radians(angle)))
    assert abs(abs(ray[0] * text[0] + ray[1] * text[1]) - 1.0) < 1e-9


def _crowded(n: int = 260) -> tuple[list, list[Candidate]]:
    names = ["Tumor cells", "Macrophages/mMDSC", "cDC", "pDC", "T cells", "NK cells"]
    layout = sectors([(name, 300 if i % 2 == 0 else 40) for i, name in enumerate(names)])
    rng = np.random.default_rng(3)
    candidates = []
    for i in range(n):
        s = int(rng.integers(0, len(layout)))
        sector = layout[s]
        theta = float(rng.uniform(sector.start, sector.end))
        candidates.append(
            Candidate(f"Gene{i}", theta, s, highlighted=i % 40 == 0, strength=float(i % 17))
        )
    return layout, candidates


@pytest.mark.parametrize("cls", [DESKTOP, TABLET, PHONE], ids=lambda c: c.name)
def test_the_layout_keeps_its_own_boxes_apart(cls) -> None:
    layout, candidates = _crowded()
    placed = layout_circos(layout, candidates, cls)
    boxes = [label.placed.corners() for label in placed.labels] + [
        name.corners() for name in placed.names
    ]
    assert [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if overlap(boxes[i], boxes[j])
    ] == []
    # and by the test's own separating-axis check (the layout's `overlap` is what is tested)
    assert _bad_overlaps([{"text": str(i), "corners": c} for i, c in enumerate(boxes)]) == []
    # a check over a handful of forced labels would prove little: most are placed
    assert len(placed.labels) >= 20 and len(placed.names) == len(layout)
    for corners in boxes:
        assert all(0 <= x <= cls.circle and 0 <= y <= cls.circle for x, y in corners)
    kept = {label.index for label in placed.labels}
    assert kept | set(placed.left_out) == set(range(len(candidates)))
    assert all(i in kept for i, c in enumerate(candidates) if c.highlighted)


def test_labels_are_thinned_only_when_there_is_no_room() -> None:
    layout, candidates = _crowded(60)
    placed = layout_circos(layout, candidates, DESKTOP)
    assert placed.left_out == [] and placed.label_size == DESKTOP.label_sizes[0]


def test_the_width_class_is_part_of_the_view(demo_store) -> None:
    store = demo_store
    spec = FIGURES["circos"]
    desktop = parse_params(spec, store, {})
    phone = parse_params(spec, store, {"size": "phone"})
    assert desktop["size"] == "desktop" and phone["size"] == "phone"
    assert canonical_key(desktop) != canonical_key(phone)
    built = spec.build(store, phone).figure["layout"]
    assert (built["width"], built["height"], built["meta"]["size"]) == (
        PHONE.width,
        PHONE.height,
        "phone",
    )


def test_an_unknown_width_class_is_refused(demo_store) -> None:
    from ctsite.figures.params import BadParameter

    with pytest.raises(BadParameter, match="size must be one of desktop, tablet, phone"):
        parse_params(FIGURES["circos"], demo_store, {"size": "watch"})


def test_precomputed_views_exist_for_every_width_class(tmp_path: Path) -> None:
    from ctsite.figures.precomputed import precompute_defaults
    from ctsite.store import Store
    from tests.figures.conftest import write_tiny

    store_copy = compile_config(write_tiny(tmp_path))
    written = precompute_defaults(Store.open(store_copy))
    store = Store.open(store_copy)
    circos = [p for p in written if p.name.startswith("circos-")]
    assert len(circos) == len(WIDTH_CLASSES) * len(store.conditions)
    assert all(p.with_suffix(".svg").is_file() for p in circos)


# ---------------------------------------------------------------- the drawing, in Chromium

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

MEASURE = """([textSelector, frameSelector]) => {
  const frame = document.querySelector(frameSelector).getBoundingClientRect();
  const boxes = [];
  for (const t of document.querySelectorAll(textSelector)) {
    if (!t.textContent.trim()) continue;
    const b = t.getBBox();
    const m = t.getScreenCTM();
    const corners = [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height],
                     [b.x, b.y + b.height]].map(([x, y]) => {
      const p = new DOMPoint(x, y).matrixTransform(m);
      return [p.x, p.y];
    });
    boxes.push({text: t.textContent, corners});
  }
  return {frame: [frame.left, frame.top, frame.right, frame.bottom], boxes};
}"""

# the texts placed on the circle: annotations, and any text drawn at trace points
STATIC_TEXTS = "#figure-static svg g.annotations text, #figure-static svg text > tspan"
# (the interactive Circos: its annotations drawn by the page's layer, figure_layer.js)
PLOTLY_TEXTS = "#figure svg.figure-layer text, #figure .annotation text, #figure .textpoint text"


def _app(store_path: Path, root: Path) -> Any:
    from ctsite.config import load_settings
    from ctsite.web.app import create_app

    return create_app(load_settings(root=root, environ={}), store_path=store_path)


def _rows(text: str) -> list[dict[str, str]]:
    """The rows of a downloaded CSV, after its `# key: value` provenance lines."""
    body = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(body))))


def _chord_ends(base: str, query: str) -> dict[str, Any]:
    """The chord ends of a view, from its CSV: (gene, cell type) rows and the highlighted."""
    with urllib.request.urlopen(f"{base}/api/data/circos.csv?{query}") as response:
        rows = _rows(response.read().decode())
    ends = [r for r in rows if r["kind"] == "node" and r["has_chord"] == "True"]
    return {
        "count": len(ends),
        "highlighted": [r["target"] for r in ends if r["highlighted"] == "True"],
    }


def _figure_4_query(store_path: Path) -> str:
    """Filters of the study data with at least as many chord ends as Figure 4 (the fewest such),
    so that the floor (all labelled at desktop width) is tested at Figure 4's size."""
    from ctsite.store import Store

    store = Store.open(store_path)
    spec = FIGURES["circos"]
    condition = next(c.name for c in store.conditions if c.kind == "single")
    best: tuple[int, str] | None = None
    for fdr_l in ("0.01", "0.02", "0.03", "0.04", "0.05"):
        for log2fc in np.round(np.arange(0.10, 0.40, 0.02), 2):
            query = {"condition": condition, "fdr_l": fdr_l, "min_log2fc": str(log2fc)}
            ends = int(circos_data(store, parse_params(spec, store, query))
                       .nodes["has_chord"].sum())  # fmt: skip
            if ends >= FIGURE_4_ENDS and (best is None or ends < best[0]):
                best = (ends, urllib.parse.urlencode(query))
    assert best is not None, "the study data has no view with Figure 4's number of chord ends"
    return best[1]


@pytest.fixture(scope="module")
def study_store(tmp_path_factory: pytest.TempPathFactory, real_interactions: Path) -> Path:
    """Study-scale data from bench_compile's generator (its 11 cell types, the real mouse
    ligand-receptor list, fewer cells and genes so that it compiles in seconds), compiled."""
    from benchmarks import bench_compile

    folder = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench_compile, "SHARED_LR", real_interactions)
        config = bench_compile.generate(
            folder, n_types=11, n_targets=250, n_genes=800, n_cells=3000
        )
    return compile_config(config)


@pytest.fixture(scope="module")
def sites(demo_store: Path, study_store: Path, tmp_path_factory) -> Iterator[dict[str, Any]]:
    with (
        serving(_app(demo_store.path, tmp_path_factory.mktemp("demo-root"))) as demo,
        serving(_app(study_store, tmp_path_factory.mktemp("study-root"))) as study,
    ):
        yield {
            "demo": (demo, ""),
            "study": (study, _figure_4_query(study_store)),
        }


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        unavailable("chromium is not installed (apt-get install chromium)")
    sync_api = require_module("playwright.sync_api", "pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _convex_overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Separating axis test of two convex polygons (touching is not overlapping)."""
    for poly in (a, b):
        for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1], strict=True):
            nx, ny = y0 - y1, x1 - x0
            pa = [nx * x + ny * y for x, y in a]
            pb = [nx * x + ny * y for x, y in b]
            if max(pa) <= min(pb) or max(pb) <= min(pa):
                return False
    return True


def _bad_overlaps(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    def shrunk(corners: list[list[float]]) -> list[tuple[float, float]]:
        cx = sum(x for x, _ in corners) / 4
        cy = sum(y for _, y in corners) / 4
        out = []
        for x, y in corners:
            d = math.hypot(x - cx, y - cy) or 1.0
            out.append((x - (x - cx) / d * SLACK, y - (y - cy) / d * SLACK))
        return out

    polys = [shrunk(b["corners"]) for b in boxes]
    return [
        (boxes[i]["text"], boxes[j]["text"])
        for i in range(len(polys))
        for j in range(i + 1, len(polys))
        if _convex_overlap(polys[i], polys[j])
    ]


def _outside(measured: dict[str, Any]) -> list[str]:
    left, top, right, bottom = measured["frame"]
    return [
        b["text"]
        for b in measured["boxes"]
        if any(
            x < left - SLACK or x > right + SLACK or y < top - SLACK or y > bottom + SLACK
            for x, y in b["corners"]
        )
    ]


def _open(chromium, url: str, width: int):
    context = chromium.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("load")
    return context, page


def _measure(page, view: str) -> dict[str, Any]:
    if view == "static":
        page.evaluate(INLINE_PICTURE)
        return page.evaluate(MEASURE, [STATIC_TEXTS, "#figure-static svg"])
    page.hover(".figure-wrap")
    page.wait_for_function(
        "() => document.getElementById('figure').dataset.view === 'interactive'"
        " && document.getElementById('figure').dataset.ready",
        timeout=30000,
    )
    return page.evaluate(MEASURE, [PLOTLY_TEXTS, "#figure .main-svg"])


def _labels(measured: dict[str, Any], cell_types: set[str]) -> list[str]:
    return [b["text"] for b in measured["boxes"] if b["text"] not in cell_types]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("view", ["static", "interactive"])
@pytest.mark.parametrize("width", [1400, 1024, 390])
@pytest.mark.parametrize("data", ["demo", "study"])
def test_labels_never_collide_in_chromium(chromium, sites, data, width, view, tmp_path):
    base, query = sites[data]
    context, page = _open(chromium, f"{base}/circos?{query}", width)
    try:
        measured = _measure(page, view)
        page.screenshot(path=str(tmp_path / f"circos-{data}-{width}-{view}.png"))
    finally:
        context.close()
    with urllib.request.urlopen(f"{base}/api/meta") as response:
        cell_types = {c["name"] for c in json.loads(response.read())["cell_types"]}
    assert len(cell_types) >= 3  # (no sector would be every sector shown)
    shown = {b["text"] for b in measured["boxes"]} & cell_types
    assert shown == cell_types, f"sector names missing: {cell_types - shown}"
    assert _bad_overlaps(measured["boxes"]) == []
    assert _outside(measured) == []
    assert len(_labels(measured, cell_types)) >= 20
    if width == 1400:  # every chord end is labelled at desktop width
        ends = _chord_ends(base, query)
        if data == "study":
            assert ends["count"] >= FIGURE_4_ENDS
        assert len(_labels(measured, cell_types)) == ends["count"]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", [1400, 390])
def test_searched_genes_are_always_labelled(chromium, sites, width):
    base, query = sites["study"]
    # two of the genes with the most chord ends (at phone width most labels are left out)
    genes = _busiest(base, query, 2)
    searched = f"{query}&genes={','.join(genes)}"
    wanted = _chord_ends(base, searched)["highlighted"]
    assert len(wanted) >= 4
    context, page = _open(chromium, f"{base}/circos?{searched}", width)
    try:
        for view in ("static", "interactive"):
            if view == "interactive":
                page.reload()
                page.wait_for_load_state("load")
            measured = _measure(page, view)
            texts = [b["text"] for b in measured["boxes"]]
            for gene in set(wanted):
                assert texts.count(gene) >= wanted.count(gene), (view, gene)
            assert _bad_overlaps(measured["boxes"]) == []
    finally:
        context.close()


def _busiest(base: str, query: str, n: int) -> list[str]:
    with urllib.request.urlopen(f"{base}/api/data/circos.csv?{query}") as response:
        rows = _rows(response.read().decode())
    counts: dict[str, int] = {}
    for r in rows:
        if r["kind"] == "node" and r["has_chord"] == "True":
            counts[r["target"]] = counts.get(r["target"], 0) + 1
    return sorted(counts, key=lambda g: (-counts[g], g))[:n]


def test_a_phone_never_shrinks_a_label_below_its_minimum() -> None:
    """A name too long for the phone's band is left out (shown on hover), not drawn tiny;
    a searched one is drawn whatever it takes."""
    layout, candidates = _crowded(40)
    long = Candidate("A_very_long_complex_receptor_name", candidates[0].theta, 0)
    searched = Candidate("Another_very_long_complex_name", candidates[1].theta, 0, True)
    placed = layout_circos(layout, [*candidates, long, searched], PHONE)
    sizes = {label.placed.text: label.placed.size for label in placed.labels}
    assert long.text not in sizes and searched.text in sizes
    assert len(sizes) >= 20  # the others are drawn (the size check below is over them)
    assert all(
        size >= PHONE.min_label_size for text, size in sizes.items() if text != searched.text
    )

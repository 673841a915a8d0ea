"""The static SVG picture of a figure (`ctsite.figures.preview`): well-formed, safe, and the same
figure as the Plotly JSON it is drawn from (checked on the geometry, not on pixels)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from ctsite.figures import FIGURES, parse_params
from ctsite.figures.common import empty_figure, esc
from ctsite.figures.preview import NOMINAL_WIDTH, figure_svg, symbol_path, text_width

SVG = "{http://www.w3.org/2000/svg}"


def build(store, name, query=None):
    spec = FIGURES[name]
    return spec.build(store, parse_params(spec, store, query or {}))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def texts(root: ET.Element) -> list[str]:
    """Every text of the picture (a <text> of its own, or a label <tspan> of a group)."""
    return [el.text or "" for el in root.iter() if el.tag in (f"{SVG}text", f"{SVG}tspan")]


def plain(text: str) -> str:
    return re.sub(r"<[^>]*>", "", text).replace("&amp;", "&").strip()


def drawn_texts(figure: dict) -> list[str]:
    out = []
    for trace in figure["data"]:
        if "text" in str(trace.get("mode", "")):
            out += [plain(t) for t in trace.get("text") or [] if t]
    return out


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_default_figure_has_a_picture(demo_store, name):
    result = build(demo_store, name)
    svg = figure_svg(result.figure, f"{name} picture")
    root = parse(svg)
    height = result.figure["layout"]["height"]
    width = result.figure["layout"].get("width", NOMINAL_WIDTH)  # (Circos: its class's width)
    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert root.get("role") == "img" and root.get("aria-label") == f"{name} picture"
    # every text Plotly draws (gene labels, sector names) is in the picture
    assert set(drawn_texts(result.figure)) <= set(texts(root))
    # every legend entry and colour bar title is there too
    for trace in result.figure["data"]:
        if trace.get("showlegend"):
            assert plain(trace["name"]) in texts(root)
        bar = (trace.get("marker") or {}).get("colorbar")
        if bar and trace["marker"].get("showscale"):
            assert bar["title"]["text"] in texts(root)
    assert "<script" not in svg and "javascript:" not in svg and " on" not in svg.lower()


def test_circos_picture_geometry(demo_store):
    """Chords drawn as exact quadratic curves, one bar path per ring colour, all inside the
    circle of the polar domain."""
    figure = build(demo_store, "circos").figure
    root = parse(figure_svg(figure, "circos"))
    chords = [s for s in figure["layout"]["shapes"] if s.get("name") == "chords"]
    n_chords = sum(s["path"].count("Q") for s in chords)
    assert n_chords == (build(demo_store, "circos").table["kind"] == "chord").sum() > 0
    quadratic = sum(
        (el.get("d") or "").count("Q") for el in root.iter(f"{SVG}path") if el.get("fill") == "none"
    )
    assert quadratic == n_chords
    # the rings: one fill (or, for cells thinner than a pixel, one stroke) per colour step
    for name in ("cell_type_dc1 ring", "DA_score ring"):
        colours = {s["fillcolor"] for s in figure["layout"]["shapes"] if s.get("name") == name}
        drawn = {el.get("fill") for el in root.iter(f"{SVG}path")}
        drawn |= {el.get("stroke") for el in root.iter(f"{SVG}path")}
        assert colours and colours <= drawn
    # the sectors: one arc path per cell type colour
    sectors = next(t for t in figure["data"] if t.get("name") == "sectors")
    fills = {el.get("fill") for el in root.iter(f"{SVG}path")}
    assert set(sectors["marker"]["color"]) <= fills
    # the bar coordinates stay inside the figure
    numbers = [
        float(v)
        for el in root.iter(f"{SVG}path")
        for v in re.findall(r"-?\d+(?:\.\d+)?", el.get("d") or "")
    ]
    assert all(
        -1 <= v <= max(figure["layout"]["width"], figure["layout"]["height"]) + 1 for v in numbers
    )


def test_picture_follows_the_parameters(demo_store):
    """Another query, another picture: fewer chords with a higher minimum numSigI1."""
    many = parse(figure_svg(build(demo_store, "circos", {"min_numsigi1": "0"}).figure, "c"))
    few = parse(figure_svg(build(demo_store, "circos", {"min_numsigi1": "40"}).figure, "c"))

    def curves(root):
        return sum((el.get("d") or "").count("Q") for el in root.iter(f"{SVG}path"))

    assert curves(many) > curves(few)


def test_empty_figure_shows_its_message():
    root = parse(figure_svg(empty_figure("No interactions — try loosening the filters"), "x"))
    assert "No interactions — try loosening the filters" in texts(root)


def test_names_from_the_data_are_escaped():
    """Names reach the figure JSON escaped for Plotly (`common.esc`); the picture shows them as
    text and markup in them (tags) is dropped as Plotly drops it, never passed on."""
    evil = '<script>alert(1)</script>" onload="x'
    figure = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [0, 1],
                "y": [0, 1],
                "text": [esc(evil), "<b>Ccl2</b>"],
                "marker": {"color": ["red;background:url(x)", "#00ff00"], "size": 8},
                "name": evil,
                "showlegend": True,
            }
        ],
        "layout": {"height": 400, "xaxis": {"range": [-1, 2]}, "yaxis": {"range": [-1, 2]}},
    }
    svg = figure_svg(figure, evil)
    root = parse(svg)
    assert "<script" not in svg and "url(x)" not in svg
    assert evil in texts(root) and "Ccl2" in texts(root)
    assert 'alert(1) " onload="x' in texts(root)  # the legend's raw name: tags dropped
    assert root.get("aria-label") == evil


def test_marker_symbols_and_text_widths():
    r = 5.0
    assert symbol_path("circle", r, 0, 100, 100).startswith("M105,100A5,5 ")
    for symbol in ("square", "diamond", "triangle-up", "pentagon", "arrow"):
        d = symbol_path(symbol, r, 0, 100, 100)
        points = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
        assert all(abs(v - 100) <= 2.1 * r for v in points), symbol
    # an arrow turned by 90° points right: its tip (the first point) is the rightmost
    tip_x = float(symbol_path("arrow", r, 90, 0, 0)[1:].split(",")[0])
    assert tip_x == 0 and "L-" in symbol_path("arrow", r, 90, 0, 0)
    assert text_width("Macrophages/mMDSC", 14, True) > text_width("Macrophages/mMDSC", 14)
    assert text_width("iiii", 12) < text_width("MMMM", 12)


def test_path_shapes_and_filled_areas():
    """Path shapes in paper coordinates: strokes (with their opacity) and fills, a thin
    four-corner cell as a line along it, anything but numbers and commands dropped; a
    `fill: "toself"` trace closes each run of its points."""
    layout = {"height": 100, "width": 200, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}}
    figure = {
        "data": [
            {
                "type": "scatter",
                "mode": "none",
                "x": [0, 1, 1, None, 2, 3, 3],
                "y": [0, 0, 1, None, 0, 0, 1],
                "fill": "toself",
                "fillcolor": "#123456",
            }
        ],
        "layout": {
            **layout,
            "xaxis": {"range": [0, 4]},
            "yaxis": {"range": [0, 1]},
            "shapes": [
                {"type": "path", "xref": "paper", "yref": "paper", "path": "M0,0Q0.5,1 1,0",
                 "line": {"color": "#ff0000", "width": 3}, "opacity": 0.5},
                # a 0.2 px wide cell (at 200 px) and a wide one, one colour
                {"type": "path", "xref": "paper", "yref": "paper", "fillcolor": "#00ff00",
                 "line": {"width": 0},
                 "path": "M0.1,0.9L0.101,0.9L0.101,0.5L0.1,0.5ZM0.5,0.9L0.7,0.9L0.7,0.5L0.5,0.5Z"},
                {"type": "path", "xref": "paper", "yref": "paper",
                 "path": 'M0,0L1,1"/><script>alert(1)</script>', "line": {"color": "#0000ff"}},
            ],
        },
    }  # fmt: skip
    svg = figure_svg(figure, "shapes")
    root = parse(svg)
    paths = list(root.iter(f"{SVG}path"))
    assert "<script" not in svg and "alert" not in svg and "#0000ff" not in svg
    curve = next(p for p in paths if p.get("stroke") == "#ff0000")
    assert curve.get("d") == "M0,100Q100,0 200,100" and curve.get("opacity") == "0.5"
    assert curve.get("fill") == "none" and curve.get("stroke-width") == "3"
    wide = next(p for p in paths if p.get("fill") == "#00ff00")
    assert wide.get("d") == "M100,10L140,10L140,50L100,50Z" and wide.get("stroke") == "none"
    thin = next(p for p in paths if p.get("stroke") == "#00ff00")
    assert thin.get("d") == "M20.1,10L20.1,50" and thin.get("stroke-width") == "0.2"
    area = next(p for p in paths if p.get("fill") == "#123456")
    assert area.get("d") == "M0,100L50,100L50,0ZM100,100L150,100L150,0Z"

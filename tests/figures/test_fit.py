"""Text a reader can read on a coloured fill, and labels that fit a phone (issue 25)."""

from __future__ import annotations

import pytest

from ctsite.figures import FIGURES, parse_params
from ctsite.figures.fit import contrast, readable_ink, wrap_name
from ctsite.figures.preview.svg import text_width


@pytest.mark.parametrize(
    "fill", ["#a3d106", "#0047cf", "#ffff00", "#000000", "#ffffff", "#808080", "#f47d06"]
)
def test_ink_reaches_wcag_aa_on_any_fill(fill):
    assert contrast(readable_ink(fill), fill) >= 4.5


def test_pairwise_headers_read_on_their_cell_type_colour(demo_store):
    """Before: white on the lime "Tumor cells" header (1.9:1)."""
    spec = FIGURES["pairwise"]
    checked = set()
    for first in demo_store.cell_types:
        params = parse_params(spec, demo_store, {"cell_type1": first})
        figure = spec.build(demo_store, params).figure
        headers = [n for n in figure["layout"].get("annotations", []) if n.get("bgcolor")]
        # one coloured header per column: none found would check nothing
        assert len(headers) == 2, (first, figure["layout"].get("annotations"))
        for note in headers:
            ratio = contrast(note["font"]["color"], note["bgcolor"])
            assert ratio >= 4.5, (first, note["text"], ratio)
            checked.add(note["text"])
    assert "<b>Tumor cells</b>" in checked, checked


def test_long_names_wrap_to_the_width_where_they_can():
    assert wrap_name("Tumor cells", 95, 13) == ["Tumor cells"]
    assert wrap_name("Macrophages/mMDSC", 95, 13) == ["Macrophages/", "mMDSC"]
    lines = wrap_name("Cancer-associated fibroblasts", 95, 13)
    assert "".join(lines).replace(" ", "") == "Cancer-associatedfibroblasts".replace(" ", "")
    assert all(text_width(line, 13, True) <= 95 for line in lines)


@pytest.mark.parametrize("genes", ["", "Ccl2,Apoe"])
def test_circos_texts_read_on_the_white_page(demo_store, genes):
    """Before: the lime "Tumor cells" and cyan "PMN/gMDSC" sector names (1.6:1 and 1.5:1 on
    white), and the gene labels greyed while genes are searched (#c8c8c8, 1.7:1)."""
    spec = FIGURES["circos"]
    params = parse_params(spec, demo_store, {"genes": genes} if genes else {})
    notes = spec.build(demo_store, params).figure["layout"]["annotations"]
    names = [n for n in notes if n.get("name") == "sector name"]
    labels = [n for n in notes if n.get("name") == "gene label"]
    assert len(names) == len(demo_store.cell_types) and labels
    for note in names + labels:
        ratio = contrast(note["font"]["color"], "#ffffff")
        assert ratio >= 4.5, (note["text"], note["font"]["color"], ratio)


@pytest.mark.parametrize("color", ["#a6d608", "#00e5ee", "#ffff00", "#888888", "#000000"])
def test_ink_on_white_keeps_the_hue_and_reaches_aa(color):
    from ctsite.figures.fit import ink_on_white

    ink = ink_on_white(color)
    assert contrast(ink, "#ffffff") >= 4.5
    if contrast(color, "#ffffff") >= 4.5:
        assert ink == color  # a colour that reads already is kept as it is

"""The engine's text measures against Python's: web-assets/engine/text_metrics.js (the one
measured font table, label_font.json, read by both) against ctsite/figures/text_metrics.py, and
web-assets/engine/svg_text.js against the text primitives of ctsite/figures/preview/svg.py."""

from __future__ import annotations

from hypothesis import strategies as st

from ctsite.figures import text_metrics
from ctsite.figures.preview import svg
from tests.support.engine_inputs import edge_floats, examples, texts
from tests.support.node_engine import call, compare, constant

N = 300
table = text_metrics.metrics()
known = st.text(alphabet="".join(table.regular), max_size=30)


def test_constants_and_table_are_pythons():
    assert constant("text_metrics", "FAMILY") == text_metrics.FAMILY
    assert constant("text_metrics", "FONT_STACK") == text_metrics.FONT_STACK
    got = call("text_metrics", "metrics")
    assert got == {"size": table.size, "regular": table.regular, "bold": table.bold,
                   "height": table.height, "baseline": table.baseline}  # fmt: skip
    for name in ("NOMINAL_WIDTH", "FONT_FAMILY", "HALO"):
        assert constant("svg_text", name) == getattr(svg, name), name


def test_measured_widths_and_heights():
    inputs = examples(st.tuples(st.one_of(known, texts()), st.floats(1, 40), st.booleans()), N)
    compare("text_metrics", "textWidth", text_metrics.text_width, inputs)
    sizes = examples(st.tuples(st.one_of(st.floats(0, 100), edge_floats())), N)
    compare("text_metrics", "lineHeight", text_metrics.line_height, sizes)
    compare("text_metrics", "baselineOffset", text_metrics.baseline_offset, sizes)


def test_svg_text_primitives():
    values = examples(st.tuples(edge_floats()), N)
    compare("svg_text", "num", svg.num, values)
    compare("svg_text", "alpha", svg.alpha, values)
    words = examples(st.tuples(texts()), N)
    compare("svg_text", "attr", svg.attr, words)
    compare("svg_text", "escapeText", svg.escape_text, words)
    markup = st.one_of(
        texts(),
        st.lists(st.sampled_from(["<b>", "</b>", "<br>", "<B>", "A&amp;B", "x", " ", "&lt;i&gt;"]),
                 max_size=8).map("".join),
    )  # fmt: skip
    compare("svg_text", "plainText", svg.plain_text, examples(st.tuples(markup), N))
    compare("svg_text", "plainText", svg.plain_text, [(None,), (0,), ("",), (1.5,)])
    widths = examples(st.tuples(texts(), st.floats(1, 40), st.booleans()), N)
    compare("svg_text", "textWidth", svg.text_width, widths)
    shifts = [(s, b) for s in (0.0, 9.5, 12.0) for b in ("middle", "top", "bottom", "left")]
    compare("svg_text", "baselineShift", svg.baseline_shift, shifts)


def _text_element(x, y, text, size, color, anchor, bold, baseline, halo, extra):
    return svg.text_element(
        x, y, text, size, color, anchor=anchor, bold=bold, baseline=baseline, halo=halo,
        extra=extra,
    )  # fmt: skip


def test_text_element():
    f = edge_floats()
    inputs = examples(
        st.tuples(
            f, f, texts(), st.floats(1, 30), st.just("#222"), st.sampled_from(["start", "end"]),
            st.booleans(), st.sampled_from(["middle", "top", "bottom"]), st.booleans(),
            st.sampled_from(["", 'class="x"']),
        ),
        N,
    )  # fmt: skip
    compare(
        "svg_text",
        "textElement",
        _text_element,
        inputs,
        js_args=lambda a: (
            *a[:5],
            {"anchor": a[5], "bold": a[6], "baseline": a[7], "halo": a[8], "extra": a[9]},
        ),
    )

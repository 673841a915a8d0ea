"""The engine's Python primitives (web-assets/engine/py.js) against Python itself: round(),
numpy's round, format(x, ".Ng"/".Ne"/".Nf"), repr(float), float(text), str.strip/split,
html.escape/unescape — the rules every ported figure function relies on."""

from __future__ import annotations

import html
import html.entities

import numpy as np
from hypothesis import strategies as st

from tests.support.engine_inputs import edge_floats, examples, texts
from tests.support.node_engine import compare, constant

N = 400


def _float_or_error(text: str) -> float:
    return float(text)


def test_round_matches_python_round_with_digits():
    inputs = examples(st.tuples(edge_floats(), st.integers(-5, 12)), N)
    assert compare("py", "pyRound", round, inputs) == len(inputs)
    assert compare("py", "pyRound", round, [(2.675, 2), (0.125, 2), (-0.0, 3), (1e300, -299)])


def test_round_to_int_matches_python():
    # (an int past 2**53 prints differently from the float that holds it: the engine's ints are
    # floats, so only the ints a figure can hold are compared)
    inputs = examples(st.tuples(edge_floats().filter(lambda v: abs(v) < 2**53)), N)
    compare("py", "pyRound", round, inputs)


def test_numpy_round_float64_and_float32():
    inputs = examples(st.tuples(edge_floats(), st.integers(-3, 10)), N)
    compare("py", "npRound", lambda x, d: float(np.round(np.float64(x), d)), inputs)
    small = examples(st.tuples(st.floats(width=32, allow_nan=True), st.integers(0, 8)), N)
    compare("py", "npRound32", lambda x, d: float(np.round(np.float32(x), d)), small)


def test_format_g_e_f_match_python_format():
    for spec, fn in (("g", "formatG"), ("e", "formatE"), ("f", "formatF")):
        hi = 30 if spec != "f" else 20
        inputs = examples(st.tuples(edge_floats(), st.integers(0, hi)), N)
        compare("py", fn, lambda x, p, s=spec: format(x, f".{p}{s}"), inputs)
    compare("py", "formatG", lambda x: format(x, "g"), [(v,) for v in (1e16, 123456.5, 0.0001)])


def test_thousands_match_python_comma_format():
    # (the figures' "Showing the 1,500 strongest of 12,345 chords" messages)
    inputs = examples(st.tuples(st.integers(-(2**53), 2**53)), N)
    inputs += [(0,), (999,), (1000,), (-1000,), (1_234_567,)]
    assert compare("py", "formatThousands", lambda n: format(n, ","), inputs) == len(inputs)


def test_float_repr_matches_python_repr():
    inputs = examples(st.tuples(edge_floats()), N)
    compare("py", "pyFloatRepr", repr, inputs)


def test_float_of_text_matches_python_float():
    numeric = st.from_regex(
        r"\A[ \t]{0,2}[+-]?([0-9](_?[0-9]){0,3})?\.?([0-9](_?[0-9]){0,3})?([eE][+-]?[0-9]{1,3})?"
        r"[ \t\n]{0,2}\Z"
    )
    named = st.sampled_from(["inf", "-Infinity", "+nan", "NaN", "infinity ", "١٢٣", "1__0", "_1"])
    inputs = examples(st.tuples(st.one_of(numeric, named, texts())), N)
    compare("py", "pyFloat", _float_or_error, inputs)


def test_hex_int_matches_python_int():
    hexes = st.from_regex(r"\A[ +\-0xX_0-9a-fA-FgG]{0,6}\Z")
    inputs = examples(st.tuples(st.one_of(hexes, texts())), N)
    # CPython's int() reads any Unicode decimal digit (the engine refused "٣٣", Python's 0x33)
    inputs += [("٣٣",), ("\u0663f",), ("\u2003-\u0661\u0660 ",), ("\uff11",), ("\u00b2",)]
    compare("py", "pyIntHex", lambda t: int(t, 16), inputs)


def test_strip_split_len_match_python():
    inputs = examples(st.tuples(texts()), N)
    compare("py", "pyStrip", str.strip, inputs)
    compare("py", "pyLstrip", str.lstrip, inputs)
    compare("py", "pyRstrip", str.rstrip, inputs)
    compare("py", "pySplit", str.split, inputs)
    compare("py", "pyLen", len, inputs)


def test_html_escape_and_unescape_match_python():
    inputs = examples(st.tuples(texts()), N)
    compare("py", "htmlEscape", html.escape, [(t, False) for (t,) in inputs])
    compare("py", "htmlEscape", html.escape, [(t, True) for (t,) in inputs])
    compare("py", "htmlUnescape", html.unescape, inputs)
    refs = [(f"&{name}x&{name};",) for name in list(html.entities.html5)[::7]] + [
        (f"&#{n};&#x{n:x}",) for n in (*range(0, 0x40), *range(0x7F, 0xA1), 0xD800, 0xFFFE)
    ]
    compare("py", "htmlUnescape", html.unescape, refs)


def test_the_entity_table_is_pythons():
    table = constant("py", "html5Entities")
    assert table == html.entities.html5

"""The browser engine's parameters (web-assets/engine/params.js, defaults.js and the text rules of py.js)
against ctsite/figures/params.py and the figures' defaults.

Defaults on every store (and on stores whose compiled figure defaults are absent or name what
the data lacks); hand-picked and hypothesis-generated queries, valid and invalid, whose parsed
parameters, or error message and hint, must equal Python's; to_query of every valid parse; and
Python's text rules (`{x:g}`, `{x:.2f}`, `repr`, `float()`, `strip()`) on generated inputs.
"""

from __future__ import annotations

import json
import math
import urllib.parse
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctsite.figures import FIGURES, BadParameter, parse_params
from ctsite.store import Store
from ctsite.store.figure_defaults import FigureDefaults
from tests.engine.cases import HAND_PICKED, parse_call
from tests.engine.conftest import Site
from tests.support.engine import Call, assert_same, encode, run_engine, run_python

SPECIALS = [
    "'", '"', "\\", "it's", 'say "hi"', "both ' and \"", "é", "\u00a0", "\x85", "\u2028", "😀",
    "\x00", "\x1c1", "\t", "\u3000", "٣", "𝟙", "ǅ", "İ", "ß", "ﬃ", "\ufeff", "\u200b", "a\nb",
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(SPECIALS),
    st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=60),
)
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def number_texts(lo: float, hi: float, step: float) -> st.SearchStrategy[str]:
    """Numbers around a control's range and steps, written the many ways a URL can."""
    near = st.sampled_from([lo, hi, lo - step, hi + step, (lo + hi) / 2, hi + 1e-12, lo - 1e-12])
    values = st.one_of(near, st.floats(lo - 3 * step, hi + 3 * step), st.integers(-5, 120))
    forms = st.sampled_from(["{}", "{!r}", "{:g}", "{:.3f}", " {} ", "{:e}", "+{}"])
    written = st.builds(lambda v, f: f.format(v), values, forms)
    odd = st.sampled_from(["inf", "-inf", "nan", "1_0", "1__0", "0x10", "1e1", "5.0", "-0", ".5",
                           "5.", "", "  ", "١", "1e400", "--1", "0,5"])  # fmt: skip
    return st.one_of(written, odd, TEXT)


def control_texts(store: Store, control: Any) -> st.SearchStrategy[str]:
    """Values for one control: valid ones, near misses and junk."""
    kind = control.kind
    if kind == "condition":
        names = [c.name for c in store.conditions] + [c.id for c in store.conditions]
        return st.one_of(st.sampled_from(names), st.sampled_from(names).map(str.upper), TEXT)
    if kind == "fdr":
        ts = store.thresholds
        return st.one_of(number_texts(ts[0], ts[-1], 0.01), st.sampled_from(ts).map(str))
    if kind in ("int", "float"):
        return number_texts(control.minimum, control.maximum, control.step or 1)
    if kind == "cell_type":
        types = list(store.cell_types)
        return st.one_of(
            st.sampled_from(types),
            st.sampled_from(types).map(str.lower),
            st.sampled_from(["none", "[None]", " NONE ", "", " "]),
            TEXT,
        )
    if kind == "genes":
        word = st.one_of(
            st.sampled_from(store.genes[:200]),
            st.sampled_from(store.genes[:200]).map(str.swapcase),
            TEXT.filter(lambda t: len(t) < 12),
        )
        sep = st.sampled_from([",", ", ", ";", " ", "\t", ",,", "\u00a0", "\u3000"])
        return st.one_of(
            st.builds(lambda ws, s: s.join(ws), st.lists(word, max_size=8), sep),
            st.builds(lambda ws: ",".join(ws), st.lists(word, min_size=49, max_size=53)),
            TEXT,
        )
    return st.one_of(st.sampled_from(["1", "0", "true", "False", " yes ", "On", "2", ""]), TEXT)


def queries(store: Store, figure: str) -> st.SearchStrategy[dict[str, str]]:
    """A query mapping: some of the figure's keys (and a width class, an unknown key)."""
    spec = FIGURES[figure]
    parts = {c.name: control_texts(store, c) for c in spec.controls}
    parts["size"] = st.one_of(st.sampled_from(["desktop", "phone", "tablet", "", "wide"]), TEXT)
    parts["unknown"] = TEXT
    return st.fixed_dictionaries({}, optional=parts)


def compare_parses(site: Site, figure: str, batch: list[dict[str, str]]) -> list[Any]:
    """Parse every query of `batch` on both sides; then to_query of each valid parse."""
    calls = [parse_call(figure, q) for q in batch]
    expected = run_python(site.store, calls)
    actual = run_engine(site.index, calls)
    assert_same(calls, expected, actual)
    to_query = [
        {"fn": "toQuery", "figure": figure, "params": result["ok"]}
        for result in expected
        if "ok" in result
    ]
    assert_same(to_query, run_python(site.store, to_query), run_engine(site.index, to_query))
    return expected


def test_the_defaults_of_every_figure_are_pythons(site: Site) -> None:
    calls = [parse_call(name, {}) for name in FIGURES]
    assert_same(calls, run_python(site.store, calls), run_engine(site.index, calls))


def test_parsing_reads_only_what_opening_the_store_loaded(demo_site: Site) -> None:
    """A page parses its URL before it fetches any condition's tables: `openStore` loads the
    genes and the ligand–receptor list, which is all the parameters and defaults read."""
    calls = [parse_call(name, {}) for name in FIGURES]
    calls += [parse_call(name, q) for name, batch in HAND_PICKED.items() for q in batch]
    expected = run_python(demo_site.store, calls)
    assert_same(calls, expected, run_engine(demo_site.index, calls, prepare_all=False))


def _with_defaults(site: Site, chosen: FigureDefaults | None, folder: Path) -> Site:
    """The same store with other compiled figure defaults (None: a store compiled before them),
    on both sides."""
    store = Store.open(site.store.path)
    store.__dict__["figure_defaults"] = chosen  # the cached property, as if read from the file
    index = json.loads(site.index.read_text(encoding="utf-8"))
    index["figure_defaults"] = None if chosen is None else json.loads(chosen.to_json())
    folder.mkdir(parents=True, exist_ok=True)
    for path in site.index.parent.iterdir():  # every data file, under its own name
        if path != site.index:
            (folder / path.name).symlink_to(path)
    target = folder / "store.test.json"
    target.write_text(json.dumps(index), encoding="utf-8")
    return Site(store, target)


@pytest.mark.parametrize("variant", ["absent", "unknown names", "other genes"])
def test_the_defaults_follow_the_compiled_choices_and_their_fallbacks(
    tiny_site: Site, study_site: Site, variant: str, tmp_path: Path
) -> None:
    for n, site in enumerate((tiny_site, study_site)):
        chosen = site.store.figure_defaults
        assert chosen is not None
        other = {
            "absent": None,
            "unknown names": FigureDefaults("Nope", ("NoSuchGene",), "Nope", "Nope too"),
            "other genes": replace(
                chosen,
                effects_seeds=tuple(site.store.genes[-2:]),
                effects_cell_type=site.store.cell_types[-1],
                pairwise_cell_type1=site.store.cell_types[-1],
            ),
        }[variant]
        changed = _with_defaults(site, other, tmp_path / str(n))
        calls = [parse_call(name, {}) for name in FIGURES]
        assert_same(calls, run_python(changed.store, calls), run_engine(changed.index, calls))


@pytest.mark.parametrize("figure", list(FIGURES))
def test_hand_picked_queries_parse_as_in_python(demo_site: Site, figure: str) -> None:
    results = compare_parses(demo_site, figure, HAND_PICKED[figure])
    assert any("ok" in r for r in results) and any("error" in r for r in results)


@pytest.mark.parametrize("figure", list(FIGURES))
@pytest.mark.parametrize("name", ["demo", "tiny", "study"])
def test_generated_queries_parse_as_in_python(
    request: pytest.FixtureRequest, name: str, figure: str
) -> None:
    """Valid and invalid queries: the same parameters, or the same error text and hint."""
    site: Site = request.getfixturevalue(f"{name}_site")
    seen = {"ok": 0, "error": 0}

    @SETTINGS
    @given(st.lists(queries(site.store, figure), min_size=30, max_size=30))
    def check(batch: list[dict[str, str]]) -> None:
        for result in compare_parses(site, figure, batch):
            seen["ok" if "ok" in result else "error"] += 1

    check()
    assert seen["ok"] > 10 and seen["error"] > 10, seen


BYTES_ESCAPED = st.binary(min_size=1, max_size=6).map(
    lambda b: "".join(f"%{x:02{'x' if x % 2 else 'X'}}" for x in b)
)  # invalid UTF-8 too: the server keeps such bytes percent-encoded
RAW_PIECES = st.one_of(
    st.text(alphabet="%+&=;?#abcdefABCDEF0123456789_ -.", max_size=12),
    BYTES_ESCAPED,
    st.sampled_from(["&&", "fdr_i", "=x", "genes=%zz", "genes=%4", "size=phone&size=x"]),
)


def query_strings(store: Store, figure: str) -> st.SearchStrategy[str]:
    """URL query strings as a browser sends them: encoded mappings (either quoting), repeated
    keys, raw pieces and percent-encoded bytes that are not UTF-8."""
    quoting = st.sampled_from([urllib.parse.quote, urllib.parse.quote_plus])
    encoded = st.builds(
        lambda q, how: urllib.parse.urlencode(q, quote_via=how), queries(store, figure), quoting
    )
    keys = st.sampled_from([c.name for c in FIGURES[figure].controls] + ["size"])
    raw = st.builds(lambda k, v: f"{k}={v}", keys, RAW_PIECES)
    parts = st.lists(st.one_of(encoded, raw, RAW_PIECES), min_size=1, max_size=4)
    return parts.map("&".join)


@pytest.mark.parametrize("figure", list(FIGURES))
def test_generated_query_strings_read_as_the_server_reads_them(
    demo_site: Site, figure: str
) -> None:
    """A URL of the server site opens the same view: its query string is split and decoded as
    werkzeug does (request.args), so the parameters, or the error texts, are the server's."""

    @SETTINGS
    @given(st.lists(query_strings(demo_site.store, figure), min_size=30, max_size=30))
    def check(batch: list[str]) -> None:
        calls = [{"fn": "parseParams", "figure": figure, "query": q} for q in batch]
        assert_same(calls, run_python(demo_site.store, calls), run_engine(demo_site.index, calls))

    check()


def test_every_bad_parameter_of_python_is_a_bad_parameter_of_the_engine(demo_site: Site) -> None:
    """The error type too: a BadParameter on both sides (the web answers it with 400)."""
    batch = HAND_PICKED["circos"]
    calls = [parse_call("circos", q) for q in batch]
    for query, result in zip(batch, run_engine(demo_site.index, calls), strict=True):
        try:
            parse_params(FIGURES["circos"], demo_site.store, query)
        except BadParameter:
            assert result["error"]["type"] == "BadParameter"
        else:
            assert "ok" in result


# ------------------------------------------------------------------ Python's text rules

TIES = [0.125, 0.375, 2.5, 1234565.0, 123456.5, 0.5, 1.5, 5e-05, 9.9999995, 999999.5, 1e16]
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(TIES + [-t for t in TIES] + [0.0, -0.0, 5e-324, 1.7976931348623157e308]),
    st.integers(-(10**9), 10**9).map(float),
    st.decimals(-1000, 1000, places=4).map(float),
)
ODD_FLOAT_TEXTS = [
    "1_0", "_1", "1_", "1__0", "1_0.0_1e1_0", "1._0", "1e_1", "in_f", "iNfInItY", "-nan", "+inf",
    "١٢٣", "𝟙𝟚", " \x1c1\x1f ", "\u20281.5\u3000", "\ufeff1", ".", "e5", "1e", "0x1p3", "1.5E+3",
    "−1", "5.", ".5", "٫5",
]  # fmt: skip
FLOAT_TEXTS = st.one_of(TEXT, st.floats().map(repr), st.sampled_from(ODD_FLOAT_TEXTS))


def _value(x: float) -> Any:
    return encode(x)


@SETTINGS
@given(
    st.lists(FLOATS, min_size=60, max_size=60),
    st.lists(TEXT, min_size=60, max_size=60),
    st.lists(FLOAT_TEXTS, min_size=60, max_size=60),
)
def test_pythons_number_and_text_formats(
    numbers: list[float], texts: list[str], float_texts: list[str]
) -> None:
    calls: list[Call] = []
    for x in numbers:
        calls += [
            {"fn": "formatG", "args": [_value(x)]},
            {"fn": "formatG", "args": [_value(x), 3]},
            {"fn": "formatFixed", "args": [_value(x), 2]},
            {"fn": "formatFixed", "args": [_value(x), 0]},
        ]
        if math.isfinite(x):
            calls.append({"fn": "pyFloatRepr", "args": [_value(x)]})
    calls += [{"fn": "pyRepr", "args": [t]} for t in texts + SPECIALS]
    calls += [{"fn": "pyStrip", "args": [t]} for t in texts + SPECIALS]
    calls += [{"fn": "pyFloat", "args": [t]} for t in float_texts]
    expected = run_python(None, calls)
    actual = run_engine(None, calls)
    # texts compared exactly (no float tolerance applies to a string)
    assert_same(calls, expected, actual)

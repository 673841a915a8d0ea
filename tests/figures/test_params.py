"""Parameter parsing and defaults: spec defaults, validation messages, round trips, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctsite.figures import FIGURES, BadParameter, parse_params, to_query

COMBINED = "highCIN_vs_lowCIN AND highCIN_vs_noSTING"


def test_defaults_reproduce_the_spec(demo_store):
    assert FIGURES["circos"].defaults(demo_store) == {
        "condition": COMBINED,
        "fdr_i": 0.25,
        "fdr_l": 0.05,
        "min_numsigi1": 10,
        "min_numdeg": 0,
        "min_log2fc": 0.12,
        "genes": (),
        "size": "desktop",  # the width class it is laid out for
    }
    assert FIGURES["pairwise"].defaults(demo_store) == {
        "condition": COMBINED,
        "cell_type1": "Tumor cells",
        "cell_type2": "Macrophages/mMDSC",
        "cell_type3": None,
        "bidirectional": False,
        "fdr_i": 0.25,
        "fdr_l": 0.05,
        "min_numsigi1": 10,
        "min_expression": 0.0,
        "min_log2fc": 0.12,
    }
    assert FIGURES["effects"].defaults(demo_store) == {
        "condition": "highCIN_vs_lowCIN",
        "cell_type": "Tumor cells",
        "seeds": ("Ccl2", "Apoe"),
        "fdr_i": 0.05,
        "min_log2fc": 0.12,
        "min_expression": 0.0,
        "fdr_l": 0.05,
        "steps": 2,
    }


def test_defaults_fall_back_on_a_store_without_the_study_names(tiny_store):
    d = FIGURES["pairwise"].defaults(tiny_store)
    # the only cell-type pair with an interaction passing the default filters (Beta → Alpha,
    # the first two in display order, draws nothing): chosen at compile time from the data
    assert (d["condition"], d["cell_type1"], d["cell_type2"]) == ("P AND Q", "Alpha", "Alpha")
    assert FIGURES["pairwise"].build(tiny_store, d).message is None
    e = FIGURES["effects"].defaults(tiny_store)
    assert e["condition"] == "P" and e["cell_type"] == "Beta"
    assert e["seeds"] and tiny_store.receptors_of(e["seeds"][0])


def test_missing_keys_take_defaults_and_unknown_keys_are_ignored(demo_store):
    spec = FIGURES["circos"]
    assert parse_params(spec, demo_store, {"whatever": "x", "fdr_i": ""}) == spec.defaults(
        demo_store
    )


def test_canonical_values(demo_store):
    c1 = demo_store.condition("highCIN_vs_lowCIN").id
    p = parse_params(
        FIGURES["circos"],
        demo_store,
        {
            "condition": c1,
            "fdr_i": "0.10",
            "fdr_l": " 0.2 ",
            "min_numsigi1": "0",
            "min_numdeg": "100",
            "min_log2fc": "2",
            "genes": "ccl2, CCR2;Ccl2  apoe",
        },
    )
    assert p["condition"] == "highCIN_vs_lowCIN"
    assert p["fdr_i"] == 0.1 and p["fdr_l"] == 0.2
    assert p["min_numsigi1"] == 0 and p["min_numdeg"] == 100 and p["min_log2fc"] == 2.0
    assert p["genes"] == ("Ccl2", "Ccr2", "Apoe")
    pw = parse_params(
        FIGURES["pairwise"],
        demo_store,
        {"cell_type3": "T cells", "bidirectional": "true", "min_expression": "1"},
    )
    assert pw["cell_type3"] == "T cells" and pw["bidirectional"] is True
    for none in ("", "none", "None"):
        assert (
            parse_params(FIGURES["pairwise"], demo_store, {"cell_type3": none})["cell_type3"]
            is None
        )
    for word, value in (("1", True), ("0", False), ("FALSE", False), ("on", True)):
        assert (
            parse_params(FIGURES["pairwise"], demo_store, {"bidirectional": word})["bidirectional"]
            is value
        )


@pytest.mark.parametrize(
    ("figure", "key", "value", "needle"),
    [
        ("circos", "condition", "nope", "highCIN_vs_lowCIN"),
        ("circos", "fdr_i", "0.015", "0.01"),
        ("circos", "fdr_i", "0.26", "0.25"),
        ("circos", "fdr_l", "abc", "fdr_l"),
        ("circos", "fdr_l", "nan", "fdr_l"),
        ("circos", "min_numsigi1", "101", "0 to 100"),
        ("circos", "min_numsigi1", "-1", "0 to 100"),
        ("circos", "min_numsigi1", "2.5", "integer"),
        ("circos", "min_numdeg", "inf", "min_numdeg"),
        ("circos", "min_log2fc", "2.01", "0 to 2"),
        ("pairwise", "min_log2fc", "1.5", "0 to 1"),
        ("pairwise", "min_expression", "-0.1", "0 to 1"),
        ("pairwise", "cell_type1", "Osteoclasts", "Tumor cells"),
        ("pairwise", "cell_type3", "../../etc/passwd", "cell_type3"),
        ("pairwise", "bidirectional", "maybe", "true/false"),
        ("effects", "condition", COMBINED, "single condition"),
        ("effects", "steps", "6", "1 to 5"),
        ("effects", "steps", "0", "1 to 5"),
        ("effects", "seeds", " , ;", "at least one"),
    ],
)
def test_bad_values_name_the_parameter_and_what_is_allowed(demo_store, figure, key, value, needle):
    with pytest.raises(BadParameter) as info:
        parse_params(FIGURES[figure], demo_store, {key: value})
    assert key in info.value.message
    assert needle in info.value.message


def test_unknown_genes_are_named(demo_store):
    with pytest.raises(BadParameter) as info:
        parse_params(FIGURES["effects"], demo_store, {"seeds": "Ccl2, NotAGene,Bogus1"})
    assert "NotAGene" in info.value.message and "Bogus1" in info.value.message
    assert "Ccl2" not in info.value.message.split(":", 2)[-1]
    with pytest.raises(BadParameter, match=r"\(genes\): unknown gene"):
        parse_params(FIGURES["circos"], demo_store, {"genes": "xyz"})


def test_too_many_genes(demo_store):
    with pytest.raises(BadParameter, match="at most"):
        parse_params(FIGURES["circos"], demo_store, {"genes": ",".join(["Ccl2"] * 60)})


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_query_round_trip(demo_store, name):
    spec = FIGURES[name]
    params = spec.defaults(demo_store)
    assert parse_params(spec, demo_store, to_query(spec, params)) == params


def test_controls_describe_the_spec_ranges():
    for spec in FIGURES.values():
        for c in spec.controls:
            assert c.label and c.help
            if c.kind == "fdr":
                assert (c.minimum, c.maximum, c.step) == (0.01, 0.25, 0.01)
    ranges = {c.name: (c.minimum, c.maximum) for c in FIGURES["pairwise"].controls}
    assert ranges["min_log2fc"] == (0.0, 1.0) and ranges["min_numsigi1"] == (0, 100)
    ranges = {c.name: (c.minimum, c.maximum) for c in FIGURES["circos"].controls}
    assert ranges["min_log2fc"] == (0.0, 2.0)
    ranges = {c.name: (c.minimum, c.maximum) for c in FIGURES["effects"].controls}
    assert ranges["steps"] == (1, 5)
    assert FIGURES["effects"].control("condition").single_condition_only


_KEYS = sorted({c.name for s in FIGURES.values() for c in s.controls} | {"x", ""})
_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["0.05", "0.25", "1e308", "-0", "NaN", "10", "Ccl2", "none", "Tumor cells", "c1", "true"]
    ),
    st.floats(allow_nan=True).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(FIGURES)), query=st.dictionaries(st.sampled_from(_KEYS), _VALUES)
)
def test_fuzz_parse_params_raises_only_bad_parameter(demo_store, name, query):
    spec = FIGURES[name]
    try:
        params = parse_params(spec, demo_store, query)
    except BadParameter as error:
        assert error.message
        return
    # whatever was accepted is canonical and survives a round trip
    assert parse_params(spec, demo_store, to_query(spec, params)) == params

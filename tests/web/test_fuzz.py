"""A hypothesis fuzz of the figure query parameters: every answer is 200 or 400, never a 500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctsite.figures import FIGURES

KEYS = sorted({c.name for spec in FIGURES.values() for c in spec.controls} | {"q", "x"})
NASTY = [
    "",
    " ",
    "0",
    "-0",
    "1e309",
    "-1",
    "nan",
    "inf",
    "0.05",
    "0.250000001",
    "100",
    "101",
    "true",
    "none",
    "c1",
    "c9",
    "../manifest.json",
    "/etc/passwd",
    "Tumor cells",
    "tumor cells",
    "Macrophages/mMDSC",
    "highCIN_vs_lowCIN",
    "highCIN_vs_lowCIN AND highCIN_vs_noSTING",
    "Ccl2",
    "ccl2, APOE",
    "Ccl2,,Apoe;Cxcl10",
    ",".join(["Ccl2"] * 60),
    "\x00",
    "é",
    "%00",
    "1" * 400,
]
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-5, max_value=500).map(str),
)
queries = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(sorted(FIGURES)), query=queries, csv=st.booleans())
def test_no_query_gives_a_server_error(client, name, query, csv):
    route = f"/api/data/{name}.csv" if csv else f"/api/figure/{name}"
    r = client.get(route, query_string=query)
    assert r.status_code in (200, 400), (route, query, r.status_code, r.data[:300])
    if r.status_code == 400:
        assert r.json["error"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q=st.text(max_size=80))
def test_gene_search_never_fails(client, q):
    r = client.get("/api/genes", query_string={"q": q})
    assert r.status_code in (200, 400)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["circos", "pairwise", "effects"]), query=queries)
def test_pages_never_fail(client, name, query):
    """A page always renders: 200, or 400 with the controls and the error shown inline."""
    r = client.get(f"/{name}", query_string=query)
    assert r.status_code in (200, 400)
    assert 'id="controls"' in r.get_data(as_text=True)

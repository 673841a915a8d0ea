"""The conformance suite of the figures: the browser engine (web-assets/engine/, run in Node from
the exported data) against the Python builders, for the same store and URL.

Compared whole: the figure document the server's /api/figure answers (every trace, layout key
and hover string, the canonical parameters and their key) and the CSV bytes of /api/data (the
table as pandas writes it). Nothing is projected: floats are equal within a relative 1e-9, every
other value exactly (tests/support/canonical.py). Parameter sets are biased towards the edges a
port gets wrong: the precomputed thresholds' ends, minimums at the data's own values (ties of
`≥` and `>`), empty results, the chord and edge caps, bad values (the 400's text).
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.support.engine import node
from tests.support.figure_conformance import RUNNER, cases_for, conform_failures, engine_answers


def assert_conform(site: Any, cases: list[tuple[str, str]]) -> None:
    answers = engine_answers(site.index, cases)
    failures = conform_failures(site.store, answers, cases)
    assert not failures, f"{len(failures)} of {len(cases)} differ:\n" + "\n".join(failures[:6])
    drawn = [a for a in answers if a["status"] == 200 and a["document"]["figure"]["data"]]
    assert len(drawn) >= len(cases) // 3, f"only {len(drawn)} of {len(cases)} views draw anything"


def test_the_gene_search_suggests_what_the_server_suggests(site: Any) -> None:
    from ctsite.web.api import search_genes

    genes = list(site.store.genes)
    queries = [
        "",
        "a",
        "A",
        " cc ",
        "l2",
        "zzz",
        "x" * 61,
        genes[0],
        genes[-1].upper(),
        genes[3][1:3],
    ]
    request = {"index": str(site.index), "cases": [{"genes": q} for q in queries]}
    done = subprocess.run(
        [node(), str(RUNNER)], input=json.dumps(request).encode(), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    got = [answer["genes"] for answer in json.loads(done.stdout)]
    expected = [search_genes(site.store, q) if len(q) <= 60 else [] for q in queries]
    assert got == expected
    assert any(got)


@pytest.mark.parametrize("figure", ["circos", "pairwise", "effects"])
def test_the_engine_draws_what_the_server_draws(site: Any, figure: str) -> None:
    assert_conform(site, cases_for(site.store, figure, 40, seed=len(figure)))


def test_a_view_is_the_same_whatever_was_drawn_before(site: Any) -> None:
    """The engine keeps what a Circos view takes from its nodes (the filters' first steps, the
    rings' cells, the hover texts without partners: circos_data.js, circos_draw.js) for the next
    view with the same nodes. Views sharing nodes, views not sharing them and both sizes, one
    after the other on one site, are each the Python's view, and a view drawn again is the same
    document as when it was drawn first."""
    store = site.store
    condition = store.conditions[0].name
    loose = store.thresholds[-1]
    gene = next(iter(store.genes))
    views = [
        f"condition={condition}",
        f"condition={condition}&min_numsigi1=0&min_log2fc=0",  # the same nodes, more chords
        f"condition={condition}&genes={gene}",
        f"condition={condition}&fdr_l={loose}",  # other nodes
        f"condition={condition}&size=phone",
        f"condition={condition}&min_numdeg=1",
    ]
    sequence = [*views, *views[::-1]]
    cases = [("circos", q) for q in sequence]
    answers = engine_answers(site.index, cases)
    failures = conform_failures(store, answers, cases)
    assert not failures, "\n".join(failures[:6])
    first = {q: a for q, a in reversed(list(zip(sequence, answers, strict=True)))}
    for query, answer in zip(sequence, answers, strict=True):
        assert answer == first[query], query

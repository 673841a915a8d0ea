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
import random
import subprocess
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from ctsite.errors import CtsiteError
from ctsite.figures import FIGURES, parse_params
from ctsite.figures.precomputed import encode_json, figure_document
from tests.support.canonical import differences
from tests.support.engine import REPO, node

RUNNER = REPO / "tests" / "engine" / "run_figures.mjs"


def engine_answers(index: Any, cases: list[tuple[str, str]]) -> list[dict[str, Any]]:
    request = {"index": str(index), "cases": [{"figure": f, "query": q} for f, q in cases]}
    done = subprocess.run(
        [node(), str(RUNNER)],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=900,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return list(json.loads(done.stdout))


def python_answer(store: Any, figure: str, query: str) -> dict[str, Any]:
    spec = FIGURES[figure]
    try:
        params = parse_params(spec, store, dict(parse_qsl(query, keep_blank_values=True)))
        result = spec.build(store, params)
    except CtsiteError as error:
        return {"status": 400, "error": error.message, "hint": error.hint}
    document = json.loads(encode_json(figure_document(figure, store, params, result)))
    csv = result.table.to_csv(index=False, lineterminator="\n")
    return {"status": 200, "document": document, "csv": csv}


def pick(rng: random.Random, values: list[Any]) -> Any:
    return values[rng.randrange(len(values))]


def choices_for(store: Any, figure: str, rng: random.Random) -> dict[str, list[str]]:
    """Each control's candidate values: the thresholds' ends, the data's own names, values on
    the filters' edges (0, the defaults, the maxima) and a few bad ones."""
    thresholds = [f"{t:g}" for t in store.thresholds]
    fdrs = [thresholds[0], thresholds[1], thresholds[len(thresholds) // 2], thresholds[-1]]
    conditions = [c.name for c in store.conditions]
    single = [c.name for c in store.conditions if c.kind == "single"]
    types = list(store.cell_types)
    genes = list(store.genes)
    ligands = [g for g in genes if store.receptors_of(g)] or genes
    some_genes = [",".join(rng.sample(genes, k=min(len(genes), k))) for k in (1, 2, 3)]
    seeds = [",".join(rng.sample(ligands, k=min(len(ligands), k))) for k in (1, 2, 4)]
    return {
        "condition": conditions if figure != "effects" else single,
        "cell_type": types,
        "cell_type1": types,
        "cell_type2": types,
        "cell_type3": [*types, "none", ""],
        "bidirectional": ["0", "1", "true"],
        "fdr_i": fdrs,
        "fdr_l": fdrs,
        "min_numsigi1": ["0", "1", "2", "5", "10", "30", "100"],
        "min_numdeg": ["0", "1", "5", "20"],
        "min_expression": ["0", "0.05", "0.1", "0.3", "0.5", "1"],
        "min_log2fc": ["0", "0.01", "0.05", "0.12", "0.2", "1", "2"],
        "steps": ["1", "2", "3", "5"],
        "seeds": seeds,
        "genes": ["", *some_genes],
        "size": ["desktop", "tablet", "phone"],
    }


BAD = ["0.333", "-1", "abc", "1e9", "nan", "Zzz", "0.0100000001"]


def cases_for(store: Any, figure: str, n: int, seed: int) -> list[tuple[str, str]]:
    """The default view, then `n` views that change one to four controls of it (to values on
    the filters' edges); every ninth has a bad value (the 400's text must be the server's)."""
    rng = random.Random(seed)
    spec = FIGURES[figure]
    keys = [c.name for c in spec.controls] + (["size"] if spec.sizes else [])
    options = choices_for(store, figure, rng)
    out: list[tuple[str, str]] = [(figure, "")]
    for i in range(n):
        q = {key: pick(rng, options[key]) for key in rng.sample(keys, k=rng.randint(1, 4))}
        if i % 9 == 8:
            q[rng.choice(sorted(q))] = pick(rng, BAD)
        out.append((figure, urlencode(q)))
    return out


def assert_conform(site: Any, cases: list[tuple[str, str]]) -> None:
    answers = engine_answers(site.index, cases)
    failures = []
    for (figure, query), got in zip(cases, answers, strict=True):
        expected = python_answer(site.store, figure, query)
        diff = differences(expected, got, limit=5)
        if diff:
            failures.append(f"{figure}?{query}:\n  " + "\n  ".join(diff))
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

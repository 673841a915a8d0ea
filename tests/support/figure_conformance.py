"""The conformance suite's shared steps: the engine's answers (tests/engine/run_figures.mjs in
Node, from the exported data), the Python builders' answers for the same store and URL, and the
parameter sets biased towards the filters' edges. Used by tests/engine/test_figures.py (the demo,
tiny and study-scale stores) and tests/engine/test_generated_stores.py (hypothesis' stores).
"""

from __future__ import annotations

import json
import random
import subprocess
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qsl, urlencode

import numpy as np

from ctsite.errors import CtsiteError
from ctsite.figures import FIGURES, geometry, parse_params
from ctsite.figures.precomputed import encode_json, figure_document
from tests.support.canonical import differences
from tests.support.chord_ties import Ties, forgive_ties, ties_of
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


def python_answer_and_ties(store: Any, figure: str, query: str) -> tuple[dict[str, Any], Ties]:
    """`python_answer`, and the chord coordinates its Circos figure rounds from a tie
    (tests/support/chord_ties.py: recorded from the unrounded curves)."""
    raw: list[tuple[np.ndarray, np.ndarray]] = []
    chord_curves = geometry.chord_curves

    def recorded(*args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        out = chord_curves(*args, **kwargs)
        raw.append(out)
        return out

    with patch.object(geometry, "chord_curves", recorded):
        answer = python_answer(store, figure, query)
    return answer, ties_of(*raw[0]) if raw else Ties({2: set(), 3: set()})


def conform_failures(
    store: Any,
    answers: list[dict[str, Any]],
    cases: list[tuple[str, str]],
    chord_ties: bool = False,
) -> list[str]:
    """Each case whose engine answer differs from the Python one, with its first differences.

    `chord_ties`: a Circos chord coordinate that Python rounds from a tie (a chord's end exactly
    at a slot angle such as 113.625°) may be the other rounding in the engine — numpy's atan2
    and the browser's differ in the last bit — as tests/engine/test_circos_draw.py allows; every
    other value is compared at the canonical tolerance."""
    failures = []
    for (figure, query), got in zip(cases, answers, strict=True):
        expected, ties = python_answer_and_ties(store, figure, query)
        if chord_ties and expected["status"] == 200 and got.get("status") == 200:
            forgive_ties(expected["document"]["figure"], got["document"]["figure"], ties)
        diff = differences(expected, got, limit=5)
        if diff:
            failures.append(f"{figure}?{query}:\n  " + "\n  ".join(diff))
    return failures

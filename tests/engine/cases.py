"""The calls the engine's conformance tests make, shared by the Node tests and the Chromium
test: every figure-facing Store method with the arguments worth asking (names, ids and unknown
names, every threshold, every cell type, genes in other cases, ligand-effects rows) and
hand-picked figure queries (valid ones and each kind of error)."""

from __future__ import annotations

import random
from typing import Any

from ctsite.store import Store
from tests.support.engine import Call

PROPERTIES = (
    "thresholds", "cell_types", "cell_type_colors", "conditions", "version", "fingerprint",
    "identity", "figure_defaults", "genes", "lr_gene_count", "tested_lr_gene_count",
    "effects_t_max",
)  # fmt: skip
BIG = 1000  # rows in a circos table above which only a sample of thresholds and rows is asked


def call(method: str, *args: Any) -> Call:
    return {"fn": "store", "method": method, "args": list(args)}


def name_calls(store: Store) -> list[Call]:
    """Properties and the name lookups (conditions, thresholds, cell types, genes)."""
    calls: list[Call] = [{"fn": "store", "method": m} for m in PROPERTIES]
    calls += [call("default_condition", False), call("default_condition", True)]
    conditions = [c.name for c in store.conditions] + [c.id for c in store.conditions]
    for name in [*conditions, "nope", "C1", " c1", "", 'it\'s "quoted" \\ é']:
        calls.append(call("condition", name))
    calls += [call("fdr", t) for t in store.thresholds] + [call("fdr", 0.3), call("fdr", 0.051)]
    for text in ["0.05", "0.0500000000001", " 0.1 ", "1e-2", "0.26", "abc", "nan", "", "0,05"]:
        calls.append(call("fdr", text))
    calls += [call("cell_type", c) for c in [*store.cell_types, "Nope", "tumor cells", ""]]
    genes = store.genes[:40] + store.genes[40::17]
    for gene in genes:
        calls += [call("gene", gene), call("gene", gene.lower()), call("gene", gene.upper())]
    calls += [call("gene", g) for g in ["", "nope", "CCL2 ", "Ccl2,Apoe", "ÄÖ'\"\\"]]
    return calls


def table_calls(store: Store) -> list[Call]:
    """The circos and pairwise tables, expression and the ligand–receptor list."""
    big = len(store.circos_table(store.conditions[0].name, store.thresholds[0])) > BIG
    thresholds = [store.thresholds[i] for i in (0, 4, -1)] if big else store.thresholds
    types = store.cell_types
    # [] before None: an empty choice and the whole table are two different tables
    subsets: list[list[str] | None] = [[], None, types[:2], types[:1], [types[-1], *types[:2]]]
    calls: list[Call] = []
    for cond in store.conditions:
        calls += [call("circos_table", cond.name, t) for t in thresholds]
        calls.append(call("circos_table", cond.id, "0.05"))
        calls += [call("mast_table", cond.name), call("mast_table", cond.id)]
        for t in thresholds[:: 6 if not big else 1]:
            calls += [call("pairwise_table", cond.name, t, s) for s in subsets]
        calls.append(call("pairwise_table", cond.name, store.thresholds[0], ["Nope"]))
    calls.append(call("circos_table", "nope", 0.05))
    calls.append(call("circos_table", store.conditions[0].name, 0.5))
    calls.append(call("mast_table", "nope"))
    genes = [*store.genes[:: max(1, len(store.genes) // 60)], "nope"]
    calls += [call("expression", c, g) for c in [*types, "Nope"] for g in genes]
    calls.append(call("lr_pairs"))
    for gene in [*store.genes, "nope"]:
        calls += [call("receptors_of", gene), call("ligands_of", gene)]
    return calls


def effects_calls(store: Store, rng: random.Random) -> list[Call]:
    """Rows, targets and ligand effects (all rows of a small store, a sample of a big one)."""
    calls: list[Call] = []
    for cond in store.conditions:
        table = store.circos_table(cond.name, store.thresholds[0])
        keys = list(zip(table["cell_type"], table["target"], strict=True))
        sample = keys if len(keys) <= BIG else rng.sample(keys, 300)
        calls += [call("targets", cond.name, c) for c in [*store.cell_types, "Nope"]]
        for ct, target in sample[:50]:
            calls += [
                call("has_row", cond.name, ct, target),
                call("effects_row", cond.id, ct, target),
            ]
        calls += [
            call("has_row", cond.name, "Nope", "x"),
            call("effects_row", cond.name, "Nope", "x"),
        ]
        calls.append(call("effects_row", cond.name, store.cell_types[0], "no-such-target"))
        if cond.kind != "single":
            continue
        calls += [call("ligand_effects", cond.name, ct, target) for ct, target in sample]
        genes = store.condition_genes(cond.name)
        calls.append(call("condition_genes", cond.id))
        index = [0, len(genes) - 1, len(genes) // 2, 0]
        values = {
            "log2FC": [0.5, -1.25, 0.0, 2.0],
            "fdr": [0.01, 0.2, 1.0, 0.0],
            "i1.fdr": [0.1] * 4,
        }
        for ct in store.cell_types[:3]:
            calls.append(call("effects_frame", cond.name, ct, index, values))
    return calls


def parse_call(figure: str, query: dict[str, str]) -> Call:
    return {"fn": "parseParams", "figure": figure, "query": query}


HAND_PICKED: dict[str, list[dict[str, str]]] = {
    "circos": [
        {"fdr_i": "0.10", "fdr_l": " 0.2 ", "min_numsigi1": "0", "min_numdeg": "100"},
        {"min_log2fc": "2", "genes": "ccl2, CCR2;Ccl2  apoe"},
        {"fdr_i": "0.3"}, {"fdr_i": "abc"}, {"fdr_i": "0.0500000001"}, {"fdr_i": "nan"},
        {"min_numsigi1": "5.5"}, {"min_numsigi1": "101"}, {"min_numsigi1": "1e1"},
        {"min_numsigi1": "-0"}, {"min_log2fc": "-0"}, {"min_log2fc": "inf"},
        {"min_log2fc": "2.0000001"}, {"genes": "nope, it's"}, {"genes": ",".join(["x"] * 51)},
        {"genes": ""}, {"genes": " ; "}, {"condition": "c1"}, {"condition": "C1"},
        {"condition": "x" * 100}, {"size": "phone"}, {"size": "wide"}, {"size": ""},
        {"fdr_i": "'\"\\"}, {"fdr_l": "x" * 60}, {"min_numdeg": ""},
    ],
    "pairwise": [
        {"cell_type3": "none"}, {"cell_type3": "[None]"}, {"cell_type3": ""},
        {"cell_type1": ""}, {"cell_type1": "Nope"}, {"bidirectional": "yes"},
        {"bidirectional": "2"}, {"bidirectional": ""}, {"min_expression": "1.01"},
        {"min_expression": "0.5", "min_log2fc": "1"},
    ],
    "effects": [
        {"seeds": ""}, {"seeds": "nope"}, {"seeds": "ccl2"}, {"condition": "c3"},
        {"steps": "0"}, {"steps": "5"}, {"steps": "2.0"}, {"cell_type": "none"},
    ],
}  # fmt: skip

"""Naive, row-by-row re-implementations of the SPEC-site.md filters, to check the vectorized code.

Written straight from the spec's wording (loops and sets, no shared code with ctsite.figures).
Expression fractions are compared rounded to 6 decimals: the store keeps them as float32.
"""

from __future__ import annotations

import math


def circos_reference(store, condition, fdr_i, fdr_l, min_numsigi1, min_numdeg, min_log2fc):
    """(node keys, chord keys) of the Circos figure."""
    rows = store.circos_table(condition, fdr_i).to_dict("records")
    receptors, ligands = set(), set()
    for r in rows:
        dc1 = r["cell_type_dc1"]
        if dc1 is None or (isinstance(dc1, float) and math.isnan(dc1)):
            continue  # step 1
        key = (r["cell_type"], r["target"])
        if r["receptor"] and r["numSigI1_all"] > 0:
            receptors.add(key)
        if r["ligand"] and r["MAST_fdr_all"] < fdr_l and r["MAST_same_sign"]:
            ligands.add(key)
    pairs = []
    for p in store.pairwise_table(condition, fdr_i).to_dict("records"):
        lig = (p["cell_type_ligand"], p["ligand"])
        rec = (p["cell_type_receptor"], p["receptor"])
        if lig in ligands and rec in receptors:
            pairs.append(p)
    paired = {(p["cell_type_ligand"], p["ligand"]) for p in pairs}
    nodes = set(receptors) | (ligands & paired)
    chords = set()
    for p in pairs:
        if (
            p["numSigI1"] >= min_numsigi1
            and p["numDEG"] >= min_numdeg
            and p["MAST_fdr_ligand"] < fdr_l
            and abs(p["MAST_log2FC_ligand"]) > min_log2fc
        ):
            chords.add((p["ligand"], p["cell_type_ligand"], p["receptor"], p["cell_type_receptor"]))
    return nodes, chords


def pairwise_reference(store, params):
    """Edge keys of the pairwise figure, in the spec's order (numDEG descending)."""
    c1, c2, c3 = params["cell_type1"], params["cell_type2"], params["cell_type3"]
    wanted = {(c1, c2)}
    if c3:
        wanted.add((c2, c3))
    if params["bidirectional"]:
        wanted.add((c2, c1))
        if c3:
            wanted |= {(c3, c2), (c1, c3), (c3, c1)}
    out = []
    for p in store.pairwise_table(params["condition"], params["fdr_i"]).to_dict("records"):
        if (p["cell_type_ligand"], p["cell_type_receptor"]) not in wanted:
            continue
        if (
            p["numSigI1"] >= params["min_numsigi1"]
            and round(p["expression_ligand"], 6) >= params["min_expression"]
            and round(p["expression_receptor"], 6) >= params["min_expression"]
            and p["MAST_fdr_ligand"] < params["fdr_l"]
            and p["MAST_fdr_receptor"] < params["fdr_l"]
            and abs(p["MAST_log2FC_ligand"]) > params["min_log2fc"]
        ):
            out.append(p)
    out.sort(key=lambda p: -p["numDEG"])
    return [
        (p["ligand"], p["cell_type_ligand"], p["receptor"], p["cell_type_receptor"]) for p in out
    ]

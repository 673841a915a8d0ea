"""Breadth-first propagation of ligand effects (SPEC-site.md, "Ligand effects"). Pure logic.

Layer 0 holds the seed ligands in the chosen cell type. Each step expands the previous layer:
- a ligand node (g, c) → receptor nodes (r, c') for every receptor r of g and every cell type c'
  where r's own MAST |log2FC| ≥ min, MAST_fdr < t_l and expression(c', r) > min expression;
- a receptor node (r, c) → downstream genes x in c with i1.fdr < t_i, |log2FC| ≥ min, fdr < t_l,
  expression of x in c > min, and x a ligand, or a receptor whose ligands are expressed somewhere
  (max ligand expression > min).
Propagation stops early when a step finds nothing new or its new layer exceeds `FRONTIER_CAP`.
The store is reached only through the small `EffectsSource` protocol, so this is testable alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from ctsite.figures.common import fraction

FRONTIER_CAP = 45


class EffectsSource(Protocol):
    """What the propagation reads from a store."""

    cell_types: list[str]

    def mast_table(self, condition: str) -> pd.DataFrame: ...
    def ligand_effects(self, condition: str, cell_type: str, target: str) -> pd.DataFrame: ...
    def has_row(self, condition: str, cell_type: str, target: str) -> bool: ...
    def expression(self, cell_type: str, gene: str) -> float: ...
    def receptors_of(self, ligand: str) -> list[str]: ...
    def ligands_of(self, receptor: str) -> list[str]: ...


@dataclass(frozen=True)
class Node:
    gene: str
    cell_type: str


@dataclass
class Propagation:
    """The propagated graph: node → step first reached, edges in discovery order."""

    steps: dict[Node, int] = field(default_factory=dict)
    edges: list[dict] = field(default_factory=list)
    stopped: str | None = None  # why propagation ended before the last step, if it did

    @property
    def nodes(self) -> list[Node]:
        return list(self.steps)


@dataclass(frozen=True)
class Thresholds:
    fdr_i: float
    fdr_l: float
    min_log2fc: float
    min_expression: float


def _receptor_rows(
    source: EffectsSource, condition: str, th: Thresholds
) -> dict[str, list[tuple[str, float, float]]]:
    """receptor gene → [(cell type, MAST log2FC, MAST fdr)] passing the receptor's MAST rules."""
    table = source.mast_table(condition)
    rec = table[table["receptor"].astype(bool)]
    rec = rec[(rec["MAST_log2FC"].abs() >= th.min_log2fc) & (rec["MAST_fdr"] < th.fdr_l)]
    order = {c: i for i, c in enumerate(source.cell_types)}
    rec = rec.assign(_order=rec["cell_type"].map(order).fillna(len(order)))
    rec = rec.sort_values(["_order", "cell_type"], kind="mergesort")
    out: dict[str, list[tuple[str, float, float]]] = {}
    for ct, gene, lfc, f in zip(
        rec["cell_type"], rec["target"], rec["MAST_log2FC"], rec["MAST_fdr"], strict=True
    ):
        out.setdefault(gene, []).append((ct, float(lfc), float(f)))
    return out


def downstream(source: EffectsSource, condition: str, node: Node, th: Thresholds) -> pd.DataFrame:
    """The downstream genes of a receptor node that pass the spec's rules (may be empty)."""
    if not source.has_row(condition, node.cell_type, node.gene):
        return pd.DataFrame()
    fx = source.ligand_effects(condition, node.cell_type, node.gene)
    fx = fx.assign(
        gene_expression=fraction(fx["gene_expression"].to_numpy(float)),
        gene_max_ligand_expression=fraction(fx["gene_max_ligand_expression"].to_numpy(float)),
    )
    common = (
        (fx["i1.fdr"] < th.fdr_i)
        & (fx["log2FC"].abs() >= th.min_log2fc)
        & (fx["fdr"] < th.fdr_l)
        & (fx["gene_expression"] > th.min_expression)
    )
    signalling = fx["gene_is_ligand"].astype(bool) | (
        fx["gene_is_receptor"].astype(bool) & (fx["gene_max_ligand_expression"] > th.min_expression)
    )
    return fx[common & signalling]


def propagate(
    source: EffectsSource,
    condition: str,
    cell_type: str,
    seeds: Sequence[str],
    steps: int,
    th: Thresholds,
) -> Propagation:
    """Run the breadth-first propagation; see the module docstring for the rules."""
    graph = Propagation()
    frontier = [Node(g, cell_type) for g in seeds]
    for node in frontier:
        graph.steps.setdefault(node, 0)
    receptor_rows: dict[str, list[tuple[str, float, float]]] | None = None
    seen_edges: set[tuple[Node, Node]] = set()
    for step in range(1, steps + 1):
        new: list[Node] = []

        def reach(src: Node, dst: Node, edge: dict, step: int = step, new: list = new) -> None:
            if (src, dst) in seen_edges:
                return
            seen_edges.add((src, dst))
            if dst not in graph.steps:
                graph.steps[dst] = step
                new.append(dst)
            graph.edges.append({"source": src, "target": dst, "step": step, **edge})

        for node in frontier:
            if source.receptors_of(node.gene):
                if receptor_rows is None:
                    receptor_rows = _receptor_rows(source, condition, th)
                for receptor in source.receptors_of(node.gene):
                    for ct, lfc, fdr in receptor_rows.get(receptor, []):
                        expr = float(fraction(source.expression(ct, receptor)))
                        if not expr > th.min_expression:
                            continue
                        reach(
                            node,
                            Node(receptor, ct),
                            {
                                "kind": "ligand→receptor",
                                "log2FC": lfc,
                                "fdr": fdr,
                                "i1.fdr": np.nan,
                                "expression": expr,
                            },
                        )
            if source.ligands_of(node.gene):
                rows = downstream(source, condition, node, th)
                for gene, lfc, fdr, i1, expr in zip(
                    rows.get("gene", []),
                    rows.get("log2FC", []),
                    rows.get("fdr", []),
                    rows.get("i1.fdr", []),
                    rows.get("gene_expression", []),
                    strict=True,
                ):
                    reach(
                        node,
                        Node(str(gene), node.cell_type),
                        {
                            "kind": "receptor→gene",
                            "log2FC": float(lfc),
                            "fdr": float(fdr),
                            "i1.fdr": float(i1),
                            "expression": float(expr),
                        },
                    )
        if not new:
            if step < steps:
                graph.stopped = f"nothing new after step {step - 1}"
            break
        frontier = new
        if len(new) > FRONTIER_CAP and step < steps:
            graph.stopped = (
                f"stopped after step {step}: {len(new)} new genes (more than {FRONTIER_CAP})"
            )
            break
    return graph

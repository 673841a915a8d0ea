"""The tables of `ctsite export`, with the real column names of SPEC-data.md."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ctsite.errors import CtsiteError
from ctsite.store import Store

CIRCOS_COLUMNS = [
    "cell_type", "target", "ligand", "receptor", "cell_type_dc1", "DA_score",
    "numSigI1", "numDEG", "MAST_log2FC", "MAST_fdr",
]  # fmt: skip


def export_table(
    store: Store,
    table: str,
    condition: str | None,
    fdr: float,
    cell_types: Sequence[str],
    target: str | None,
) -> pd.DataFrame:
    """The rows of one table for (condition, fdr[, cell types, target])."""
    if table == "ligand-effects":
        cond = store.condition(condition) if condition else store.default_condition(single=True)
        if len(cell_types) != 1 or not target:
            raise CtsiteError(
                "ligand-effects needs one --cell-type and a --target",
                hint="e.g. --cell-type 'Tumor cells' --target Ccl2",
            )
        return store.ligand_effects(cond.name, cell_types[0], store.gene(target))
    cond = store.condition(condition) if condition else store.default_condition()
    if table == "circos":
        return store.circos_table(cond.name, fdr)[CIRCOS_COLUMNS]
    if table == "interactions":
        return store.pairwise_table(cond.name, fdr, list(cell_types) or None)
    raise CtsiteError(f"unknown table {table!r}", hint="circos, interactions or ligand-effects")


def write_frame(frame: pd.DataFrame, fmt: str, output: Path | None) -> None:
    """Write to stdout, or to a temp file renamed into place."""
    if output is None:
        frame.to_csv(sys.stdout, sep="\t" if fmt == "tsv" else ",", index=False)
        return
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    try:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, sep="\t" if fmt == "tsv" else ",", index=False)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)

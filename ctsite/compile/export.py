"""The tables of `ctsite export`, with the real column names of SPEC-data.md.

`circos` exports what the site's "Download CSV" gives for the same condition and threshold
(`fdr_i`) at the figure's default filters: the same rows and the same columns (nodes and the
chords drawn), less the site's `#` provenance lines. `ligand-effects` exports the rows the store keeps (the genes a figure can ever draw); with
`all_genes` it reads the full row of every downstream gene from the condition's input file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ctsite.errors import CtsiteError
from ctsite.store import Store
from ctsite.store.format import EFFECT_LAYERS


def export_table(
    store: Store,
    table: str,
    condition: str | None,
    fdr: float,
    cell_types: Sequence[str],
    target: str | None,
    all_genes: bool = False,
) -> pd.DataFrame:
    """The rows of one table for (condition, fdr[, cell types, target]).

    `all_genes` (ligand-effects only): every downstream gene, read from the input file.
    """
    if table == "ligand-effects":
        cond = store.condition(condition) if condition else store.default_condition(single=True)
        if len(cell_types) != 1 or not target:
            raise CtsiteError(
                "ligand-effects needs one --cell-type and a --target", hint=_example(store)
            )
        if all_genes:
            return full_ligand_effects(store, cond.name, cell_types[0], store.gene(target))
        return store.ligand_effects(cond.name, cell_types[0], store.gene(target))
    cond = store.condition(condition) if condition else store.default_condition()
    if table == "circos":
        return circos_download(store, cond.name, fdr)
    if table == "interactions":
        return store.pairwise_table(cond.name, fdr, list(cell_types) or None)
    raise CtsiteError(f"unknown table {table!r}", hint="circos, interactions or ligand-effects")


def _example(store: Store) -> str:
    """`e.g. --cell-type X --target G` with this store's own names: its Ligand-effects default
    view (a cell type and a seed of this data), else its first cell type and gene."""
    import shlex

    chosen = store.figure_defaults
    if chosen is not None and chosen.effects_seeds:
        cell_type, gene = chosen.effects_cell_type, chosen.effects_seeds[0]
    else:
        cell_type, gene = store.cell_types[0], store.genes[0]
    return f"e.g. --cell-type {shlex.quote(cell_type)} --target {shlex.quote(gene)}"


def circos_download(store: Store, condition: str, fdr: float) -> pd.DataFrame:
    """The Circos figure's table (the web CSV's rows) at the default filters."""
    from ctsite.figures import FIGURES, BadParameter, parse_params

    spec = FIGURES["circos"]
    store.fdr(fdr)  # an unknown threshold: the store's own message, in --fdr's terms
    try:
        params = parse_params(spec, store, {"condition": condition, "fdr_i": repr(fdr)})
    except BadParameter as error:
        raise CtsiteError(error.message, hint="--fdr takes one of the store's thresholds") from None
    return spec.build(store, params).table


def full_ligand_effects(store: Store, condition: str, cell_type: str, target: str) -> pd.DataFrame:
    """Every downstream gene of one ligand-effects row, read from the condition's DEG file."""
    import numpy as np

    from ctsite.compile import inputs
    from ctsite.compile.fingerprint import file_fingerprint

    cond, row = store.effects_row(condition, cell_type, target)
    recorded = store.manifest.get("inputs", {}).get(f"deg:{cond.name}", {})
    path = Path(str(recorded.get("path", "")))
    hint = "run `ctsite compile` with the input files present, or export without --all"
    if not recorded or not path.is_file():
        raise CtsiteError(f"--all needs the DEG file of {cond.name!r} ({path or '?'})", hint=hint)
    now = file_fingerprint(path)
    if any(now.get(k) != recorded.get(k) for k in ("size", "sample_sha256")):
        raise CtsiteError(f"{path} changed since the store was compiled", hint=hint)
    genes = store.condition_genes(cond.name)
    with inputs.open_h5(path, "DEG file") as f:
        values = {e.column: inputs.read_row(f, f"layers/{e.layer}", row) for e in EFFECT_LAYERS}
    return store.effects_frame(
        cond.name,
        cell_type,
        np.arange(len(genes)),
        {k: v.astype(np.float32) for k, v in values.items()},
    )


def frame_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The table as the bytes of a CSV, TSV or Parquet file."""
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    return frame.to_csv(sep="\t" if fmt == "tsv" else ",", index=False).encode("utf-8")


def write_frame(frame: pd.DataFrame, fmt: str, output: Path | None) -> None:
    """Write to stdout, or to `output` (`export_file`: a file is replaced whole by a temp file
    renamed into place; a link, a named pipe or a device is written through, never replaced)."""
    from ctsite.compile.export_file import write_output, write_stdout

    data = frame_bytes(frame, fmt)
    if output is None:
        write_stdout(data)
    else:
        write_output(data, output)

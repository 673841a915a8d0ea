"""Inputs given as Python objects, staged as the [data] table of a ctsite.toml.

The Python API (`ctsite.api.compile_results`) takes DataFrames and in-memory AnnData as well as
paths; the compile workflow reads files. `staged_data` writes the in-memory objects to a
temporary folder beside the store (made on first need, removed on exit) and yields the [data]
table that names them, so they are compiled by the same workflow as files. Paths, and AnnData
opened in backed mode, stay the files themselves: unchanged files compile only once, while
staged objects (new files each time) always compile again.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from ctsite.errors import ConfigError


class InputFolder:
    """A temporary folder beside the store `dest` for staged inputs (made on first use)."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def path(self) -> Path:
        """The folder, made now if it is not there yet."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(
                prefix=f".{self.dest.name}.inputs-", dir=self.dest.parent
            )
        return Path(self._tmp.name)

    def close(self) -> None:
        """Remove the folder and what was staged in it (if it was made)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def interactions_file(value: object, folder: InputFolder) -> Path:
    """The ligand–receptor TSV: a path as given, a DataFrame (ligand, receptor) written out."""
    import pandas as pd

    if isinstance(value, str | os.PathLike):
        return Path(value).expanduser().resolve()
    if isinstance(value, pd.DataFrame):
        if not {"ligand", "receptor"} <= set(value.columns):
            raise ConfigError(
                "interactions: the DataFrame needs columns 'ligand' and 'receptor'",
                hint=f"it has {', '.join(map(str, value.columns))}",
            )
        path = folder.path() / "interactions.tsv"
        value[["ligand", "receptor"]].to_csv(path, sep="\t", index=False)
        return path
    raise ConfigError(
        f"interactions: expected a path or a DataFrame, got {type(value).__name__}",
        hint="pass the ligand–receptor TSV's path or a DataFrame with columns ligand, receptor",
    )


def anndata_file(value: object, what: str, folder: InputFolder) -> Path:
    """An .h5ad: a path as given, a backed AnnData's own file, an in-memory one written out."""
    if isinstance(value, str | os.PathLike):
        return Path(value).expanduser().resolve()
    import anndata as ad

    if isinstance(value, ad.AnnData):
        if value.isbacked and value.filename is not None:
            return Path(value.filename)
        path = folder.path() / f"{what}.h5ad"
        value.write_h5ad(path)
        return path
    raise ConfigError(
        f"{what}: expected a path or an anndata.AnnData, got {type(value).__name__}",
        hint="pass the .h5ad file's path or the AnnData object itself",
    )


@contextmanager
def staged_data(
    dest: Path,
    *,
    interactions: object,
    expression: object,
    conditions: Mapping[str, object],
    combined: Sequence[Sequence[str] | str] = (),
    labels: Mapping[str, str] | None = None,
    mast_columns: Mapping[str, tuple[str, str]] | None = None,
    cell_type_order: Sequence[str] = (),
    exclude_cell_types: Sequence[str] = (),
    cell_type_colors: Mapping[str, str] | None = None,
    expression_cell_type_column: str = "Cell Type",
    expression_layer: str | None = None,
) -> Iterator[dict[str, object]]:
    """The [data] table of these inputs (see `ctsite.api.compile_results`), valid inside the
    `with`: in-memory objects are staged beside the store `dest` until it ends."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    labels = dict(labels or {})
    columns = dict(mast_columns or {})
    folder = InputFolder(dest)
    try:
        table: dict[str, object] = {
            "interactions": str(interactions_file(interactions, folder)),
            "expression": str(anndata_file(expression, "expression", folder)),
            "expression_cell_type_column": expression_cell_type_column,
            "exclude_cell_types": list(exclude_cell_types),
            "cell_type_order": list(cell_type_order),
            "cell_type_colors": dict(cell_type_colors or {}),
        }
        if expression_layer:
            table["expression_layer"] = expression_layer
        entries: list[dict[str, object]] = []
        for i, (name, deg) in enumerate(conditions.items(), start=1):
            entry: dict[str, object] = {
                "name": str(name),
                "file": str(anndata_file(deg, f"deg-{i}", folder)),
            }
            if name in labels:
                entry["label"] = labels[name]
            if name in columns:
                entry["log2fc_column"], entry["fdr_column"] = columns[name]
            entries.append(entry)
        combos: list[dict[str, object]] = []
        for combo in combined:
            of = (
                [p.strip() for p in combo.split(" AND ")] if isinstance(combo, str) else list(combo)
            )
            name = " AND ".join(of)
            combos.append({"of": of, **({"label": labels[name]} if name in labels else {})})
        yield {**table, "conditions": entries, "combined": combos}
    finally:
        folder.close()

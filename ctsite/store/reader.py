"""The reader API over a compiled store, used by the figures, the website and `ctsite export`.

Every name (condition, cell type, gene, threshold) is checked against the manifest before use, and
file paths are built only from the store's own condition ids (`c1`, `c2`, …), never from input
strings. Ligand-effect rows are sparse, read into memory once per condition (not memory-mapped: a
mapped file truncated under a running site would kill its worker with SIGBUS): one (cell type,
target) row costs well under a millisecond.

Opening a version checks every file's content once (`ctsite.store.integrity`); every file is then
read through one wrapper (`Store._read`), so a file damaged later, or one pyarrow/numpy cannot
parse, is a `StoreError` with a reason code (the site answers 503), never a wrong value or a crash.
Only pandas/numpy/pyarrow are imported, so this runs in the slim web image.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from ctsite.errors import NotFoundError, StoreError
from ctsite.store import format as fmt
from ctsite.store import integrity, versions
from ctsite.store.figure_defaults import FigureDefaults
from ctsite.store.identity import Identity

T = TypeVar("T")
# what pyarrow and numpy raise on a file they cannot parse (ArrowInvalid is a ValueError too)
READ_ERRORS = (OSError, ValueError, EOFError, pa.ArrowException)


@dataclass(frozen=True)
class Condition:
    id: str
    name: str
    label: str
    kind: str  # "single" | "combined"
    of: tuple[str, ...]


def _choices(values: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … ({len(values) - limit} more)" if len(values) > limit else "")


class Store:
    """A compiled store on disk (its layout: `ctsite.store.format`)."""

    def __init__(self, path: Path, manifest: dict[str, Any]):
        self.path = path
        self.manifest = manifest
        self.thresholds: list[float] = [float(t) for t in manifest["thresholds"]]
        self.cell_types: list[str] = list(manifest["cell_types"])
        self.cell_type_colors: dict[str, str] = dict(manifest["cell_type_colors"])
        self.conditions: list[Condition] = []
        for c in manifest["conditions"]:
            if not fmt.CONDITION_ID.match(str(c["id"])):
                raise StoreError(f"{path}: invalid condition id {c['id']!r} in the manifest")
            self.conditions.append(
                Condition(c["id"], c["name"], c["label"], c["kind"], tuple(c.get("of", ())))
            )
        self._files = versions.file_map(manifest)
        self._by_name = {c.name: c for c in self.conditions} | {c.id: c for c in self.conditions}
        self._cell_type_set = set(self.cell_types)
        self._tables: dict[str, pd.DataFrame] = {}
        self._pairs: dict[str, pd.DataFrame] = {}
        self._rows: dict[str, dict[tuple[str, str], int]] = {}
        self._effects: dict[str, dict[str, np.ndarray]] = {}
        self._opened: integrity.OpenedFiles | None = None  # set by `open`

    @classmethod
    def open(cls, path: Path) -> Store:
        """The current version of the store folder `path` (or `path` itself, a version folder),
        its files checked: each one present at its size and, for content-named objects
        (schema 3), its SHA-256 equal to its name. Whatever is wrong is a `StoreError` with a
        reason code (`integrity.REASONS`)."""
        root = Path(path)
        path = versions.version_path(root) or root
        manifest_path = path / fmt.MANIFEST
        if not manifest_path.is_file():
            problem = integrity.pointer_problem(root)
            if problem is not None:
                raise problem.error(root)
            raise StoreError(
                f"no compiled store at {root}",
                hint="run `ctsite compile` (or `ctsite demo` for the demo dataset)",
                reason="store-missing",
            )
        try:
            with manifest_path.open("rb") as fh:
                manifest_stamp = integrity.Stamp.of(os.fstat(fh.fileno()))
                data = fh.read()
            manifest = json.loads(data.decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"{manifest_path}: unreadable manifest ({exc})",
                hint=integrity.REPAIR_HINT,
                reason="manifest-unreadable",
            ) from None
        pointer = versions.read_pointer(root) if path != root else None
        if pointer is not None and pointer.version == path.name and pointer.manifest is not None:
            if hashlib.sha256(data).hexdigest() != pointer.manifest:
                raise StoreError(
                    f"{root}: {path.name}/{fmt.MANIFEST}: its SHA-256 differs from the one "
                    f"{fmt.POINTER} recorded when the version was published (changed since?)",
                    hint=integrity.REPAIR_HINT,
                    reason="manifest-mismatch",
                )
        schema = manifest.get("schema_version") if isinstance(manifest, dict) else None
        if schema not in fmt.READABLE_SCHEMAS:
            raise StoreError(
                f"{root}: store schema {schema!r}, this ctsite reads "
                + " and ".join(map(str, fmt.READABLE_SCHEMAS))
                + (" (the flat layout of earlier versions)" if path == root else ""),
                hint="recompile with `ctsite compile --force` (it converts the folder in place)",
                reason="schema-unsupported",
            )
        try:
            store = cls(path, manifest)
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"{manifest_path}: malformed manifest ({exc!r})", reason="manifest-malformed"
            ) from None
        missing = store.missing_files()
        if missing:
            absent = [rel for rel in missing if not store._present(rel)]
            raise StoreError(
                f"{root}: incomplete store, {len(missing)} file(s) the manifest implies are "
                f"missing or of the wrong size: {_choices(missing, 5)}",
                hint="recompile with `ctsite compile --force`, or re-upload the data",
                reason="object-missing" if absent else "object-truncated",
            )
        store._opened = integrity.verify(
            manifest_path,
            hashlib.sha256(data).hexdigest(),
            manifest_stamp,
            {rel: store.file(rel) for rel in store._files or store.expected_files()},
            named=bool(store._files),
        )
        return store

    def expected_files(self) -> list[str]:
        """Every file the manifest implies, relative to the version (top-level tables; per
        condition its tables and, for single conditions, the ligand-effects arrays)."""
        files = [fmt.GENES, fmt.EXPRESSION, fmt.INTERACTIONS]
        for cond in self.conditions:
            base = f"{fmt.CONDITIONS_DIR}/{cond.id}"
            files += [f"{base}/{fmt.CIRCOS}", f"{base}/{fmt.PAIRS}"]
            if cond.kind == "single":
                files.append(f"{base}/{fmt.CONDITION_GENES}")
                files += [f"{base}/{e.file}" for e in fmt.EFFECT_LAYERS]
                files += [f"{base}/{fmt.EFFECT_OFFSETS}", f"{base}/{fmt.EFFECT_GENES}"]
        return files

    def file(self, rel: str) -> Path:
        """Where the version's file `rel` is: its object (schema 3) or in the version folder."""
        if self._files:
            entry = self._files.get(rel)
            if entry is None:
                raise StoreError(f"{self.path}: the manifest lists no file {rel!r}")
            return self.path.parent.parent / fmt.OBJECTS_DIR / entry["object"]
        return self.path / rel

    def condition_file(self, cond: Condition, name: str) -> Path:
        """A file of one condition (its id comes from the manifest: `c1`, `c2`, …)."""
        return self.file(f"{fmt.CONDITIONS_DIR}/{cond.id}/{name}")

    def _present(self, rel: str) -> bool:
        try:
            self.file(rel).stat()
        except (OSError, StoreError):
            return False
        return True

    def problems(self) -> list[integrity.Problem]:
        """What is wrong with this version's files now: a `stat` of each (a file whose stat
        changed is hashed again once). Empty for a healthy version."""
        return self._opened.problems() if self._opened is not None else []

    def _read(self, rel: str, parse: Callable[[bytes], T]) -> T:
        """Parse the version's file `rel`: the one place files are read. The bytes parsed are
        the ones verified at open (`OpenedFiles.read`), so a file damaged since, or one that
        cannot be parsed, is a `StoreError` naming it with its reason code: never a
        pyarrow/numpy error (a 500) or a wrong value."""
        path = self.file(rel)
        try:
            data = self._opened.read(path) if self._opened is not None else path.read_bytes()
        except OSError:  # a store built without `open`: its files are not checked
            raise integrity.Problem("object-missing", rel, "absent").error(self.path) from None
        try:
            return parse(data)
        except READ_ERRORS as exc:
            detail = f"cannot be parsed ({type(exc).__name__}: {str(exc)[:160]})"
            if self._opened is not None:
                raise self._opened.unreadable(path, detail) from None
            raise integrity.Problem("object-unreadable", rel, detail).error(self.path) from None

    def file_bytes(self, rel: str) -> bytes:
        """The bytes of the version's file `rel` as verified at open (the static site's export
        copies them; a file changed or damaged since is a `StoreError`, as for every read)."""
        return self._read(rel, bytes)

    def _feather(self, rel: str) -> pd.DataFrame:
        return self._read(rel, lambda data: feather.read_feather(pa.BufferReader(data)))

    def _npy(self, rel: str) -> np.ndarray:
        """A whole array in memory (`allow_pickle` stays off: data, never code)."""
        return self._read(rel, lambda data: np.load(io.BytesIO(data), allow_pickle=False))

    def missing_files(self) -> list[str]:
        """The expected files that are absent or of the wrong size (one stat each)."""
        missing = []
        for rel in self.expected_files():
            entry = self._files.get(rel)
            if self._files and entry is None:
                missing.append(rel)
                continue
            try:
                size = self.file(rel).stat().st_size
            except OSError:
                missing.append(rel)
                continue
            if entry is not None and entry["size"] >= 0 and size != entry["size"]:
                missing.append(rel)
        return missing

    # ------------------------------------------------------------------ names

    @property
    def version(self) -> str | None:
        """The version id of this store (None for a version folder opened directly)."""
        return self.path.name if versions.is_version_id(self.path.name) else None

    @cached_property
    def identity(self) -> Identity | None:
        """The study's identity compiled into this version (None: compiled before identities
        travelled with the data, or without one; readers then use their own settings)."""
        if self._files.get(fmt.IDENTITY) is None:
            return None
        return self._read(fmt.IDENTITY, Identity.from_json)

    @cached_property
    def figure_defaults(self) -> FigureDefaults | None:
        """The figures' default choices compiled into this version (None: compiled before they
        were; the figures then use their built-in choices)."""
        if self._files.get(fmt.FIGURE_DEFAULTS) is None:
            if self._files or not (self.path / fmt.FIGURE_DEFAULTS).is_file():
                return None  # a version being compiled has no file map yet, only its files
        return self._read(fmt.FIGURE_DEFAULTS, FigureDefaults.from_json)

    @property
    def fingerprint(self) -> str:
        return str(self.manifest.get("compile_key", "")) + str(self.manifest.get("created", ""))

    def condition(self, name_or_id: str) -> Condition:
        found = self._by_name.get(str(name_or_id))
        if found is None:
            raise NotFoundError(
                f"unknown condition {name_or_id!r}",
                hint=f"choose one of {_choices([c.name for c in self.conditions])}",
            )
        return found

    def default_condition(self, single: bool = False) -> Condition:
        if not single:
            for c in self.conditions:
                if c.kind == "combined":
                    return c
        return next(c for c in self.conditions if c.kind == "single")

    def fdr(self, value: float | str) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        for t in self.thresholds:
            if abs(number - t) < 1e-9:
                return t
        raise NotFoundError(
            f"FDR threshold {value!r} is not available",
            hint=f"choose {self.thresholds[0]:.2f} … {self.thresholds[-1]:.2f} in steps of 0.01",
        )

    def cell_type(self, name: str) -> str:
        if name not in self._cell_type_set:
            raise NotFoundError(
                f"unknown cell type {name!r}", hint=f"choose one of {_choices(self.cell_types)}"
            )
        return name

    @cached_property
    def _genes(self) -> pd.DataFrame:
        return self._feather(fmt.GENES)

    @cached_property
    def genes(self) -> list[str]:
        return list(self._genes["gene"])

    @cached_property
    def lr_gene_count(self) -> int:
        """How many genes the ligand–receptor list names (each once, ligand or receptor)."""
        genes = self._genes
        return int((genes["is_ligand"].astype(bool) | genes["is_receptor"].astype(bool)).sum())

    @cached_property
    def tested_lr_gene_count(self) -> int:
        """How many of the list's genes the data tested (a target row in some condition)."""
        genes = self._genes
        listed = set(
            genes["gene"][genes["is_ligand"].astype(bool) | genes["is_receptor"].astype(bool)]
        )
        tested: set[str] = set()
        for cond in self.conditions:
            if cond.kind == "single":
                tested.update(self._table(cond)["target"].astype(str))
        return len(listed & tested)

    @cached_property
    def _gene_lookup(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for g in self.genes:
            lookup.setdefault(g.lower(), g)
        lookup.update({g: g for g in self.genes})
        return lookup

    def gene(self, name: str) -> str:
        found = self._gene_lookup.get(name) or self._gene_lookup.get(str(name).lower())
        if found is None:
            raise NotFoundError(f"unknown gene {name!r}", hint="check the gene symbol's spelling")
        return found

    # ------------------------------------------------------------------ tables

    def _table(self, cond: Condition) -> pd.DataFrame:
        if cond.id not in self._tables:
            self._tables[cond.id] = self._feather(f"{fmt.CONDITIONS_DIR}/{cond.id}/{fmt.CIRCOS}")
        return self._tables[cond.id]

    def circos_table(self, condition: str, fdr: float) -> pd.DataFrame:
        """One row per (cell type, target) at threshold `fdr` (see SPEC-data.md)."""
        cond = self.condition(condition)
        thr = self.fdr(fdr)
        t = self._table(cond)
        sig_col = fmt.count_column(fmt.SIG_COUNT, thr)
        raw = t[sig_col].to_numpy()
        ligand_only = t["ligand"].to_numpy(bool) & ~t["receptor"].to_numpy(bool)
        out = t[["cell_type", "target", "ligand", "receptor", "cell_type_dc1", "DA_score"]].copy()
        out["numSigI1"] = np.where(ligand_only, 0, raw).astype(np.int64)
        out["numDEG"] = t[fmt.count_column(fmt.DEG_COUNT, thr)].to_numpy(np.int64)
        out["MAST_log2FC"] = t["MAST_log2FC"]
        out["MAST_fdr"] = t["MAST_fdr"]
        out["MAST_fdr_all"] = t["MAST_fdr_all"]
        out["MAST_same_sign"] = t["MAST_same_sign"].astype(bool)
        min_col = fmt.count_column(fmt.SIG_MIN_COUNT, thr)
        out["numSigI1_all"] = t[min_col if min_col in t else sig_col].astype(np.int64)
        return out

    def mast_table(self, condition: str) -> pd.DataFrame:
        """One row per (cell type, target): its input row and the target's own MAST log2FC and
        FDR (`format.EFFECTS_CIRCOS_COLUMNS`), what the ligand-effects propagation reads of the
        circos table; no column depends on a threshold."""
        return self._table(self.condition(condition))[list(fmt.EFFECTS_CIRCOS_COLUMNS)].copy()

    _PAIR_COLUMNS = (
        "ligand", "cell_type_ligand", "receptor", "cell_type_receptor", "numSigI1", "numDEG",
        "MAST_log2FC_ligand", "MAST_fdr_ligand", "MAST_fdr_all_ligand", "MAST_same_sign_ligand",
        "expression_ligand", "DA_ligand", "cell_type_ligand_dc1", "MAST_log2FC_receptor",
        "MAST_fdr_receptor", "expression_receptor", "DA_receptor", "cell_type_receptor_dc1",
        "numSigI1_all_receptor",
    )  # fmt: skip

    def _pairs_base(self, cond: Condition) -> pd.DataFrame:
        """The threshold-independent columns of the pairwise table (built once per condition)."""
        if cond.id not in self._pairs:
            pairs = self._feather(f"{fmt.CONDITIONS_DIR}/{cond.id}/{fmt.PAIRS}")
            t = self._table(cond)
            lig = pairs["lig_idx"].to_numpy()
            rec = pairs["rec_idx"].to_numpy()
            base = pairs[["ligand", "cell_type_ligand", "receptor", "cell_type_receptor"]].copy()
            for side, idx in (("ligand", lig), ("receptor", rec)):
                base[f"MAST_log2FC_{side}"] = t["MAST_log2FC"].to_numpy()[idx]
                base[f"MAST_fdr_{side}"] = t["MAST_fdr"].to_numpy()[idx]
                base[f"expression_{side}"] = self._expression_of(
                    base[f"cell_type_{side}"], base[side]
                )
                base[f"DA_{side}"] = t["DA_score"].to_numpy()[idx]
                base[f"cell_type_{side}_dc1"] = t["cell_type_dc1"].to_numpy()[idx]
            base["MAST_fdr_all_ligand"] = t["MAST_fdr_all"].to_numpy()[lig]
            base["MAST_same_sign_ligand"] = t["MAST_same_sign"].to_numpy(bool)[lig]
            base["rec_idx"] = rec
            self._pairs[cond.id] = base
        return self._pairs[cond.id]

    def pairwise_table(
        self, condition: str, fdr: float, cell_types: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Ligand (cell type A) → receptor (cell type B) rows for every listed pair."""
        cond = self.condition(condition)
        thr = self.fdr(fdr)
        base = self._pairs_base(cond)
        if cell_types is not None:
            wanted = [self.cell_type(c) for c in cell_types]
            base = base[
                base["cell_type_ligand"].isin(wanted) & base["cell_type_receptor"].isin(wanted)
            ]
        t = self._table(cond)
        rec = base["rec_idx"].to_numpy()
        sig_col = fmt.count_column(fmt.SIG_COUNT, thr)
        raw = t[sig_col].to_numpy()
        ligand_only = t["ligand"].to_numpy(bool) & ~t["receptor"].to_numpy(bool)
        min_col = fmt.count_column(fmt.SIG_MIN_COUNT, thr)
        out = base.assign(
            numSigI1=np.where(ligand_only, 0, raw).astype(np.int64)[rec],
            numDEG=t[fmt.count_column(fmt.DEG_COUNT, thr)].to_numpy(np.int64)[rec],
            numSigI1_all_receptor=t[min_col if min_col in t else sig_col].to_numpy(np.int64)[rec],
        )
        return out[list(self._PAIR_COLUMNS)].reset_index(drop=True)

    # ------------------------------------------------------------------ expression

    @cached_property
    def _expression(self) -> pd.DataFrame:
        long = self._feather(fmt.EXPRESSION)
        return long.pivot(index="gene", columns="cell_type", values="expression")

    @cached_property
    def _expression_values(self) -> np.ndarray:
        return self._expression.to_numpy(np.float64)

    def _expression_of(self, cell_types: pd.Series, genes: pd.Series) -> np.ndarray:
        wide = self._expression
        gi = wide.index.get_indexer(genes)
        ci = wide.columns.get_indexer(cell_types)
        values = self._expression_values
        ok = (gi >= 0) & (ci >= 0)
        out = np.zeros(len(gi))
        out[ok] = values[gi[ok], ci[ok]]
        return out

    def expression(self, cell_type: str, gene: str) -> float:
        return float(self._expression_of(pd.Series([cell_type]), pd.Series([gene]))[0])

    # ------------------------------------------------------------------ ligand–receptor list

    @cached_property
    def _lr(self) -> pd.DataFrame:
        return self._feather(fmt.INTERACTIONS)

    @cached_property
    def _receptors_of(self) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in self._lr.groupby("ligand")["receptor"]}

    @cached_property
    def _ligands_of(self) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in self._lr.groupby("receptor")["ligand"]}

    def lr_pairs(self) -> pd.DataFrame:
        return self._lr.copy()

    def receptors_of(self, ligand: str) -> list[str]:
        return list(self._receptors_of.get(ligand, []))

    def ligands_of(self, receptor: str) -> list[str]:
        return list(self._ligands_of.get(receptor, []))

    # ------------------------------------------------------------------ ligand effects

    def _row_index(self, cond: Condition) -> dict[tuple[str, str], int]:
        if cond.id not in self._rows:
            t = self._table(cond)
            self._rows[cond.id] = dict(
                zip(zip(t["cell_type"], t["target"], strict=True), t["row"], strict=True)
            )
        return self._rows[cond.id]

    def has_row(self, condition: str, cell_type: str, target: str) -> bool:
        cond = self.condition(condition)
        return (cell_type, target) in self._row_index(cond) and cond.kind == "single"

    def targets(self, condition: str, cell_type: str) -> list[str]:
        t = self._table(self.condition(condition))
        return sorted(t.loc[t["cell_type"] == cell_type, "target"])

    def _effect_matrices(self, cond: Condition) -> dict[str, Any]:
        """The sparse rows (in memory) plus per-gene columns aligned to this condition's genes."""
        if cond.id not in self._effects:
            base = f"{fmt.CONDITIONS_DIR}/{cond.id}"
            genes = self._feather(f"{base}/{fmt.CONDITION_GENES}")["gene"].to_numpy(dtype=object)
            info = self._genes.set_index("gene").reindex(genes)
            self._effects[cond.id] = {
                **{e.column: self._npy(f"{base}/{e.file}") for e in fmt.EFFECT_LAYERS},
                "offsets": self._npy(f"{base}/{fmt.EFFECT_OFFSETS}"),
                "gene_index": self._npy(f"{base}/{fmt.EFFECT_GENES}"),
                "genes": genes,
                "is_ligand": info["is_ligand"].fillna(False).to_numpy(bool),
                "is_receptor": info["is_receptor"].fillna(False).to_numpy(bool),
                "max_ligand": info["max_ligand_expression"].fillna(0.0).to_numpy(np.float64),
                "expr_rows": self._expression.index.get_indexer(genes),
            }
        return self._effects[cond.id]

    @property
    def effects_t_max(self) -> float:
        """The widest threshold the stored ligand-effect rows serve (see `format.EFFECTS_RULE`)."""
        return float(self.manifest[fmt.EFFECTS_KEY]["t_max"])

    def effects_row(self, condition: str, cell_type: str, target: str) -> tuple[Condition, int]:
        """The single condition and the input row of one (cell type, target) ligand-effects row."""
        cond = self.condition(condition)
        if cond.kind != "single":
            singles = [c.name for c in self.conditions if c.kind == "single"]
            raise StoreError(
                f"ligand effects need a single condition, not the combined {cond.name!r}",
                hint=f"choose one of {_choices(singles)}",
            )
        cell_type = self.cell_type(cell_type)
        row = self._row_index(cond).get((cell_type, target))
        if row is None:
            raise NotFoundError(f"{target!r} was not tested in {cell_type!r} ({cond.name})")
        return cond, int(row)

    def condition_genes(self, condition: str) -> np.ndarray:
        """The downstream genes of a single condition, in the order of its input layers."""
        return self._effect_matrices(self.condition(condition))["genes"]

    def effects_frame(
        self, condition: str, cell_type: str, gene_index: np.ndarray, values: dict[str, Any]
    ) -> pd.DataFrame:
        """The ligand-effects table of genes `gene_index` (positions in `condition_genes`).

        `values` maps each effect column (log2FC, fdr, i1.fdr) to one value per listed gene.
        """
        m = self._effect_matrices(self.condition(condition))
        idx = np.asarray(gene_index, dtype=np.int64)
        column = self._expression_values[:, self._expression.columns.get_loc(cell_type)]
        rows = m["expr_rows"][idx]
        expression = np.where(rows >= 0, column[np.maximum(rows, 0)], 0.0)
        return pd.DataFrame(
            {
                "gene": m["genes"][idx],
                **{
                    e.column: np.asarray(values[e.column], dtype=np.float64)
                    for e in fmt.EFFECT_LAYERS
                },
                "gene_is_ligand": m["is_ligand"][idx],
                "gene_is_receptor": m["is_receptor"][idx],
                "gene_expression": expression,
                "gene_max_ligand_expression": m["max_ligand"][idx],
            }
        )

    def ligand_effects(self, condition: str, cell_type: str, target: str) -> pd.DataFrame:
        """The stored downstream genes of one (cell type, target) row of a single condition.

        Only the genes a figure can ever draw are stored: ligand or receptor genes with
        i1.fdr < t_max and fdr < t_max (`effects_t_max`); `ctsite export ligand-effects --all`
        reads the full row from the input file.
        """
        cond, row = self.effects_row(condition, cell_type, target)
        m = self._effect_matrices(cond)
        start, stop = int(m["offsets"][row]), int(m["offsets"][row + 1])
        return self.effects_frame(
            cond.name,
            cell_type,
            m["gene_index"][start:stop],
            {e.column: m[e.column][start:stop] for e in fmt.EFFECT_LAYERS},
        )

    # ------------------------------------------------------------------ precomputed figures

    def figure_cache_dir(self) -> Path:
        return self.path / fmt.FIGURES_DIR

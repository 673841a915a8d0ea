"""The compile pipeline: validate → stream layer blocks → tables → new version → pointer switch.

Each DEG layer is read exactly once, in row blocks: the block is counted at every FDR threshold
(numSigI1, numDEG) and the values a ligand-effects figure can ever draw are kept as memory-mappable
sparse rows. Conditions and the expression group-by run in parallel worker processes (`jobs`).
Nothing a reader sees changes until the new version is complete; then one atomic rename of the
pointer publishes it (`destination.py`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctsite import __version__
from ctsite.compile import destination, inputs, leftovers, tables
from ctsite.compile.dataset import DataSpec
from ctsite.compile.fingerprint import compile_key, file_fingerprint, read_manifest
from ctsite.compile.scan import run_workers
from ctsite.errors import InputError
from ctsite.store import format as fmt
from ctsite.store.figure_defaults import FigureChoices
from ctsite.store.identity import Identity
from ctsite.store.versions import MIN_KEEP

# progress(phase_key, description, total) registers a phase; advance(phase_key, n) moves it on.
ProgressFn = Callable[[str, str, int], None]
AdvanceFn = Callable[[str, int], None]


_ROLES = {"interactions": "ligand–receptor list", "expression": "expression file"}


@dataclass
class CompileResult:
    status: str  # "built" or "up-to-date"
    path: Path
    seconds: float
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _quoted(names: Iterable[object]) -> str:
    """Names as a message lists them: 'T cells', 'nan' (plain text, never np.str_('nan'))."""
    return ", ".join(repr(str(n)) for n in names)


def _check_consistency(
    spec: DataSpec, degs: dict[str, inputs.DegFile], expr_types: list[str], lr: pd.DataFrame
) -> None:
    excluded = set(spec.exclude_cell_types)
    known = set(expr_types).union(*(set(d.obs["cell_type"]) for d in degs.values()))
    unknown = [c for c in spec.exclude_cell_types if c not in known]
    if unknown:  # a typo would silently keep the cell type on the site
        raise InputError(
            f"[data] exclude_cell_types: unknown cell type(s) {_quoted(unknown)} "
            f"(the input files have {_quoted(sorted(known))})",
            hint="spell them exactly as in the input files (letter case and spaces count)",
        )
    lr_genes = set(lr["ligand"]) | set(lr["receptor"])
    reference: set[str] | None = None
    for name, deg in degs.items():
        types = set(deg.obs["cell_type"]) - excluded
        if not types:
            raise InputError(f"{deg.path}: no rows left after excluding {sorted(excluded)}")
        missing = sorted(types - set(expr_types))
        if missing:
            raise InputError(
                f"{deg.path}: cell type(s) {_quoted(missing)} not found in the "
                f"expression file's cell types ({_quoted(sorted(expr_types))})",
                hint="cell type names must be spelled the same in every file",
            )
        if reference is not None and types != reference:
            diff = sorted(types ^ reference)
            raise InputError(
                f"condition {name!r}: cell types differ from the other conditions: {_quoted(diff)}",
                hint="every DEG file must cover the same cell types",
            )
        reference = types
        absent = sorted(set(deg.obs["target"]) - lr_genes)
        if absent:
            raise InputError(
                f"{deg.path}: {len(absent)} target(s) are not in the ligand–receptor list "
                f"({', '.join(absent[:8])}{', …' if len(absent) > 8 else ''})",
                hint=f"use the list the analysis used ({spec.interactions} does not match)",
            )


def compile_store(
    spec: DataSpec,
    dest: Path,
    *,
    jobs: int = 2,
    block_rows: int = 0,
    force: bool = False,
    keep_versions: int = MIN_KEEP,
    progress: ProgressFn | None = None,
    advance: AdvanceFn | None = None,
    identity: Identity | None = None,
    figures: FigureChoices | None = None,
) -> CompileResult:
    """Compile `spec` into a new version of the store at `dest` (nothing when it is up to date).

    `keep_versions`: how many versions stay after the switch (the current and the previous
    always do). `identity`: the study's identity, written into the version (`fmt.IDENTITY`)
    and part of its compile key; None writes none (readers fall back to their settings).
    `figures`: the `[figures]` settings (part of the compile key); the figures' default views
    are chosen from the new version's data with them and written into it (`fmt.FIGURE_DEFAULTS`).
    """
    started = time.perf_counter()
    dest = Path(os.path.abspath(dest))
    destination.check_replaceable(dest)
    progress = progress or (lambda key, desc, total: None)
    advance = advance or (lambda key, n: None)
    with destination.lock(dest):
        destination.recover(dest)
        destination.check_replaceable(dest)  # again, now that no other compile can change it
        leftovers.sweep(dest)  # what killed compiles left (only if their process is gone)
        files = spec.input_files()
        for role, path in files.items():
            problem = inputs.not_a_file(path)
            if problem is not None:
                raise inputs.input_error(
                    _ROLES.get(role) or f"DEG file of {role[4:]!r}", path, problem
                )
        fingerprints = {role: file_fingerprint(path) for role, path in files.items()}
        key = compile_key(spec, fingerprints, identity, figures)
        current = read_manifest(dest)
        if not force and current and current.get("compile_key") == key:
            return CompileResult("up-to-date", dest, time.perf_counter() - started, current)

        progress("validate", "validate inputs", len(files))
        lr = inputs.read_interactions(spec.interactions)
        advance("validate", 1)
        degs: dict[str, inputs.DegFile] = {}
        for cond in spec.conditions:
            degs[cond.name] = inputs.read_deg_metadata(
                cond.file, cond.log2fc_column, cond.fdr_column
            )
            advance("validate", 1)
        expr = inputs.read_expression_metadata(
            spec.expression, spec.expression_cell_type_column, spec.expression_layer
        )
        advance("validate", 1)
        expr_types = sorted(set(expr.cell_types))
        _check_consistency(spec, degs, expr_types, lr)

        try:
            target = destination.begin(dest, key)
        except OSError as exc:
            raise destination.write_error(exc, dest) from None
        try:
            tmp = target.work
            manifest = _build(spec, tmp, lr, degs, expr, jobs, block_rows, progress, advance)
            if identity is not None:  # an object like the tables: the integrity check covers it
                (tmp / fmt.IDENTITY).write_text(identity.to_json(), encoding="utf-8")
            _write_figure_defaults(tmp, manifest, figures or FigureChoices())
            manifest.update(
                version=target.version,
                compile_key=key,
                inputs=fingerprints,
                compile_seconds=round(time.perf_counter() - started, 3),
            )
            manifest["warnings"] += destination.publish(target, manifest, keep_versions)
        except OSError as exc:
            destination.abandon(target)
            raise destination.write_error(exc, dest) from None
        except BaseException:
            destination.abandon(target)
            raise
    return CompileResult(
        "built", dest, time.perf_counter() - started, manifest, list(manifest["warnings"])
    )


def _write_figure_defaults(tmp: Path, manifest: dict[str, Any], choices: FigureChoices) -> None:
    """Choose the default views from the version just written (read where it lies, before it
    is published) and write them beside its tables: an object like them, so the integrity
    check covers it. A `[figures]` setting whose view draws nothing is one of its warnings."""
    from ctsite.figures.choose import choose_defaults, quiet_settings
    from ctsite.store import Store

    store = Store(tmp, manifest)
    chosen = choose_defaults(store, choices)
    (tmp / fmt.FIGURE_DEFAULTS).write_text(chosen.to_json(), encoding="utf-8")
    manifest["warnings"] += quiet_settings(store, chosen, choices)


def _build(
    spec: DataSpec,
    tmp: Path,
    lr: pd.DataFrame,
    degs: dict[str, inputs.DegFile],
    expr: inputs.ExpressionFile,
    jobs: int,
    block_rows: int,
    progress: ProgressFn,
    advance: AdvanceFn,
) -> dict[str, Any]:
    warnings: list[str] = []
    excluded = set(spec.exclude_cell_types)
    groups = sorted(set(expr.cell_types) - excluded)
    cond_ids = {c.name: f"c{i + 1}" for i, c in enumerate(spec.conditions)}
    combo_ids = {c.name: f"c{len(cond_ids) + i + 1}" for i, c in enumerate(spec.combined)}
    for cid in [*cond_ids.values(), *combo_ids.values()]:
        fmt.condition_dir(tmp, cid).mkdir(parents=True)

    progress("expression", "expression fractions", len(expr.cell_types))
    for name, deg in degs.items():
        progress(cond_ids[name], f"condition {name}", len(deg.obs))
    signal_genes = set(lr["ligand"]) | set(lr["receptor"])
    t_max = max(fmt.THRESHOLDS)
    scans, fractions = run_workers(
        tmp, degs, expr, groups, cond_ids, signal_genes, t_max, jobs, block_rows, advance
    )

    progress("tables", "tables", 3 + len(spec.conditions) + len(spec.combined))
    # Expression (long form) and the per-gene table.
    expr_wide = pd.DataFrame(fractions.T, index=expr.genes, columns=groups)
    expr_wide = expr_wide[~expr_wide.index.duplicated()]
    long = (
        expr_wide.rename_axis("gene")
        .reset_index()
        .melt(id_vars="gene", var_name="cell_type", value_name="expression")
    )
    long["expression"] = long["expression"].astype(np.float64)  # exact fractions (0.3 is 0.3)
    tables.write_feather(long, tmp / fmt.EXPRESSION)
    tables.write_feather(lr, tmp / fmt.INTERACTIONS)
    all_genes = sorted(
        set(lr["ligand"]) | set(lr["receptor"]) | {g for d in degs.values() for g in d.genes}
    )
    gene_max = expr_wide.max(axis=1)
    lig_max = lr.assign(m=lr["ligand"].map(gene_max).fillna(0.0)).groupby("receptor")["m"].max()
    genes = pd.DataFrame({"gene": all_genes})
    genes["is_ligand"] = genes["gene"].isin(set(lr["ligand"]))
    genes["is_receptor"] = genes["gene"].isin(set(lr["receptor"]))
    genes["max_ligand_expression"] = genes["gene"].map(lig_max).fillna(0.0).astype(np.float64)
    tables.write_feather(genes, tmp / fmt.GENES)
    advance("tables", 3)
    unmeasured = sorted((set(lr["ligand"]) | set(lr["receptor"])) - set(expr_wide.index))
    if unmeasured:
        warnings.append(
            f"{len(unmeasured)} ligand/receptor genes are not in the expression file (expression 0)"
        )

    cond_tables: dict[str, pd.DataFrame] = {}
    conditions_meta = []
    for cond in spec.conditions:
        deg, scan, cid = degs[cond.name], scans[cond_ids[cond.name]], cond_ids[cond.name]
        out_dir = fmt.condition_dir(tmp, cid)
        table = deg.obs.copy()
        table["row"] = np.arange(len(table), dtype=np.int32)
        table["MAST_fdr_all"] = table["MAST_fdr"]
        table["MAST_same_sign"] = True
        table = pd.concat(
            [
                table,
                pd.DataFrame(tables.count_columns(fmt.SIG_COUNT, scan["numSigI1"])),
                pd.DataFrame(tables.count_columns(fmt.DEG_COUNT, scan["numDEG"])),
            ],
            axis=1,
        )
        table = table[~table["cell_type"].isin(excluded)].reset_index(drop=True)
        cond_tables[cond.name] = table
        tables.write_feather(table, out_dir / fmt.CIRCOS)
        tables.write_feather(tables.pair_skeleton(table, lr), out_dir / fmt.PAIRS)
        tables.write_feather(pd.DataFrame({"gene": deg.genes}), out_dir / fmt.CONDITION_GENES)
        for what, count in (("fdr", scan["nan_fdr"]), ("fdr.i1", scan["nan_i1"])):
            if count:
                warnings.append(
                    f"{cond.name}: {count} NaN values in layer {what} (treated as not significant)"
                )
        conditions_meta.append(
            {
                "id": cid,
                "name": cond.name,
                "label": cond.label,
                "kind": "single",
                "of": [],
                "rows": len(table),
                "genes": len(deg.genes),
                "mast_columns": [deg.log2fc_column, deg.fdr_column],
                "nan_fdr": scan["nan_fdr"],
                "nan_fdr_i1": scan["nan_i1"],
            }
        )
        advance("tables", 1)

    for combo in spec.combined:
        cid = combo_ids[combo.name]
        table = tables.combine(combo.of, cond_tables)
        out_dir = fmt.condition_dir(tmp, cid)
        tables.write_feather(table, out_dir / fmt.CIRCOS)
        tables.write_feather(tables.pair_skeleton(table, lr), out_dir / fmt.PAIRS)
        conditions_meta.append(
            {
                "id": cid,
                "name": combo.name,
                "label": combo.label,
                "kind": "combined",
                "of": list(combo.of),
                "rows": len(table),
                "genes": 0,
            }
        )
        if table.empty:
            warnings.append(f"{combo.name}: the compared conditions share no (cell type, target)")
        advance("tables", 1)

    present = sorted({ct for t in cond_tables.values() for ct in t["cell_type"]})
    order = [ct for ct in spec.cell_type_order if ct in present]
    order += [ct for ct in present if ct not in order]
    colors = {ct: spec.cell_type_colors.get(ct) or tables.name_color(ct) for ct in order}
    return {
        "schema_version": fmt.SCHEMA_VERSION,
        "ctsite_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": spec.parameters(),
        "thresholds": list(fmt.THRESHOLDS),
        fmt.EFFECTS_KEY: {"layout": fmt.EFFECTS_LAYOUT, "t_max": t_max, "rule": fmt.EFFECTS_RULE},
        "cell_types": order,
        "cell_type_colors": colors,
        "conditions": conditions_meta,
        "n_genes": len(all_genes),
        "warnings": warnings,
    }

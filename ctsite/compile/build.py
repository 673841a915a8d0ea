"""The compile pipeline: validate → stream layer blocks → tables → temp dir → atomic swap.

Each DEG layer is read exactly once, in row blocks: the block is counted at every FDR threshold
(numSigI1, numDEG) and copied into a memory-mappable `.npy` for the ligand-effects view. Conditions
and the expression group-by run in parallel worker processes (`jobs`). Nothing in the destination
changes until the new store is complete; then it is swapped in with two renames.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import multiprocessing as mp
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from ctsite import __version__
from ctsite.compile import inputs, stats
from ctsite.compile.dataset import DataSpec
from ctsite.compile.fingerprint import (
    MANIFEST,
    SCHEMA_VERSION,
    compile_key,
    file_fingerprint,
    read_manifest,
)
from ctsite.errors import CtsiteError, InputError

EFFECT_LAYERS = {"log2FC": "log2FC.npy", "fdr": "fdr.npy", "fdr.i1": "fdr_i1.npy"}

# progress(phase_key, description, total) registers a phase; advance(phase_key, n) moves it on.
ProgressFn = Callable[[str, str, int], None]
AdvanceFn = Callable[[str, int], None]


@dataclass
class CompileResult:
    status: str  # "built" or "up-to-date"
    path: Path
    seconds: float
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- workers


def _scan_condition(
    path: str, out_dir: str, block_rows: int, queue: Any, key: str
) -> dict[str, Any]:
    """Worker: stream the three layers of one DEG file once; counts + .npy copies."""
    import h5py

    with h5py.File(path, "r") as f, contextlib.ExitStack() as files:
        n, g = inputs.layer_shape(f, "layers/fdr", Path(path))[0]
        out = {}
        for name, fname in EFFECT_LAYERS.items():
            # Plain sequential writes (not a memmap): dirty pages never count against our RSS.
            fh = files.enter_context((Path(out_dir) / fname).open("wb"))
            header = {"descr": "<f4", "fortran_order": False, "shape": (n, g)}
            np.lib.format.write_array_header_1_0(fh, header)
            out[name] = fh
        sig = np.zeros((n, len(stats.THRESHOLDS)), dtype=np.int32)
        deg = np.zeros_like(sig)
        nan_fdr = nan_i1 = 0
        streams = {name: inputs.iter_row_blocks(f, f"layers/{name}", block_rows) for name in out}
        for (start, lfc), (_, fdr), (_, i1) in zip(
            streams["log2FC"], streams["fdr"], streams["fdr.i1"], strict=True
        ):
            stop = start + lfc.shape[0]
            for name, block in (("log2FC", lfc), ("fdr", fdr), ("fdr.i1", i1)):
                out[name].write(np.ascontiguousarray(block, dtype="<f4").data)
            deg[start:stop] = stats.count_below(fdr)
            sig[start:stop] = stats.count_below(i1)
            nan_fdr += stats.count_nan(fdr)
            nan_i1 += stats.count_nan(i1)
            if queue is not None:
                queue.put((key, stop - start))
    return {"numSigI1": sig, "numDEG": deg, "nan_fdr": nan_fdr, "nan_i1": nan_i1}


def _scan_expression(
    path: str, matrix: str, labels: list[str], groups: list[str], block_rows: int, queue: Any
) -> np.ndarray:
    """Worker: fraction of cells of each group expressing each gene (one sparse group-by)."""
    import h5py

    codes = stats.group_codes(np.asarray(labels, dtype=object), groups)
    counts: np.ndarray | None = None
    with h5py.File(path, "r") as f:
        for start, block in inputs.iter_row_blocks(f, matrix, block_rows, keep_sparse=True):
            part = stats.expressing_counts(
                block, codes[start : start + block.shape[0]], len(groups)
            )
            counts = part if counts is None else counts + part
            if queue is not None:
                queue.put(("expression", block.shape[0]))
    assert counts is not None
    cells = np.bincount(codes[codes >= 0], minlength=len(groups)).astype(np.float64)
    return counts / np.maximum(cells, 1)[:, None]


# ----------------------------------------------------------------------------- store writing


def _write_feather(df: pd.DataFrame, path: Path) -> None:
    feather.write_feather(pa.Table.from_pandas(df, preserve_index=False), path, compression="zstd")


def _count_columns(prefix: str, counts: np.ndarray) -> dict[str, np.ndarray]:
    return {
        f"{prefix}_{stats.threshold_key(t)}": counts[:, k] for k, t in enumerate(stats.THRESHOLDS)
    }


def _pair_skeleton(table: pd.DataFrame, lr: pd.DataFrame) -> pd.DataFrame:
    """(ligand, cell type) rows × LR list × (receptor, cell type) rows: positions in `table`."""
    rows = table[["cell_type", "target"]].reset_index(drop=True)
    rows["idx"] = np.arange(len(rows), dtype=np.int32)
    lig = rows.merge(lr, left_on="target", right_on="ligand")
    lig = lig.rename(columns={"cell_type": "cell_type_ligand", "idx": "lig_idx"})
    rec = rows.rename(
        columns={"cell_type": "cell_type_receptor", "target": "receptor", "idx": "rec_idx"}
    )
    pairs = lig.merge(rec, on="receptor")
    cols = ["ligand", "cell_type_ligand", "receptor", "cell_type_receptor", "lig_idx", "rec_idx"]
    return pairs[cols].sort_values(cols[:4], ignore_index=True)


def _name_color(name: str) -> str:
    """A colour that depends only on the name (stable across processes)."""
    h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    import colorsys

    r, g, b = colorsys.hls_to_rgb((h % 360) / 360, 0.45 + (h >> 9) % 20 / 100, 0.65)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


# ----------------------------------------------------------------------------- the pipeline


@contextlib.contextmanager
def _lock(dest: Path) -> Iterator[None]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / f".{dest.name}.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CtsiteError(
                f"another compile is writing {dest}", hint="wait for it to finish"
            ) from None
        yield


def _recover(dest: Path) -> None:
    """Finish or undo a swap interrupted between its two renames; drop stale temp dirs."""
    olds = sorted(dest.parent.glob(f".{dest.name}.old-*"))
    if olds and not dest.exists():
        os.rename(olds[-1], dest)
        olds = olds[:-1]
    for stale in [*olds, *dest.parent.glob(f".{dest.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _swap(tmp: Path, dest: Path) -> None:
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.rename(dest, old)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def _check_consistency(
    spec: DataSpec, degs: dict[str, inputs.DegFile], expr_types: list[str], lr: pd.DataFrame
) -> None:
    excluded = set(spec.exclude_cell_types)
    lr_genes = set(lr["ligand"]) | set(lr["receptor"])
    reference: set[str] | None = None
    for name, deg in degs.items():
        types = set(deg.obs["cell_type"]) - excluded
        if not types:
            raise InputError(f"{deg.path}: no rows left after excluding {sorted(excluded)}")
        missing = sorted(types - set(expr_types))
        if missing:
            raise InputError(
                f"{deg.path}: cell type(s) {', '.join(map(repr, missing))} not found in the "
                f"expression file's cell types ({', '.join(map(repr, sorted(expr_types)))})",
                hint="cell type names must be spelled the same in every file",
            )
        if reference is not None and types != reference:
            diff = sorted(types ^ reference)
            raise InputError(
                f"condition {name!r}: cell types differ from the other conditions: "
                f"{', '.join(map(repr, diff))}",
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
    block_rows: int = 512,
    force: bool = False,
    progress: ProgressFn | None = None,
    advance: AdvanceFn | None = None,
) -> CompileResult:
    """Compile `spec` into the store at `dest` (or do nothing when it is up to date)."""
    started = time.perf_counter()
    progress = progress or (lambda key, desc, total: None)
    advance = advance or (lambda key, n: None)
    with _lock(dest):
        _recover(dest)
        files = spec.input_files()
        for role, path in files.items():
            if not path.is_file():
                what = "input" if not role.startswith("deg:") else f"DEG file of {role[4:]!r}"
                raise InputError(f"{what} not found: {path}", hint="check [data] in ctsite.toml")
        fingerprints = {role: file_fingerprint(path) for role, path in files.items()}
        key = compile_key(spec, fingerprints)
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

        tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            manifest = _build(spec, dest, tmp, lr, degs, expr, jobs, block_rows, progress, advance)
            manifest.update(
                compile_key=key,
                inputs=fingerprints,
                compile_seconds=round(time.perf_counter() - started, 3),
            )
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            _swap(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return CompileResult(
        "built", dest, time.perf_counter() - started, manifest, list(manifest["warnings"])
    )


def _run_workers(
    spec: DataSpec,
    tmp: Path,
    degs: dict[str, inputs.DegFile],
    expr: inputs.ExpressionFile,
    groups: list[str],
    cond_ids: dict[str, str],
    jobs: int,
    block_rows: int,
    advance: AdvanceFn,
) -> tuple[dict[str, dict[str, Any]], np.ndarray]:
    """Run the expression group-by and every condition scan, in `jobs` processes."""
    calls: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
        "expression": (
            _scan_expression,
            (str(expr.path), expr.matrix, list(expr.cell_types), groups, block_rows),
        )
    }
    for name, deg in degs.items():
        cid = cond_ids[name]
        calls[cid] = (_scan_condition, (str(deg.path), str(tmp / "conditions" / cid), block_rows))
    if jobs <= 1:
        results = {}
        for key, (fn, args) in calls.items():

            class _Q:
                def put(self, item: tuple[str, int]) -> None:
                    advance(*item)

            extra = (_Q(),) if fn is _scan_expression else (_Q(), key)
            results[key] = fn(*args, *extra)
    else:
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager, ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            queue = manager.Queue()
            futures: dict[str, Future[Any]] = {}
            for key, (fn, args) in calls.items():
                extra = (queue,) if fn is _scan_expression else (queue, key)
                futures[key] = pool.submit(fn, *args, *extra)
            pending = set(futures.values())
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                while not queue.empty():
                    advance(*queue.get())
                for fut in done:
                    if fut.exception() is not None:
                        for other in pending:
                            other.cancel()
                        raise fut.exception()  # type: ignore[misc]
            while not queue.empty():
                advance(*queue.get())
            results = {key: fut.result() for key, fut in futures.items()}
    fractions = results.pop("expression")
    return results, fractions


def _build(
    spec: DataSpec,
    dest: Path,
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
        (tmp / "conditions" / cid).mkdir(parents=True)

    progress("expression", "expression fractions", len(expr.cell_types))
    for name, deg in degs.items():
        progress(cond_ids[name], f"condition {name}", len(deg.obs))
    scans, fractions = _run_workers(
        spec, tmp, degs, expr, groups, cond_ids, jobs, block_rows, advance
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
    _write_feather(long, tmp / "expression.feather")
    _write_feather(lr, tmp / "interactions.feather")
    all_genes = sorted(
        set(lr["ligand"]) | set(lr["receptor"]) | {g for d in degs.values() for g in d.genes}
    )
    gene_max = expr_wide.max(axis=1)
    lig_max = lr.assign(m=lr["ligand"].map(gene_max).fillna(0.0)).groupby("receptor")["m"].max()
    genes = pd.DataFrame({"gene": all_genes})
    genes["is_ligand"] = genes["gene"].isin(set(lr["ligand"]))
    genes["is_receptor"] = genes["gene"].isin(set(lr["receptor"]))
    genes["max_ligand_expression"] = genes["gene"].map(lig_max).fillna(0.0).astype(np.float64)
    _write_feather(genes, tmp / "genes.feather")
    advance("tables", 3)
    unmeasured = sorted((set(lr["ligand"]) | set(lr["receptor"])) - set(expr_wide.index))
    if unmeasured:
        warnings.append(
            f"{len(unmeasured)} ligand/receptor genes are not in the expression file (expression 0)"
        )

    tables: dict[str, pd.DataFrame] = {}
    conditions_meta = []
    for cond in spec.conditions:
        deg, scan, cid = degs[cond.name], scans[cond_ids[cond.name]], cond_ids[cond.name]
        table = deg.obs.copy()
        table["row"] = np.arange(len(table), dtype=np.int32)
        table["MAST_fdr_all"] = table["MAST_fdr"]
        table["MAST_same_sign"] = True
        table = pd.concat(
            [
                table,
                pd.DataFrame(_count_columns("numSigI1", scan["numSigI1"])),
                pd.DataFrame(_count_columns("numDEG", scan["numDEG"])),
            ],
            axis=1,
        )
        table = table[~table["cell_type"].isin(excluded)].reset_index(drop=True)
        tables[cond.name] = table
        _write_feather(table, tmp / "conditions" / cid / "circos.feather")
        _write_feather(_pair_skeleton(table, lr), tmp / "conditions" / cid / "pairs.feather")
        _write_feather(
            pd.DataFrame({"gene": deg.genes}), tmp / "conditions" / cid / "genes.feather"
        )
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
        table = _combine(combo.of, tables)
        _write_feather(table, tmp / "conditions" / cid / "circos.feather")
        _write_feather(_pair_skeleton(table, lr), tmp / "conditions" / cid / "pairs.feather")
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

    present = sorted({ct for t in tables.values() for ct in t["cell_type"]})
    order = [ct for ct in spec.cell_type_order if ct in present]
    order += [ct for ct in present if ct not in order]
    colors = {ct: spec.cell_type_colors.get(ct) or _name_color(ct) for ct in order}
    return {
        "schema_version": SCHEMA_VERSION,
        "ctsite_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": spec.parameters(),
        "thresholds": list(stats.THRESHOLDS),
        "cell_types": order,
        "cell_type_colors": colors,
        "conditions": conditions_meta,
        "n_genes": len(all_genes),
        "warnings": warnings,
    }


def _combine(names: tuple[str, ...], tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The combined condition of SPEC-data.md, joined on (cell type, target)."""
    keys = ["cell_type", "target"]
    base = tables[names[0]][[*keys, "ligand", "receptor", "cell_type_dc1", "DA_score"]]
    joined = base
    for i, name in enumerate(names):
        part = (
            tables[name]
            .drop(columns=["ligand", "receptor", "cell_type_dc1", "DA_score", "row"])
            .add_suffix(f"__{i}")
        )
        part = part.rename(columns={f"{k}__{i}": k for k in keys})
        joined = joined.merge(part, on=keys, how="inner")
    n = len(names)
    lfc, fdr = stats.combine_mast(
        [joined[f"MAST_log2FC__{i}"].to_numpy() for i in range(n)],
        [joined[f"MAST_fdr__{i}"].to_numpy() for i in range(n)],
    )
    out = joined[[*keys, "ligand", "receptor", "cell_type_dc1", "DA_score"]].copy()
    out["MAST_log2FC"] = lfc
    out["MAST_fdr"] = fdr
    out["row"] = np.int32(-1)
    out["MAST_fdr_all"] = np.max(
        np.stack([joined[f"MAST_fdr__{i}"].to_numpy(float) for i in range(n)]), axis=0
    )
    out["MAST_same_sign"] = stats.same_sign(
        [joined[f"MAST_log2FC__{i}"].to_numpy(float) for i in range(n)]
    )
    cols: dict[str, np.ndarray] = {}
    for t in stats.THRESHOLDS:
        k = stats.threshold_key(t)
        for q in ("numSigI1", "numDEG"):
            parts = [joined[f"{q}_{k}__{i}"].to_numpy() for i in range(n)]
            cols[f"{q}_{k}"] = stats.combine_counts(parts)
            if q == "numSigI1":
                cols[f"numSigI1_min_{k}"] = np.min(np.stack(parts), axis=0).astype(np.int32)
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(cols)], axis=1)

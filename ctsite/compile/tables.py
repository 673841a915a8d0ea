"""Table builders of the compile: combined conditions, pair skeletons, colours, feather files.

Pure functions on data frames (plus the feather writer); the pipeline in `build.py` calls them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from ctsite.compile import stats
from ctsite.store import format as fmt


def write_feather(df: pd.DataFrame, path: Path) -> None:
    feather.write_feather(pa.Table.from_pandas(df, preserve_index=False), path, compression="zstd")


def count_columns(prefix: str, counts: np.ndarray) -> dict[str, np.ndarray]:
    return {fmt.count_column(prefix, t): counts[:, k] for k, t in enumerate(fmt.THRESHOLDS)}


def pair_skeleton(table: pd.DataFrame, lr: pd.DataFrame) -> pd.DataFrame:
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


def name_color(name: str) -> str:
    """A colour that depends only on the name (stable across processes)."""
    h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    import colorsys

    r, g, b = colorsys.hls_to_rgb((h % 360) / 360, 0.45 + (h >> 9) % 20 / 100, 0.65)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def combine(names: tuple[str, ...], tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
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
    for t in fmt.THRESHOLDS:
        for q in (fmt.SIG_COUNT, fmt.DEG_COUNT):
            name = fmt.count_column(q, t)
            parts = [joined[f"{name}__{i}"].to_numpy() for i in range(n)]
            cols[name] = stats.combine_counts(parts)
            if q == fmt.SIG_COUNT:
                cols[fmt.count_column(fmt.SIG_MIN_COUNT, t)] = np.min(
                    np.stack(parts), axis=0
                ).astype(np.int32)
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(cols)], axis=1)

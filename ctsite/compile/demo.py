"""A small, deterministic, synthetic ContactTracing dataset in the real input format.

It mimics the CIN study: real cell types, well-known mouse ligand–receptor pairs (written for this
project), two comparisons that agree on most effects (so the combined condition has content), and
planted cascades (e.g. Ccl2 from tumour cells → Ccr2 on macrophages → Il1b, Tnf, Spp1 …) so every
figure has something to show at its default settings. Same seed → byte-identical inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

CELL_TYPES = (
    "Tumor cells",
    "Macrophages/mMDSC",
    "T cells",
    "PMN/gMDSC",
    "Endothelial cells",
    "Fibroblast cells",
    "cDC",
    "NK cells",
)
CONDITIONS = ("highCIN_vs_lowCIN", "highCIN_vs_noSTING")
COMBINED = "highCIN_vs_lowCIN AND highCIN_vs_noSTING"

# Well-known mouse ligand → receptor pairs.
PAIRS = """
Ccl2 Ccr2; Ccl7 Ccr2; Ccl5 Ccr5; Ccl3 Ccr5; Ccl4 Ccr5; Ccl5 Ccr1; Ccl3 Ccr1; Cxcl12 Cxcr4;
Cxcl10 Cxcr3; Cxcl9 Cxcr3; Cxcl1 Cxcr2; Cxcl2 Cxcr2; Apoe Lrp1; Apoe Ldlr; Apoe Trem2; App Cd74;
Mif Cd74; Mif Cxcr4; Spp1 Cd44; Spp1 Itgb1; Tgfb1 Tgfbr1; Tgfb1 Tgfbr2; Il1b Il1r1; Il1a Il1r1;
Il6 Il6ra; Tnf Tnfrsf1a; Tnf Tnfrsf1b; Ifng Ifngr1; Vegfa Kdr; Vegfa Flt1; Csf1 Csf1r; Pdgfb Pdgfrb;
Jag1 Notch1; Dll4 Notch1; Gas6 Axl; Thbs1 Cd47; Cd47 Sirpa; Lgals9 Havcr2; Cd274 Pdcd1;
Sema3a Nrp1; Efnb2 Ephb4; Wnt5a Fzd5; Hbegf Egfr; Tgfa Egfr; Il10 Il10ra; Ccl22 Ccr4; Fn1 Itgb1;
Col1a1 Cd44; Angpt2 Tek; Cxcl16 Cxcr6; Il15 Il2rb; Il18 Il18r1
"""
OTHER_GENES = """
Actb Gapdh Stat1 Irf7 Isg15 Mki67 Top2a Cd68 Adgre1 Lyz2 Arg1 Nos2 S100a8 S100a9 Cd3e Cd8a Gzmb Prf1
Pecam1 Col3a1 Acta2 Epcam Krt8 Krt18 Vim Cdh1 Cdh2 Snai1 Zeb1 Twist1 Myc Ccnd1 Jun Fos Egr1 Nfkbia
Relb Socs3 Hif1a Ldha Pkm Hk2 Slc2a1 Ifit1 Ifit3 Oasl1 Rsad2 Mx1 Bst2 Ly6a H2-K1 B2m Tap1 Psmb8
Il1rn Timp1 Mmp9 Mmp2 Ctsb Ctsd Lgals3 C1qa C1qb Ms4a7 Mrc1 Cd163 Retnla Chil3 Fcgr3 Itgam Ly6g
Ly6c2 Klrb1c Ncr1 Cd19 Ms4a1 Xcr1 Clec9a Flt3 Cd79a Foxp3 Ctla4 Lag3 Tox Tcf7 Sell Ccr7 Cd14 Tlr4
Tlr2 Myd88 Irf3 Sting1 Cgas Ifnb1 Isg20 Ddx58 Ifih1 Nfkb1 Rela Stat3 Jak1 Jak2 Pdgfra Thy1 Dcn Lum
"""
EFFECT_SEEDS = {  # planted cascade: receptor row → downstream ligands/receptors it induces
    ("Macrophages/mMDSC", "Ccr2"): ("Il1b", "Tnf", "Spp1", "Cxcl2", "Vegfa", "Tgfb1"),
    ("Macrophages/mMDSC", "Lrp1"): ("Ccl5", "Cxcl10", "Il6", "Csf1r"),
    ("Macrophages/mMDSC", "Trem2"): ("Apoe", "Spp1", "Il10", "Cd74"),
    ("T cells", "Il1r1"): ("Ifng", "Ccl5", "Tnf", "Cxcr3"),
    ("Endothelial cells", "Tnfrsf1a"): ("Cxcl12", "Dll4", "Angpt2", "Kdr"),
    ("Tumor cells", "Cd44"): ("Ccl2", "Mif", "Tgfa", "Egfr"),
    ("Fibroblast cells", "Tgfbr2"): ("Col1a1", "Fn1", "Cxcl12", "Pdgfrb"),
}
STRONG_LIGANDS = {  # (cell type, ligand): own MAST log2FC in the demo (strong, significant)
    ("Tumor cells", "Ccl2"): 0.65,
    ("Tumor cells", "Apoe"): 0.45,
    ("Tumor cells", "Mif"): 0.35,
    ("Macrophages/mMDSC", "Il1b"): 0.5,
    ("Macrophages/mMDSC", "Spp1"): 0.4,
    ("Macrophages/mMDSC", "Tnf"): 0.3,
    ("T cells", "Ifng"): -0.35,
    ("Endothelial cells", "Cxcl12"): 0.3,
    ("Tumor cells", "Csf1"): 0.3,
    ("Tumor cells", "Spp1"): 0.25,
    ("Tumor cells", "Tgfb1"): -0.2,
    ("Tumor cells", "Vegfa"): 0.3,
    ("Tumor cells", "Ccl7"): 0.4,
    ("Tumor cells", "Cxcl1"): -0.25,
}
RESPONSIVE_RECEPTORS = {  # (cell type, receptor): own MAST log2FC; their responses change a lot
    ("Macrophages/mMDSC", "Csf1r"): 0.25,
    ("Macrophages/mMDSC", "Cd44"): 0.2,
    ("Macrophages/mMDSC", "Tgfbr1"): -0.2,
    ("Macrophages/mMDSC", "Ccr5"): 0.3,
    ("Macrophages/mMDSC", "Cd74"): 0.25,
    ("Macrophages/mMDSC", "Cxcr4"): -0.2,
    ("Macrophages/mMDSC", "Cxcr2"): 0.2,
    ("Macrophages/mMDSC", "Itgb1"): 0.15,
    ("Macrophages/mMDSC", "Ldlr"): 0.2,
}


def interaction_pairs() -> list[tuple[str, str]]:
    return [tuple(p.split()) for p in PAIRS.replace("\n", " ").split(";") if p.strip()]  # type: ignore[misc]


def _write_atomic(adata: object, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    adata.write_h5ad(tmp)  # type: ignore[attr-defined]
    os.replace(tmp, path)


def write_demo(
    directory: Path,
    seed: int = 7,
    cells_per_type: int = 250,
    cell_types: tuple[str, ...] = CELL_TYPES,
    pairs: list[tuple[str, str]] | None = None,
) -> Path:
    """Write the demo inputs and `ctsite.toml` into `directory`; returns the config path.

    `cell_types` and `pairs` scale it up (benchmarks); they must include the planted cascades'
    cell types and genes.
    """
    import anndata as ad

    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pairs = pairs if pairs is not None else interaction_pairs()
    ligands = sorted({lig for lig, _ in pairs})
    receptors = sorted({rec for _, rec in pairs})
    lr_genes = sorted(set(ligands) | set(receptors))
    genes = lr_genes + [g for g in OTHER_GENES.split() if g not in lr_genes]
    gene_pos = {g: i for i, g in enumerate(genes)}

    lr_path = directory / "interactions.tsv"
    tmp = lr_path.with_name(".interactions.tsv.tmp")
    tmp.write_text(
        "ligand\treceptor\n" + "".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8"
    )
    os.replace(tmp, lr_path)

    # Each cell type tests every LR gene as a target.
    rows = [(ct, g) for ct in cell_types for g in lr_genes]
    n, g = len(rows), len(genes)
    dc1 = rng.normal(0, 0.8, n)
    dc1[rng.random(n) < 0.04] = np.nan
    da = rng.uniform(-0.6, 0.6, n)
    activity = rng.beta(0.7, 5.0, n)  # how strongly each row's effect changes between conditions
    base_lfc = rng.normal(0, 0.10, n)
    for (ct, lig), value in STRONG_LIGANDS.items():
        base_lfc[rows.index((ct, lig))] = value
    for (ct, rec), value in RESPONSIVE_RECEPTORS.items():
        base_lfc[rows.index((ct, rec))] = value
        activity[rows.index((ct, rec))] = 0.6
    base_sig = rng.random((n, g)) < (activity[:, None] * 0.35)
    effect = rng.choice([-1.0, 1.0], (n, g)) * rng.uniform(0.15, 0.9, (n, g))
    planted = np.zeros((n, g), dtype=bool)
    for (ct, rec), downstream in EFFECT_SEEDS.items():
        r = rows.index((ct, rec))
        activity[r] = 0.9
        base_lfc[r] = 0.35
        for gene in downstream:
            planted[r, gene_pos[gene]] = True
        base_sig[r] |= rng.random(g) < 0.3

    for k, cond in enumerate(CONDITIONS):
        crng = np.random.default_rng(seed + 101 * (k + 1))
        keep = crng.random((n, g)) < 0.85  # the two comparisons agree on most effects
        sig_i1 = (base_sig & keep) | planted
        i1 = np.where(sig_i1, crng.uniform(1e-4, 0.2, (n, g)), crng.uniform(0.26, 1.0, (n, g)))
        i1[planted] = crng.uniform(1e-5, 0.02, int(planted.sum()))
        deg_sig = sig_i1 | (crng.random((n, g)) < 0.08)
        fdr = np.where(deg_sig, crng.uniform(1e-5, 0.04, (n, g)), crng.uniform(0.1, 1.0, (n, g)))
        lfc = np.where(deg_sig, effect, crng.normal(0, 0.05, (n, g)))
        lfc[planted] = np.abs(effect[planted]) + 0.2
        mast_lfc = base_lfc + crng.normal(0, 0.03, n)
        mast_fdr = np.clip(np.exp(-np.abs(mast_lfc) * 40) * 2, 1e-6, 1.0)
        obs = pd.DataFrame(
            {
                "cell type": pd.Categorical([r[0] for r in rows], categories=list(cell_types)),
                "target": [r[1] for r in rows],
                "ligand": [r[1] in set(ligands) for r in rows],
                "receptor": [r[1] in set(receptors) for r in rows],
                "cell_type_dc1": dc1,
                "DA_score": da,
                # The study's second file also uses the first comparison's column names.
                "MAST_log2FC_highCIN_vs_lowCIN": mast_lfc,
                "MAST_fdr_highCIN_vs_lowCIN": mast_fdr,
            },
            index=[f"{ct}|{t}" for ct, t in rows],
        )
        adata = ad.AnnData(
            obs=obs,
            var=pd.DataFrame(index=genes),
            layers={
                "log2FC": lfc.astype(np.float32),
                "fdr": fdr.astype(np.float32),
                "fdr.i1": i1.astype(np.float32),
                "pval": (fdr / 5).astype(np.float32),
            },
        )
        _write_atomic(adata, directory / f"deg_{cond}.h5ad")

    # Expression: cells × genes counts; LR genes expressed in a cell-type-specific way.
    labels = np.repeat(np.array(cell_types, dtype=object), cells_per_type)
    prob = rng.beta(0.8, 2.0, (len(cell_types), g))
    for ct, lig in STRONG_LIGANDS:
        prob[cell_types.index(ct), gene_pos[lig]] = 0.7
    for ct, rec in [*EFFECT_SEEDS, *RESPONSIVE_RECEPTORS]:
        prob[cell_types.index(ct), gene_pos[rec]] = 0.6
    expressed = rng.random((len(labels), g)) < np.repeat(prob, cells_per_type, axis=0)
    counts = np.where(expressed, rng.poisson(3, (len(labels), g)) + 1, 0).astype(np.float32)
    expr = ad.AnnData(
        obs=pd.DataFrame(
            {"Cell Type": pd.Categorical(labels, categories=list(cell_types))},
            index=[f"cell{i}" for i in range(len(labels))],
        ),
        var=pd.DataFrame(index=genes),
        layers={"X": sp.csr_matrix(counts)},
    )
    _write_atomic(expr, directory / "expression.h5ad")

    config = directory / "ctsite.toml"
    tmp = config.with_name(".ctsite.toml.tmp")
    tmp.write_text(demo_config(), encoding="utf-8")
    os.replace(tmp, config)
    return config


def demo_config() -> str:
    """The ctsite.toml of the demo (paths relative to the demo folder)."""
    a, b = CONDITIONS
    return f"""# ctsite configuration of the synthetic demo dataset (written by `ctsite demo`).
compiled_dir = "compiled"

# The identity compiled into the store: `demo = true` puts a "synthetic demo data" notice on
# every page. Replace these with your study's texts (see the README's [site] keys).
[site]
title = "ContactTracing demo (synthetic data)"
subtitle = "Synthetic demo data: made up to show the site, not results of any study"
about = "This site shows a synthetic dataset that ctsite generates to demonstrate its figures. \
The cell types and ligand–receptor pairs have familiar names, but every value is made up: \
nothing here is a result of any study. Compile your own ContactTracing results to publish them."
demo = true

[data]
interactions = "interactions.tsv"
expression = "expression.h5ad"
cell_type_order = ["Macrophages/mMDSC", "Tumor cells", "Endothelial cells", "T cells",
                   "PMN/gMDSC", "B cells", "pDC", "cDC", "NK cells"]

[[data.conditions]]
name = "{a}"
file = "deg_{a}.h5ad"
label = "CIN-dependent interactions"

[[data.conditions]]
name = "{b}"
file = "deg_{b}.h5ad"
label = "STING-dependent interactions"

[[data.combined]]
name = "{COMBINED}"
of = ["{a}", "{b}"]
label = "CIN & STING-dependent interactions"
"""


def ensure_demo_store(directory: Path, jobs: int = 1) -> Path:
    """Write the demo inputs if missing and compile them (incremental); returns the store path."""
    from dataclasses import replace

    from ctsite.compile.build import compile_store
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.config import load_settings
    from ctsite.identity import figure_choices, site_identity

    config = directory / "ctsite.toml"
    if not config.is_file() or not (directory / "expression.h5ad").is_file():
        write_demo(directory)
    settings = load_settings(config_file=config, environ={})
    spec = parse_data_spec(settings.data, settings.root)
    # always marked synthetic, whatever an older demo folder's ctsite.toml says
    identity = replace(site_identity(settings), demo=True)
    result = compile_store(
        spec,
        settings.compiled_path,
        jobs=jobs,
        identity=identity,
        figures=figure_choices(settings),
    )
    return result.path

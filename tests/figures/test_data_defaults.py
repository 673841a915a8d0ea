"""Figure defaults from the data: on a study whose cell types and genes are not the demo's, every
figure's default view draws something; `[figures]` settings override; the Home numbers are a
hand count of the ligand–receptor list."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ctsite.compile.workflow import compile_data
from ctsite.config import load_settings
from ctsite.figures import FIGURES, parse_params
from ctsite.store import Store
from tests.support.datasets import write_deg, write_expression, write_lr

CELL_TYPES = ["Epi", "Fib", "Imm"]
OTHER = [f"g{i:02d}" for i in range(12)]
GENES = ["Aa", "Rz", "Lx", "Ry", *OTHER]
TARGETS = ["Aa", "Lx", "Rz", "Ry"]
# Aa→Rz (Rz never changes: no effect), Lx→Ry (Ry in Imm moves 16 genes), Lq→Ry (Lq not tested)
PAIRS = [("Aa", "Rz"), ("Lx", "Ry"), ("Lq", "Ry")]


def other_lab(root: Path, figures_toml: str = "") -> Path:
    """Three cell types and genes none of which the demo has; one condition."""
    root.mkdir(parents=True, exist_ok=True)
    write_lr(root / "lr.tsv", PAIRS)
    rows = [(ct, t) for ct in CELL_TYPES for t in TARGETS]
    n = len(rows)
    i1 = np.full((n, len(GENES)), 0.9)
    fdr = np.full((n, len(GENES)), 0.5)
    hot = rows.index(("Imm", "Ry"))
    i1[hot] = 0.001
    fdr[hot] = 0.001
    mast_fdr = [0.5 if t in ("Aa", "Rz") else 0.01 for _, t in rows]
    write_deg(
        root / "deg.h5ad", rows, GENES, fdr=fdr, i1=i1, ligands={"Aa", "Lx"},
        receptors={"Rz", "Ry"}, mast_lfc=[0.3] * n, mast_fdr=mast_fdr, comparison="A",
    )  # fmt: skip
    labels = [ct for ct in CELL_TYPES for _ in range(3)]
    counts = np.ones((len(labels), len(GENES)))
    counts[:, GENES.index("Lx")] = 0
    counts[3:6, GENES.index("Lx")] = 1  # Lx expressed in Fib only
    write_expression(root / "expr.h5ad", labels, GENES, counts)
    (root / "ctsite.toml").write_text(
        'compiled_dir = "out"\n[data]\ninteractions = "lr.tsv"\nexpression = "expr.h5ad"\n'
        '[[data.conditions]]\nname = "a"\nfile = "deg.h5ad"\n' + figures_toml
    )
    return root


def compiled(root: Path) -> Store:
    settings = load_settings(root=root, environ={})
    compile_data(settings)
    return Store.open(settings.compiled_path)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return compiled(other_lab(tmp_path_factory.mktemp("lab") / "mysite"))


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_default_view_of_another_labs_data_draws_something(store: Store, name: str) -> None:
    spec = FIGURES[name]
    result = spec.build(store, parse_params(spec, store, {}))
    assert result.message is None, result.message
    assert len(result.table) > 0


def test_the_derived_defaults_are_the_strongest_choices(store: Store) -> None:
    effects = parse_params(FIGURES["effects"], store, {})
    assert effects["seeds"] == ("Lx",)
    assert effects["cell_type"] == "Fib"  # where the seed is expressed
    pairwise = parse_params(FIGURES["pairwise"], store, {})
    assert (pairwise["cell_type1"], pairwise["cell_type2"]) == ("Epi", "Imm")


def test_figures_settings_override_the_derived_defaults(tmp_path: Path) -> None:
    toml = (
        '[figures]\neffects_cell_type = "Imm"\neffects_seeds = "Aa, Lx"\n'
        'pairwise_cell_type1 = "Fib"\npairwise_cell_type2 = "Imm"\n'
    )
    store = compiled(other_lab(tmp_path / "mysite", toml))
    effects = parse_params(FIGURES["effects"], store, {})
    assert (effects["cell_type"], effects["seeds"]) == ("Imm", ("Aa", "Lx"))
    pairwise = parse_params(FIGURES["pairwise"], store, {})
    assert (pairwise["cell_type1"], pairwise["cell_type2"]) == ("Fib", "Imm")


def test_a_figures_setting_naming_what_the_data_lacks_is_one_clear_error(tmp_path: Path) -> None:
    from ctsite.errors import CtsiteError

    root = other_lab(tmp_path / "mysite", '[figures]\neffects_cell_type = "Tumor cells"\n')
    with pytest.raises(CtsiteError, match=r"effects_cell_type.*'Tumor cells'"):
        compiled(root)


def test_home_counts_the_ligand_receptor_list(store: Store, tmp_path: Path) -> None:
    from ctsite.web.app import create_app

    app = create_app(load_settings(root=tmp_path, environ={}), store_path=store.path.parents[1])
    page = app.test_client().get("/").get_data(as_text=True)
    text = re.sub(r"\s+", " ", page)
    # by hand: Aa, Rz, Lx, Ry, Lq are in the list; Lq was never tested (no DEG row)
    assert "5 ligand/receptor genes (4 tested)" in text


def test_the_defaults_are_a_checked_file_of_the_version(store: Store) -> None:
    from ctsite.store import format as fmt

    assert fmt.FIGURE_DEFAULTS in store.manifest[fmt.FILES_KEY]  # the integrity check covers it
    assert store.figure_defaults is not None
    assert store.figure_defaults.effects_seeds == ("Lx",)


def test_a_figures_change_is_a_new_version_and_no_change_is_up_to_date(tmp_path: Path) -> None:
    root = other_lab(tmp_path / "mysite")
    settings = load_settings(root=root, environ={})
    assert compile_data(settings).status == "built"
    assert compile_data(settings).status == "up-to-date"
    toml = (root / "ctsite.toml").read_text() + '[figures]\neffects_seeds = "Aa"\n'
    (root / "ctsite.toml").write_text(toml)
    changed = load_settings(root=root, environ={})
    assert compile_data(changed).status == "built"
    defaults = Store.open(changed.compiled_path).figure_defaults
    assert defaults is not None and defaults.effects_seeds == ("Aa",)


def test_release_sees_a_figures_change_as_a_compile_to_do(tmp_path: Path) -> None:
    """`release` plans its compile step with the same check as `compile` ([figures] included)."""
    from ctsite.compile.workflow import store_up_to_date

    root = other_lab(tmp_path / "mysite")
    compile_data(load_settings(root=root, environ={}))
    assert store_up_to_date(load_settings(root=root, environ={}))
    toml = (root / "ctsite.toml").read_text() + '[figures]\npairwise_cell_type1 = "Fib"\n'
    (root / "ctsite.toml").write_text(toml)
    assert not store_up_to_date(load_settings(root=root, environ={}))


def test_a_figures_setting_whose_view_draws_nothing_is_a_compile_warning(tmp_path: Path) -> None:
    """A lab's own choice wins, but a seed that is a receptor (or cell types with no
    interaction) opened its page on "No effects pass these filters" without a word: the
    compile says which setting's default view draws nothing."""
    toml = (
        '[figures]\neffects_seeds = "Ry"\n'
        'pairwise_cell_type1 = "Imm"\npairwise_cell_type2 = "Epi"\n'
    )
    root = other_lab(tmp_path / "mysite", toml)
    result = compile_data(load_settings(root=root, environ={}))
    said = [w for w in result.warnings if w.startswith("[figures]")]
    assert len(said) == 2, result.warnings
    effects, pairwise = sorted(said)
    assert "effects_seeds = 'Ry'" in effects and "draws nothing" in effects
    assert "pairwise_cell_type1 = 'Imm'" in pairwise and "draws nothing" in pairwise
    assert all("\n" not in w for w in said)

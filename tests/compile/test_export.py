"""The tables of `ctsite export` (`ctsite.compile.export`) on a lab's own data."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.compile.export import export_table
from ctsite.compile.workflow import compile_data
from ctsite.config import load_settings
from ctsite.errors import CtsiteError
from ctsite.store import Store
from tests.figures.test_data_defaults import other_lab


def test_the_ligand_effects_hint_names_this_datas_cell_type_and_gene(tmp_path: Path) -> None:
    """`ctsite export ligand-effects` without --cell-type/--target suggested the CIN study's
    `--cell-type 'Tumor cells' --target Ccl2` on any lab's data: the example is this store's
    own (its Ligand-effects default view: a cell type and a seed it has)."""
    settings = load_settings(root=other_lab(tmp_path / "mysite"), environ={})
    compile_data(settings)
    store = Store.open(settings.compiled_path)
    with pytest.raises(CtsiteError) as info:
        export_table(store, "ligand-effects", None, 0.25, [], None)
    hint = info.value.hint or ""
    assert "Tumor cells" not in hint and "Ccl2" not in hint
    assert hint == "e.g. --cell-type Fib --target Lx", hint  # where the seed Lx is expressed

"""The ligand–receptor list is read whatever the spelling of its header line: a UTF-8 byte-order
mark (spreadsheets write one) and capitals (`Ligand<TAB>Receptor`) are the same header."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.compile.discover import discover
from ctsite.compile.inputs import read_interactions

PAIRS = "Ccl2\tCcr2\nCxcl12\tCxcr4\n"


@pytest.mark.parametrize(
    "header",
    ["ligand\treceptor", "\ufeffligand\treceptor", "Ligand\tReceptor", "\ufeffLIGAND\tRECEPTOR"],
)
def test_header_spellings_are_read_and_discovered(tmp_path: Path, header: str) -> None:
    path = tmp_path / "lr.tsv"
    path.write_text(f"{header}\n{PAIRS}", encoding="utf-8")
    pairs = read_interactions(path)
    assert pairs.to_dict("list") == {"ligand": ["Ccl2", "Cxcl12"], "receptor": ["Ccr2", "Cxcr4"]}
    found = discover(tmp_path)
    assert [i.path for i in found.interactions] == [path], found

"""The citation downloads built from a study's identity (`ctsite.web.citation`): whatever the
lab's texts hold, each file stays valid in its own format."""

from __future__ import annotations

from ctsite.store.identity import Identity
from ctsite.web.citation import bibtex


def test_bibtex_escapes_what_latex_would_read_as_markup() -> None:
    """A citation with "Smith & Jones" or "50% of cells" made a .bib entry that LaTeX cannot
    typeset (`&` is an alignment tab, `%` comments out the rest of the line): each special
    character is written as the command that prints it; the DOI (verbatim in biblatex) is not."""
    identity = Identity(
        title="Tregs & ILC2s: 100% of #1 hits_{x} cost $5 ~ ^",
        citation="Smith & Jones. {A} 50% atlas. J. Cells_Bio (2026).",
        doi="10.5555/cells_2026",
    )
    entry = bibtex(identity)
    assert (
        r"title = {Tregs \& ILC2s: 100\% of \#1 hits\_x cost \$5 \textasciitilde{} "
        r"\textasciicircum{}}" in entry
    )
    assert r"note = {Smith \& Jones. A 50\% atlas. J. Cells\_Bio (2026).}" in entry
    assert "doi = {10.5555/cells_2026}" in entry
    assert entry.count("{") == entry.count("}")

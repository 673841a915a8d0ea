"""The study's identity values (`ctsite.store.identity`): a DOI written the ways papers write
it is accepted and stored bare; what is not a DOI is one clear error."""

from __future__ import annotations

import pytest

from ctsite.errors import ConfigError
from ctsite.store.identity import normalise_doi


@pytest.mark.parametrize(
    "written",
    [
        "10.5555/liver.2026",
        " https://doi.org/10.5555/liver.2026 ",
        "doi:10.5555/liver.2026",
        "DOI: 10.5555/liver.2026",  # how journals print it: a space after the colon
        "doi: 10.5555/liver.2026",
        "https://dx.doi.org/10.5555/liver.2026",
    ],
)
def test_a_doi_as_papers_write_it_is_stored_bare(written: str) -> None:
    assert normalise_doi(written, "ctsite.toml") == "10.5555/liver.2026"


@pytest.mark.parametrize("written", ["see the paper", "10.5555", "https://example.org/10.5555/x"])
def test_what_is_not_a_doi_is_refused(written: str) -> None:
    with pytest.raises(ConfigError, match="is not a DOI"):
        normalise_doi(written, "ctsite.toml")

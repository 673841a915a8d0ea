"""The `[site]` settings as the study's identity (`ctsite.identity.site_identity`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.config import load_settings
from ctsite.errors import ConfigError
from ctsite.identity import site_identity


@pytest.mark.parametrize("title", ["", "   "])
def test_a_blank_title_is_one_clear_error(tmp_path: Path, title: str) -> None:
    """A blank [site] title compiled into a site with an empty heading and tab title, a JSON-LD
    Dataset without a name and a CITATION.cff without its required title."""
    (tmp_path / "ctsite.toml").write_text(f'[site]\ntitle = "{title}"\n')
    with pytest.raises(ConfigError) as info:
        site_identity(load_settings(root=tmp_path, environ={}))
    assert "title is empty" in info.value.message and "ctsite.toml" in info.value.message
    assert info.value.hint and "title" in info.value.hint

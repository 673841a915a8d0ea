"""The study the API shows is the site's: the identity and figure defaults compiled into the
store version (site.json, figure_defaults.json), read back through `CompiledStore`."""

from __future__ import annotations

import html
import json
from pathlib import Path

import ctsite.api as ct
from ctsite.store.figure_defaults import FigureDefaults
from ctsite.store.format import FIGURE_DEFAULTS, FILES_KEY, IDENTITY, MANIFEST, OBJECTS_DIR
from ctsite.store.identity import Identity
from ctsite.store.versions import version_path


def compiled_file(store: Path, name: str) -> bytes:
    """A file of the store's current version, found through its manifest's file map and read
    from disk (not through the reader)."""
    root = version_path(store)
    assert root is not None, store
    files = json.loads((root / MANIFEST).read_text())[FILES_KEY]
    return (store / OBJECTS_DIR / files[name]["object"]).read_bytes()


def test_identity_is_the_versions_site_json_and_the_home_page(api_store, demo_dir, client):
    identity = api_store.identity
    assert isinstance(identity, Identity)
    assert identity == Identity.from_json(compiled_file(demo_dir / "compiled", IDENTITY))
    assert identity.demo and identity.title == "ContactTracing demo (synthetic data)"
    home = client.get("/")
    assert home.status_code == 200
    assert html.escape(identity.title) in home.get_data(as_text=True)
    assert html.escape(identity.method_credit) in home.get_data(as_text=True)


def test_figure_defaults_are_the_versions_file(api_store, demo_dir):
    chosen = api_store.figure_defaults
    assert isinstance(chosen, FigureDefaults)
    on_disk = json.loads(compiled_file(demo_dir / "compiled", FIGURE_DEFAULTS))
    assert chosen.effects_seeds == tuple(on_disk["effects_seeds"]) and chosen.effects_seeds
    assert chosen.effects_cell_type == on_disk["effects_cell_type"] != ""
    assert (chosen.pairwise_cell_type1, chosen.pairwise_cell_type2) == (
        on_disk["pairwise_cell_type1"],
        on_disk["pairwise_cell_type2"],
    )


def test_figure_defaults_are_the_default_views_of_the_api_and_the_site(api_store, client):
    chosen = api_store.figure_defaults
    assert chosen is not None
    effects = api_store.parameters("effects")
    assert (effects["seeds"], effects["cell_type"]) == (
        chosen.effects_seeds,
        chosen.effects_cell_type,
    )
    pairwise = api_store.parameters("pairwise")
    assert (pairwise["cell_type1"], pairwise["cell_type2"]) == (
        chosen.pairwise_cell_type1,
        chosen.pairwise_cell_type2,
    )
    for name, params in (("effects", effects), ("pairwise", pairwise)):
        response = client.get(f"/api/figure/{name}")
        assert response.status_code == 200, response.json
        assert response.json["params"] == json.loads(json.dumps(params, default=list))


def test_figures_settings_reach_the_api(demo_dir, tmp_path):
    """`[figures]` choices are compiled into the version and the API reads them back."""
    config = tmp_path / "ctsite.toml"
    text = (demo_dir / "ctsite.toml").read_text()
    for key in ("interactions", "expression", "file"):  # the demo's inputs, where they are
        text = text.replace(f'\n{key} = "', f'\n{key} = "{demo_dir.as_posix()}/')
    config.write_text(
        text + '\n[figures]\neffects_seeds = "Apoe"\neffects_cell_type = "T cells"\n'
        'pairwise_cell_type1 = "T cells"\npairwise_cell_type2 = "NK cells"\n'
    )
    store = ct.compile_config(config, out=tmp_path / "compiled", jobs=1)
    assert store.figure_defaults == FigureDefaults(
        effects_cell_type="T cells",
        effects_seeds=("Apoe",),
        pairwise_cell_type1="T cells",
        pairwise_cell_type2="NK cells",
    )
    assert store.parameters("pairwise")["cell_type2"] == "NK cells"
    assert store.parameters("effects")["seeds"] == ("Apoe",)

"""`ctsite init`: a results folder → a commented ctsite.toml that `ctsite compile` accepts."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import anndata as ad
import pandas as pd
import pyarrow.feather as feather
import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.compile.demo import CELL_TYPES, CONDITIONS, ensure_demo_store
from ctsite.errors import ConfigError, InputError
from tests.support.cli import cli_env, run_ctsite

runner = CliRunner()
LOW, NOSTING = CONDITIONS


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    ensure_demo_store(folder)
    return folder


def results(demo: Path, where: Path, **renames: str | None) -> Path:
    """The demo inputs under other names (None leaves a file out), plus unrelated files."""
    names = {
        f"deg_{LOW}.h5ad": "cin.h5ad",
        f"deg_{NOSTING}.h5ad": "sting.h5ad",
        "expression.h5ad": "counts.h5ad",
        "interactions.tsv": "pairs.txt",
    }
    names.update(renames)
    where.mkdir(parents=True)
    for source, target in names.items():
        if target is not None:
            shutil.copy(demo / source, where / target)
    (where / "README.md").write_text("# my results\n")
    (where / "qc.csv").write_text("sample,cells\nA,100\n")
    return where


def init(cwd: Path, *args: str, input: str | None = None):
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, ["init", *args], input=input)
    finally:
        os.chdir(old)


def config(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_renamed_demo_then_compile(demo, tmp_path):
    folder = results(demo, tmp_path / "results")
    project = tmp_path / "project"
    project.mkdir()
    result = init(project, "../results", "--yes")
    assert result.exit_code == 0, result.output
    doc = config(project / "ctsite.toml")
    data = doc["data"]
    assert data["interactions"] == "../results/pairs.txt"
    assert data["expression"] == "../results/counts.h5ad"
    assert data["cell_type_order"] == list(CELL_TYPES)
    conds = data["conditions"]
    # Both files carry the first comparison's MAST columns, so the names come from the files.
    assert [c["name"] for c in conds] == ["cin", "sting"]
    assert [c["file"] for c in conds] == ["../results/cin.h5ad", "../results/sting.h5ad"]
    assert {c["log2fc_column"] for c in conds} == {f"MAST_log2FC_{LOW}"}
    assert data["combined"] == [{"of": ["cin", "sting"], "label": "cin & sting"}]
    assert set(doc["site"]) == {"title", "subtitle", "contact", "about"}
    assert "not an input          README.md" in result.output
    text = (project / "ctsite.toml").read_text()
    assert "# " in text and "edit" in text  # commented

    old = Path.cwd()
    os.chdir(project)
    try:
        compiled = runner.invoke(app, ["compile", "-q", "-j", "1"])
    finally:
        os.chdir(old)
    assert compiled.exit_code == 0, compiled.output
    from ctsite.store.reader import Store

    store = Store.open(project / "data" / "compiled")
    reference = Store.open(demo / "compiled")
    for cid in ("c1", "c2", "c3"):  # the same tables as the demo's own configuration gives
        mine = feather.read_feather(store.condition_file(store.condition(cid), "circos.feather"))
        theirs = reference.condition_file(reference.condition(cid), "circos.feather")
        pd.testing.assert_frame_equal(mine, feather.read_feather(theirs))
    assert folder.is_dir()


def test_names_are_asked_when_they_come_from_file_names(demo, tmp_path):
    results(demo, tmp_path / "r")
    result = init(tmp_path, "r", input="high_vs_low\n\nn\n")
    assert result.exit_code == 0, result.output
    assert "name this condition" in result.output
    data = config(tmp_path / "ctsite.toml")["data"]
    assert [c["name"] for c in data["conditions"]] == ["high_vs_low", "sting"]
    assert "combined" not in data


def two_pair_file(source: Path, target: Path) -> None:
    deg = ad.read_h5ad(source)
    deg.obs[f"MAST_log2FC_{NOSTING}"] = deg.obs[f"MAST_log2FC_{LOW}"] * 0.5
    deg.obs[f"MAST_fdr_{NOSTING}"] = deg.obs[f"MAST_fdr_{LOW}"]
    deg.write_h5ad(target)


@pytest.fixture
def several_pairs(demo, tmp_path) -> Path:
    folder = results(demo, tmp_path / "r", **{f"deg_{LOW}.h5ad": None, f"deg_{NOSTING}.h5ad": None})
    two_pair_file(demo / f"deg_{LOW}.h5ad", folder / "a.h5ad")
    two_pair_file(demo / f"deg_{NOSTING}.h5ad", folder / f"b_{NOSTING}.h5ad")
    return folder


def test_several_mast_pairs_are_asked(several_pairs, tmp_path):
    # a.h5ad: answer by number (2 = noSTING); b: by name (lowCIN); then the combined: yes.
    result = init(tmp_path, "r", input=f"2\n{LOW}\ny\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("MAST_log2FC_*/MAST_fdr_* column pairs; which comparison") == 2
    conds = config(tmp_path / "ctsite.toml")["data"]["conditions"]
    assert [(c["file"], c["name"], c["log2fc_column"], c["fdr_column"]) for c in conds] == [
        ("r/a.h5ad", NOSTING, f"MAST_log2FC_{NOSTING}", f"MAST_fdr_{NOSTING}"),
        (f"r/b_{NOSTING}.h5ad", LOW, f"MAST_log2FC_{LOW}", f"MAST_fdr_{LOW}"),
    ]


def test_several_mast_pairs_with_yes_take_the_proposal(several_pairs, tmp_path):
    result = init(tmp_path, "r", "--yes")
    assert result.exit_code == 0, result.output
    assert "(--yes)" in result.output
    conds = config(tmp_path / "ctsite.toml")["data"]["conditions"]
    # a.h5ad: the first pair; b_highCIN_vs_noSTING.h5ad: the pair its file name names.
    assert [(c["name"], c["fdr_column"]) for c in conds] == [
        (LOW, f"MAST_fdr_{LOW}"),
        (NOSTING, f"MAST_fdr_{NOSTING}"),
    ]
    assert config(tmp_path / "ctsite.toml")["data"]["combined"][0]["of"] == [LOW, NOSTING]


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ctsite(*args, cwd=cwd, env=cli_env(without=("CTSITE_",), COLUMNS="200"), timeout=120)


def test_a_missing_file_is_named_with_its_fix(demo, tmp_path):
    results(demo, tmp_path / "r", **{"expression.h5ad": None, "interactions.tsv": None})
    done = cli(tmp_path, "init", "r", "--yes")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    expression = [ln for ln in lines if "no expression file" in ln]
    pairs = [ln for ln in lines if "no ligand–receptor list" in ln]
    assert len(expression) == 1 and "fix: copy the AnnData" in expression[0]
    assert len(pairs) == 1 and "fix: copy the list the analysis used" in pairs[0]
    assert "2 problem(s)" in done.stderr and "no configuration written" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "ctsite.toml").exists()
    asked = init(tmp_path, "r", input="")  # without --yes: said before any question
    assert isinstance(asked.exception, InputError)
    assert "name this condition" not in asked.output and "no expression file" in asked.output


def test_malformed_inputs_are_named(demo, tmp_path):
    folder = results(demo, tmp_path / "r", **{"interactions.tsv": None})
    # the list without its header line; a DEG file without its interaction-test layer
    lines = (demo / "interactions.tsv").read_text().splitlines()[1:]
    (folder / "pairs.txt").write_text("\n".join(lines) + "\n")
    deg = ad.read_h5ad(folder / "sting.h5ad")
    del deg.layers["fdr.i1"]
    deg.write_h5ad(folder / "sting.h5ad")
    done = cli(tmp_path, "init", "r", "--yes")
    assert done.returncode == 2
    assert "pairs.txt: two tab-separated columns but no 'ligand<TAB>receptor' header" in done.stderr
    assert "add the line 'ligand<TAB>receptor' at the top of the file" in done.stderr
    assert "sting.h5ad: layer(s) missing: fdr.i1" in done.stderr
    assert not (tmp_path / "ctsite.toml").exists()


def test_cell_types_must_match_the_expression_file(demo, tmp_path):
    folder = results(demo, tmp_path / "r")
    expr = ad.read_h5ad(folder / "counts.h5ad")
    expr.obs["Cell Type"] = expr.obs["Cell Type"].cat.rename_categories({"T cells": "T-cells"})
    expr.write_h5ad(folder / "counts.h5ad")
    result = init(tmp_path, "r", "--yes")
    assert isinstance(result.exception, InputError)
    assert "cell type(s) 'T cells' are not in the expression file" in result.output


def test_an_existing_file_is_kept_unless_forced(demo, tmp_path):
    results(demo, tmp_path / "r")
    (tmp_path / "ctsite.toml").write_text("# mine\n")
    refused = init(tmp_path, "r", "--yes")
    assert isinstance(refused.exception, ConfigError)
    assert "already exists" in refused.exception.message
    assert (tmp_path / "ctsite.toml").read_text() == "# mine\n"
    forced = init(tmp_path, "r", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "ctsite.toml.bak").read_text() == "# mine\n"
    assert "[[data.conditions]]" in (tmp_path / "ctsite.toml").read_text()
    assert not list(tmp_path.glob(".ctsite.toml.tmp-*"))


def test_output_option_and_missing_folder(demo, tmp_path):
    results(demo, tmp_path / "r")
    done = init(tmp_path, "r", "--yes", "-o", str(tmp_path / "conf" / "site.toml"))
    assert done.exit_code == 0, done.output
    data = config(tmp_path / "conf" / "site.toml")["data"]
    assert data["expression"] == "../r/counts.h5ad"
    missing = init(tmp_path, "nowhere", "--yes")
    assert isinstance(missing.exception, InputError)
    assert "results folder not found" in missing.exception.message


def test_several_lists_and_expression_files(demo, tmp_path):
    folder = results(demo, tmp_path / "r")
    lines = (demo / "interactions.tsv").read_text().splitlines()
    (folder / "partial.tsv").write_text("\n".join(lines[:5]) + "\n")  # misses most targets
    expr = ad.read_h5ad(folder / "counts.h5ad")
    expr.obs = expr.obs.rename(columns={"Cell Type": "cell_type"})
    expr.write_h5ad(folder / "other_counts.h5ad")
    (folder / "counts.h5ad").unlink()
    shutil.copy(folder / "other_counts.h5ad", folder / "small.h5ad")
    small = ad.read_h5ad(folder / "small.h5ad")[::10].copy()  # every cell type, fewer cells
    small.write_h5ad(folder / "small.h5ad")
    # Proposals: the list covering the DEG targets, the expression file with the most cells.
    result = init(tmp_path, "r", "--yes")
    assert result.exit_code == 0, result.output
    assert "Several ligand–receptor lists were found" in result.output
    data = config(tmp_path / "ctsite.toml")["data"]
    assert data["interactions"] == "r/pairs.txt"
    assert data["expression"] == "r/other_counts.h5ad"
    assert data["expression_cell_type_column"] == "cell_type"
    import ctsite.api as ct

    store = ct.compile_config(tmp_path / "ctsite.toml", jobs=1)
    assert store.conditions == ["cin", "sting", "cin AND sting"]
    # Asked: choose by number.
    (tmp_path / "ctsite.toml").unlink()
    result = init(tmp_path, "r", input="1\n2\n\n\ny\n")
    assert result.exit_code == 0, result.output
    data = config(tmp_path / "ctsite.toml")["data"]
    assert (data["interactions"], data["expression"]) == ("r/pairs.txt", "r/small.h5ad")


def test_the_study_layout_gets_the_study_names(demo, tmp_path):
    """Both files carry the first comparison's MAST columns (as in the study): names from files."""
    result = init(tmp_path, str(demo), "--yes")  # the demo folder, its store and ctsite.toml too
    assert result.exit_code == 0, result.output
    data = config(tmp_path / "ctsite.toml")["data"]
    assert [c["name"] for c in data["conditions"]] == list(CONDITIONS)
    assert data["combined"][0]["of"] == list(CONDITIONS)
    assert "manifest.json" not in result.output  # the compiled store is not an input
    assert "not an input          ctsite.toml" in result.output


def test_control_characters_in_file_names_are_escaped_in_the_toml(demo, tmp_path):
    """A DEL (\\x7f) in a file name must be escaped, or init rejects its own configuration."""
    folder = results(demo, tmp_path / "r", **{f"deg_{NOSTING}.h5ad": "st\x7fing.h5ad"})
    (folder / "tab\there.txt").write_text("not an input\n")
    done = cli(tmp_path, "init", "r", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    data = config(tmp_path / "ctsite.toml")["data"]
    assert [c["file"] for c in data["conditions"]] == ["r/cin.h5ad", "r/st\x7fing.h5ad"]
    assert data["conditions"][1]["name"] == "st\x7fing"


def test_a_results_folder_named_with_control_characters(demo, tmp_path):
    """The folder's name goes into a comment line too: a newline or DEL must not break it."""
    results(demo, tmp_path / "my\nresults\x7f")
    done = cli(tmp_path, "init", "my\nresults\x7f", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    data = config(tmp_path / "ctsite.toml")["data"]
    assert data["expression"] == "my\nresults\x7f/counts.h5ad"


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_warning(demo, tmp_path):
    """A name no TOML file can hold: skipped, said (escaped), the rest configured."""
    folder = results(demo, tmp_path / "r")
    raw = os.fsencode(folder) + b"/deg_\xe9t\xe9.h5ad"
    with open(raw, "wb") as fh:  # a name no str path can spell
        fh.write((folder / "sting.h5ad").read_bytes())
    done = cli(tmp_path, "init", "r", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr
    assert "deg_\\xe9t\\xe9.h5ad" in done.stderr and "not valid UTF-8" in done.stderr
    data = config(tmp_path / "ctsite.toml")["data"]
    assert [c["file"] for c in data["conditions"]] == ["r/cin.h5ad", "r/sting.h5ad"]


def test_a_truncated_deg_file_stops_init_and_nothing_is_written(demo, tmp_path):
    """One DEG file cut short: one line naming it, a non-zero exit, no ctsite.toml (issue 24)."""
    folder = results(demo, tmp_path / "r")
    whole = (folder / "sting.h5ad").read_bytes()
    (folder / "sting.h5ad").write_bytes(whole[: len(whole) // 2])
    done = cli(tmp_path, "init", "r", "--yes")
    assert done.returncode != 0, done.stdout + done.stderr
    named = [ln for ln in done.stderr.splitlines() if "sting.h5ad" in ln]
    assert len(named) == 1 and "cannot be read" in named[0] and "fix:" in named[0]
    assert "no configuration written" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "ctsite.toml").exists()
    assert not list(tmp_path.glob(".ctsite.toml*"))


def test_init_proposes_a_title_from_the_project_folder(demo, tmp_path):
    """Never "ContactTracing results: results": the project's own name, humanised."""
    project = tmp_path / "lung_tumour-atlas"
    results(demo, project / "results")
    assert init(project, "results", "--yes").exit_code == 0
    assert config(project / "ctsite.toml")["site"]["title"] == "Lung tumour atlas"
    # run inside the results folder itself: the folder above names the study
    inside = project / "results"
    assert init(inside, ".", "--yes").exit_code == 0
    assert config(inside / "ctsite.toml")["site"]["title"] == "Lung tumour atlas"


def test_init_names_the_aws_resources_after_the_site(demo, tmp_path):
    """The AWS section: names derived from the site's slug, never the runbook's (issue 24)."""
    project = tmp_path / "Lung Tumour Atlas"
    results(demo, project / "results")
    assert init(project, "results", "--yes").exit_code == 0
    doc = config(project / "ctsite.toml")
    assert doc["beanstalk"] == {
        "application": "lung-tumour-atlas",
        "environment": "lung-tumour-atlas-env",
    }
    assert doc["provision"]["efs_name"] == "lung-tumour-atlas-data"
    assert doc["provision"]["staging_environment"] == "lung-tumour-atlas-staging"
    text = (project / "ctsite.toml").read_text()
    assert "Contacttracingsite" not in text and "contacttracing_site_fs" not in text
    assert "d6q7u0s0" not in text
    assert '# region = "' in text  # left to the user (a commented line)
    shown = cli(project, "config")
    assert shown.returncode == 0, shown.stderr
    assert "lung-tumour-atlas-env" in shown.stdout and "lung-tumour-atlas-data" in shown.stdout


def test_init_names_the_provision_stacks_after_the_site(demo, tmp_path):
    """The CloudFormation stacks carry the site's slug too: with the default prefix every site of
    an account and region shares the stack `ctsite-production`, so a second lab's `provision
    apply` would update the first lab's stack (its EFS, roles and environment) into its own."""
    project = tmp_path / "Lung Tumour Atlas"
    results(demo, project / "results")
    assert init(project, "results", "--yes").exit_code == 0
    assert config(project / "ctsite.toml")["provision"]["stack_prefix"] == "lung-tumour-atlas"
    from ctsite.config import load_settings
    from ctsite.deploy.provision.environments import resolve_environment

    settings = load_settings(root=project)
    assert resolve_environment(settings).stack_name == "lung-tumour-atlas-production"
    assert resolve_environment(settings, "staging").stack_name == "lung-tumour-atlas-staging"


def test_compile_without_a_configuration_suggests_init(tmp_path):
    done = cli(tmp_path, "compile")
    assert done.returncode != 0
    assert "ctsite init" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr

"""`ctsite export-site` as a user runs it: the demo's site written and summarised (text and
JSON); bad input (DIR a file, a folder of other files, no compiled store, a bad archive path)
is one error line and a non-zero exit, with nothing written."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support import cli


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ctsite ARGS` of this checkout in `root`, with no CTSITE_* variable of the caller."""
    return cli.run_ctsite(
        *args, cwd=root, env=cli.cli_env(without=("CTSITE_",), COLUMNS="200"), timeout=180
    )


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ctsite.compile.demo import ensure_demo_store

    return ensure_demo_store(tmp_path_factory.mktemp("demo"))


def one_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and needle in errors[0], result.stderr


def test_export_and_archive(tmp_path, demo_store):
    result = run(
        tmp_path, "export-site", "site", "--data", str(demo_store), "--archive", "site.zip"
    )
    assert result.returncode == 0, result.stderr
    assert "Exported store version v" in result.stdout and "5 pages" in result.stdout
    assert "Wrote site.zip" in result.stdout and "python3 -m http.server" in result.stdout
    for rel in (
        "index.html",
        "circos/index.html",
        "pairwise/index.html",
        "effects/index.html",
        "404.html",
    ):
        assert (tmp_path / "site" / rel).is_file()
    with zipfile.ZipFile(tmp_path / "site.zip") as zf:
        assert "site/README.txt" in zf.namelist() and "site/index.html" in zf.namelist()
    # again, into the previous export, as JSON
    again = run(tmp_path, "export-site", "site", "--data", str(demo_store), "--json")
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["replaced"] is True and doc["version"].startswith("v") and doc["archive"] is None


def test_the_configured_store_is_exported(tmp_path, demo_store):
    (tmp_path / "ctsite.toml").write_text(f'compiled_dir = "{demo_store}"\n')
    result = run(tmp_path, "export-site", "out")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "index.html").is_file()


def test_dir_is_a_file(tmp_path, demo_store):
    (tmp_path / "site").write_text("mine")
    one_error(run(tmp_path, "export-site", "site", "--data", str(demo_store)), "is a file")
    assert (tmp_path / "site").read_text() == "mine"


def test_a_folder_of_other_files(tmp_path, demo_store):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("mine")
    result = run(tmp_path, "export-site", "site", "--data", str(demo_store))
    one_error(result, "not empty and not a previous export")
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["notes.txt"]


def test_no_compiled_store(tmp_path):
    result = run(tmp_path, "export-site", "site")
    one_error(result, "no compiled store")
    assert "ctsite compile" in result.stderr  # the hint
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_bad_archive_path(tmp_path, demo_store):
    result = run(tmp_path, "export-site", "site", "--data", str(demo_store), "--archive", "a.tar")
    one_error(result, "must end in .zip")
    assert not (tmp_path / "site").exists()


def test_a_citable_study_exports_its_citation_files(small_dataset):
    root = small_dataset(site='citation = "Doe J et al. (2026) A study."\ndoi = "10.1234/abc"')
    compiled = run(root, "compile", "-q", "-j", "1")
    assert compiled.returncode == 0, compiled.stderr
    result = run(root, "export-site", "site", "--archive", "site.zip")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    cff = (site / "CITATION.cff").read_text()
    assert 'doi: "10.1234/abc"' in cff and "Doe J et al." in cff
    assert "10.1234/abc" in (site / "citation.bib").read_text()
    home = (site / "index.html").read_text()
    assert 'href="CITATION.cff"' in home and 'href="citation.bib"' in home
    with zipfile.ZipFile(root / "site.zip") as zf:
        assert zf.read("site/CITATION.cff").decode() == cff

"""The study's identity ([site] title, citation, DOI, …) travels with the compiled data.

A lab's project is compiled with its own [site] texts; the site is then served from the store
alone (another folder, no ctsite.toml: the Elastic Beanstalk case) and must speak for that lab's
paper. The ContactTracing paper appears only in the labelled method-credit line.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
import requests
import yaml
from flask.testing import FlaskClient

from ctsite.compile.workflow import compile_data
from ctsite.config import load_settings
from ctsite.store import Store
from ctsite.store import format as fmt
from tests.support.cli import start_ctsite, wait_healthy

CIN_DOI = "10.1038/s41586-023-06464-z"
LAB_SITE = """
title = "Wnt signalling in the intestinal crypt"
short_title = "Crypt Wnt"
citation = "Doe A., Roe B. Wnt niches of the crypt. Cell Reports (2025)."
doi = "https://doi.org/10.5555/crypt.2025.01"
data_links = "GEO GSE000001=https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE000001"
license = "CC-BY-4.0"
contact = "lab@example.org"
"""
TITLE = "Wnt signalling in the intestinal crypt"
LAB_DOI = "10.5555/crypt.2025.01"


def compile_project(root: Path):
    return compile_data(load_settings(root=root, environ={}))


@pytest.fixture
def lab(small_dataset) -> Path:
    root = small_dataset(site=LAB_SITE)
    assert compile_project(root).status == "built"
    return root


def client_for(store: Path, tmp_path: Path) -> FlaskClient:
    """The site over `store`, run from a folder with no ctsite.toml (settings all defaults)."""
    from ctsite.web.app import create_app

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return create_app(load_settings(root=elsewhere, environ={}), store_path=store).test_client()


def method_lines(html: str) -> list[str]:
    return [line for line in html.splitlines() if CIN_DOI in line]


def test_home_speaks_for_the_labs_study_from_the_store_alone(lab: Path, tmp_path: Path) -> None:
    client = client_for(lab / "out", tmp_path)
    home = client.get("/").get_data(as_text=True)
    assert TITLE in home
    assert "Doe A., Roe B. Wnt niches of the crypt." in home
    assert f'href="https://doi.org/{LAB_DOI}"' in home
    assert "GEO GSE000001" in home and "CC-BY-4.0" in home
    # the CIN paper only as the method, in its own labelled line
    lines = method_lines(home)
    assert lines and all("Method:" in line for line in lines), lines
    assert "Hubisz" not in home
    assert f'<a class="button" href="https://doi.org/{LAB_DOI}">Read the paper</a>' in home
    assert "tumour" not in home.lower()
    for url in ("/circos", "/pairwise", "/effects"):
        page = client.get(url).get_data(as_text=True)
        assert "Crypt Wnt</title>" in page and "tumour" not in page.lower()  # the short title
        assert all("Method:" in line for line in method_lines(page))
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert CIN_DOI not in missing.get_data(as_text=True)


def test_no_paper_button_or_citation_when_none_is_set(small_dataset, tmp_path: Path) -> None:
    root = small_dataset()
    compile_project(root)
    client = client_for(root / "out", tmp_path)
    home = client.get("/").get_data(as_text=True)
    assert "Read the paper" not in home and "Please cite" not in home
    assert all("Method:" in line for line in method_lines(home))
    assert client.get("/CITATION.cff").status_code == 404
    assert client.get("/citation.bib").status_code == 404


def test_a_new_identity_reaches_a_running_site_with_the_pointer_switch(
    lab: Path, tmp_path: Path
) -> None:
    client = client_for(lab / "out", tmp_path)
    assert TITLE in client.get("/").get_data(as_text=True)
    toml = lab / "ctsite.toml"
    toml.write_text(toml.read_text().replace(TITLE, "Crypt niches, second release"))
    assert compile_project(lab).status == "built"  # the identity is part of the compile key
    home = client.get("/").get_data(as_text=True)
    assert "Crypt niches, second release" in home and TITLE not in home


def test_a_tampered_identity_file_is_a_store_problem(lab: Path, tmp_path: Path) -> None:
    store = lab / "out"
    client = client_for(store, tmp_path)
    assert client.get("/healthz").status_code == 200
    victim = Store.open(store).file(fmt.IDENTITY)
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("Wnt", "Foo"), encoding="utf-8")  # same size, other bytes
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json["reasons"] == ["object-changed"]


def test_json_ld_and_citation_files_carry_the_citation(lab: Path, tmp_path: Path) -> None:
    client = client_for(lab / "out", tmp_path)
    home = client.get("/").get_data(as_text=True)
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', home, re.S)
    assert found
    doc = json.loads(found.group(1))
    assert doc["@type"] == "Dataset" and doc["name"] == TITLE
    assert doc["citation"] == "Doe A., Roe B. Wnt niches of the crypt. Cell Reports (2025)."
    assert doc["identifier"] == f"https://doi.org/{LAB_DOI}"
    assert doc["license"] == "CC-BY-4.0"
    cff = client.get("/CITATION.cff")
    assert cff.status_code == 200 and cff.mimetype == "application/x-yaml"
    parsed = yaml.safe_load(cff.get_data(as_text=True))
    assert parsed["title"] == TITLE and parsed["doi"] == LAB_DOI
    assert parsed["cff-version"] == "1.2.0"
    bib = client.get("/citation.bib")
    assert bib.status_code == 200 and bib.mimetype == "application/x-bibtex"
    assert f"doi = {{{LAB_DOI}}}" in bib.get_data(as_text=True)


def test_json_ld_cannot_be_broken_out_of(small_dataset, tmp_path: Path) -> None:
    root = small_dataset(site=LAB_SITE.replace("Wnt niches", "</script><script>alert(1)</script>"))
    compile_project(root)
    home = client_for(root / "out", tmp_path).get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in home
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', home, re.S)
    assert found and "alert(1)" in json.loads(found.group(1))["citation"]


def test_every_demo_page_says_the_data_is_synthetic(client: FlaskClient) -> None:
    for url in ("/", "/circos", "/pairwise", "/effects", "/no-such-page"):
        page = client.get(url).get_data(as_text=True)
        assert "synthetic demo data" in page.lower(), url
        assert "Please cite" not in page


def test_a_store_without_an_identity_shows_the_settings(small_dataset, tmp_path: Path) -> None:
    """Stores compiled before the identity travelled with the data: the server's [site] texts."""
    from ctsite.compile.build import compile_store
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.web.app import create_app

    root = small_dataset()
    s = load_settings(root=root, environ={})
    store = compile_store(parse_data_spec(s.data, s.root), s.compiled_path, jobs=1).path
    assert Store.open(store).identity is None
    settings = load_settings(
        root=tmp_path, environ={}, overrides={"site_title": "Old store", "site_doi": LAB_DOI}
    )
    client = create_app(settings, store_path=store).test_client()
    home = client.get("/").get_data(as_text=True)
    assert "Old store" in home and f"https://doi.org/{LAB_DOI}" in home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ctsite_serve_from_another_folder_shows_the_labs_identity(
    lab: Path, tmp_path: Path
) -> None:
    """The production case: a server started where no ctsite.toml is, on the uploaded store."""
    elsewhere = tmp_path / "server"
    elsewhere.mkdir()
    port = free_port()
    proc = start_ctsite("serve", "--port", str(port), "--data", str(lab / "out"), cwd=elsewhere)
    try:
        assert wait_healthy(proc, port) is not None, proc.communicate(timeout=10)
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=10).text
        assert TITLE in home and f"https://doi.org/{LAB_DOI}" in home
        assert all("Method:" in line for line in method_lines(home))
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('doi = "not a doi"', "doi = 'not a doi' is not a DOI"),
        ('paper_url = "javascript:alert(1)"', "paper_url = 'javascript:alert(1)' is not an http"),
        ('data_links = "GEO"', "data_links entry 'GEO' is not label=URL"),
    ],
)
def test_a_bad_identity_value_is_one_line_and_nothing_compiled(
    small_dataset, line: str, said: str
) -> None:
    from tests.support.cli import run_ctsite

    key = line.split(" = ")[0]
    site = re.sub(rf"^{key} = .*$", "", LAB_SITE, flags=re.M)
    root = small_dataset(site=f"{line}\n{site}")
    done = run_ctsite("compile", cwd=root)
    assert done.returncode != 0
    assert said in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (root / "out").exists()

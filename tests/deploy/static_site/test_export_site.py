"""The export workflow on the demo store, with the real website as its source: the data folder
(the engine's contract), the pages (the server's own, every URL relative and resolvable), the
files they load, the archive, and the destination rules (a failed export changes nothing)."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from ctsite.deploy.static_site.destination import MARKER
from ctsite.deploy.static_site.export_site import ExportResult, export_site
from ctsite.deploy.static_site.rewrite import PAGE_DATA, absolute_urls
from ctsite.errors import CtsiteError, StoreError
from ctsite.figures import FIGURES
from ctsite.figures.browser_spec import figure_spec
from ctsite.store import Store
from ctsite.store import format as fmt
from ctsite.web.snapshot import AppSnapshot
from tests.deploy.static_site.conftest import plain_settings, without_url_line

PAGES = ["index.html", *(f"{name}/index.html" for name in FIGURES), "404.html"]
URL_ATTRIBUTE = re.compile(r'\s(?:href|src|srcset|action)="([^"]*)"')


def source_for(root: Path, **options):
    return partial(AppSnapshot, plain_settings(root), **options)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, demo_store) -> tuple[Path, ExportResult]:
    root = tmp_path_factory.mktemp("export")
    result = export_site(
        root / "site", demo_store, source_for(root), archive=root / "demo-site.zip"
    )
    return root / "site", result


@pytest.fixture(scope="module")
def index(exported) -> tuple[Path, dict]:
    site, _ = exported
    [path] = (site / "data").glob("store.*.json")
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_data_index_is_the_contract(index, demo_store):
    path, doc = index
    store = Store.open(demo_store)
    assert path.name == f"store.{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.json"
    assert doc["index_version"] == 2
    assert doc["version"] == store.version
    assert doc["manifest"] == {k: v for k, v in store.manifest.items() if k != fmt.FILES_KEY}
    # every store file the figures read: whole, or in blocks of rows (the per-entry
    # ligand-effects arrays of each single condition); the circos tables also in projections
    singles = [c.id for c in store.conditions if c.kind == "single"]
    blocked = {
        f"conditions/{c}/{name}"
        for c in singles
        for name in [fmt.EFFECT_GENES, *(e.file for e in fmt.EFFECT_LAYERS)]
    }
    assert set(doc["effects_rows"]) == set(singles)
    assert set(doc["files"]) == set(store.expected_files()) - blocked
    assert set(doc["projections"]) == {f"conditions/{c.id}/{fmt.CIRCOS}" for c in store.conditions}
    assert doc["identity"] == json.loads(store.file_bytes(fmt.IDENTITY))
    assert doc["figure_defaults"] == json.loads(store.file_bytes(fmt.FIGURE_DEFAULTS))
    assert doc["spec"] == figure_spec()


def test_data_files_are_content_named_and_read_directly(index, demo_store):
    path, doc = index
    store = Store.open(demo_store)
    for rel, name in doc["files"].items():
        data = (path.parent / name).read_bytes()  # (names are relative to the index's folder)
        assert name == hashlib.sha256(data).hexdigest() + (
            ".arrow" if rel.endswith(".feather") else ".npy"
        )
        original = store.file_bytes(rel)
        if rel.endswith(".npy"):
            assert data == original  # verbatim
            continue
        table = pa.ipc.open_file(pa.BufferReader(data)).read_all()  # Arrow IPC file format
        # the same table, its text columns dictionary-encoded (read back as the same text)
        source = feather.read_table(pa.BufferReader(original))
        assert table.column_names == source.column_names
        for name in table.column_names:
            column, expected = table[name], source[name]
            if pa.types.is_string(expected.type):
                assert pa.types.is_dictionary(column.type), (rel, name)
                column = column.cast(expected.type)
            assert column.equals(expected), (rel, name)
        # uncompressed: every numeric column's values are in the file as they are in memory
        for column in table.columns:
            if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
                values = np.asarray(column.to_numpy(zero_copy_only=False)).tobytes()
                if len(values) >= 64:
                    assert values in data, (rel, column)


def test_projections_are_the_effects_columns_of_the_circos_tables(index):
    """What the Effects page reads of a circos table, as a file of its own: the same columns
    (dictionaries and all) as the whole table's, content-named."""
    path, doc = index
    for rel, [projection] in doc["projections"].items():
        data = (path.parent / projection["file"]).read_bytes()
        assert projection["file"] == hashlib.sha256(data).hexdigest() + ".arrow"
        table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
        whole = pa.ipc.open_file(pa.BufferReader((path.parent / doc["files"][rel]).read_bytes()))
        assert projection["columns"] == table.column_names
        assert sorted(table.column_names) == sorted(fmt.EFFECTS_CIRCOS_COLUMNS)
        assert table.equals(whole.read_all().select(projection["columns"]))


def test_pages_are_the_servers_with_relative_urls(exported, server_client, index):
    site, result = exported
    assert list(result.pages) == PAGES
    for rel in PAGES:
        text = (site / rel).read_text(encoding="utf-8")
        assert absolute_urls(text) == [], rel
        # the data index, named relative to the page
        meta = re.search(r'<meta name="ctsite-data" content="([^"]*)">', text)
        assert meta and (site / rel).parent.joinpath(meta.group(1)).resolve() == index[0].resolve()
        # every URL of the site resolves to a file of the export
        urls = URL_ATTRIBUTE.findall(text)
        data = PAGE_DATA.search(text)
        if data:
            urls.append(json.loads(data.group(2))["plotly"])
        for url in urls:
            url = url.replace("&amp;", "&")
            if urlsplit(url).scheme or url.startswith(("#", "mailto:")):
                continue
            target = (site / rel).parent / urlsplit(url).path
            assert target.is_file(), (rel, url)
        # and otherwise it is the server's page, byte for byte
        server_url = {"index.html": "/", "404.html": "/no/such/page"}.get(
            rel, "/" + rel[: -len("/index.html")]
        )
        server = server_client.get(server_url).get_data(as_text=True)
        blank = lambda page: PAGE_DATA.sub("", URL_ATTRIBUTE.sub(" url", page))  # noqa: E731
        assert blank(re.sub(r'<meta name="ctsite-[a-z]+" content="[^"]*">\n', "", text)) == blank(
            server
        )


def test_long_cached_files_are_named_by_their_content(exported):
    site, _ = exported
    named = [
        p for folder in ("static", "pictures") for p in (site / folder).rglob("*") if p.is_file()
    ]
    assert {p.name.split(".")[0] for p in named} >= {"style", "figure", "favicon", "circos"}
    assert any(p.name.startswith("plotly") for p in named)
    for path in named:
        digest = path.name.split(".")[-2]
        assert digest == hashlib.sha256(path.read_bytes()).hexdigest()[:16], path


def test_pictures_and_csvs_equal_the_servers(exported, server_client):
    site, _ = exported
    page = (site / "circos" / "index.html").read_text(encoding="utf-8")
    query = re.search(r'id="figure-static" class="[^"]*" data-query="([^"]*)"', page).group(1)
    query = query.replace("&amp;", "&")
    for size in ("desktop", "tablet", "phone"):
        [picture] = (site / "pictures").glob(f"circos.{size}.*.svg")
        server = server_client.get(f"/api/picture/circos.svg?{query}&size={size}")
        assert picture.read_bytes() == server.get_data()
    for figure in FIGURES:
        page = (site / figure / "index.html").read_text(encoding="utf-8")
        href = re.search(r'id="download-csv" class="button" href="([^"]*)"', page).group(1)
        csv = (site / figure / href).resolve()
        query = re.search(r'data-query="([^"]*)"', page).group(1).replace("&amp;", "&")
        server = server_client.get(f"/api/data/{figure}.csv?{query}")
        assert csv.name == server.headers["Content-Disposition"].split('"')[1]
        lines, url = without_url_line(csv.read_bytes())
        server_lines, server_url = without_url_line(server.get_data())
        assert lines == server_lines
        # the page on the static site, with the view's parameters as the server names them
        assert url == f"{figure}/index.html?".encode() + server_url.split(b"?", 1)[1]


def test_no_precomputed_figures_and_no_citation_without_one(exported):
    site, _ = exported
    assert not any("figures" in p.parts for p in (site / "data").rglob("*"))
    assert not (site / "CITATION.cff").exists()  # the demo names no citation or DOI
    assert "CITATION.cff" not in (site / "index.html").read_text(encoding="utf-8")


def test_the_archive(exported, demo_store):
    site, result = exported
    store = Store.open(demo_store)
    assert result.archive is not None and result.archive_bytes == result.archive.stat().st_size
    with zipfile.ZipFile(result.archive) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        assert all(n.startswith("demo-site/") for n in names)  # one top folder
        files = {n[len("demo-site/") :] for n in names}
        on_disk = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
        assert files == (on_disk - {MARKER}) | {"README.txt", "manifest.json", "CITATION.cff"}
        readme = zf.read("demo-site/README.txt").decode()
        assert str(store.version) in readme and "python3 -m http.server" in readme
        assert "file://" in readme and "does not work" in readme
        assert json.loads(zf.read("demo-site/manifest.json")) == store.manifest
        assert zf.read("demo-site/CITATION.cff").startswith(b'cff-version: "1.2.0"')
        for rel in ("index.html", "circos/index.html"):
            assert zf.read(f"demo-site/{rel}") == (site / rel).read_bytes()


def test_a_previous_export_is_replaced_whole(tmp_path, demo_store):
    site = tmp_path / "site"
    first = export_site(site, demo_store, source_for(tmp_path))
    assert not first.replaced
    stale = site / "static" / "old.0123456789abcdef.css"  # a file only the old export had
    stale.write_text("old")
    marker = json.loads((site / MARKER).read_text())
    marker["files"].append("static/old.0123456789abcdef.css")
    (site / MARKER).write_text(json.dumps(marker))
    second = export_site(site, demo_store, source_for(tmp_path))
    assert second.replaced and not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no temporary folder left


def test_an_empty_folder_is_filled(tmp_path, demo_store):
    (tmp_path / "site").mkdir()
    export_site(tmp_path / "site", demo_store, source_for(tmp_path))
    assert (tmp_path / "site" / "index.html").is_file()


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_text("x"), "is a file, not a folder"),
        (
            lambda p: (p.mkdir(), (p / "notes.txt").write_text("mine")),
            "not empty and not a previous export",
        ),
    ],
)
def test_a_folder_that_is_not_ours_is_refused(tmp_path, demo_store, make, needle):
    site = tmp_path / "site"
    make(site)
    before = sorted(p.as_posix() for p in tmp_path.rglob("*"))
    with pytest.raises(CtsiteError, match=needle):
        export_site(site, demo_store, source_for(tmp_path))
    assert sorted(p.as_posix() for p in tmp_path.rglob("*")) == before


def test_a_previous_export_with_foreign_files_is_refused(tmp_path, demo_store):
    site = tmp_path / "site"
    export_site(site, demo_store, source_for(tmp_path))
    (site / "CNAME").write_text("lab.example.org\n")
    with pytest.raises(CtsiteError, match=r"did not write \(e\.g\. CNAME\)"):
        export_site(site, demo_store, source_for(tmp_path))
    assert (site / "CNAME").read_text() == "lab.example.org\n"


def test_no_store_is_one_error_and_nothing_written(tmp_path):
    with pytest.raises(StoreError, match="no compiled store"):
        export_site(tmp_path / "site", tmp_path / "nothing", source_for(tmp_path))
    assert list(tmp_path.iterdir()) == []


class FailingSource:
    """The website, until the effects page is asked for."""

    def __init__(self, inner: AppSnapshot) -> None:
        self.inner = inner

    def get(self, url: str):
        if url.startswith("/effects"):
            raise CtsiteError("the effects page failed")
        return self.inner.get(url)

    def engine_bundle(self):
        return self.inner.engine_bundle()

    def citation(self) -> str:
        return self.inner.citation()


def test_a_failed_export_leaves_the_previous_one(tmp_path, demo_store):
    site = tmp_path / "site"
    export_site(site, demo_store, source_for(tmp_path))
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    failing = lambda path: FailingSource(AppSnapshot(plain_settings(tmp_path), path))  # noqa: E731
    with pytest.raises(CtsiteError, match="effects page failed"):
        export_site(site, demo_store, failing)
    assert {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_archive_paths_refused_before_anything_is_written(tmp_path, demo_store):
    for archive, needle in (
        (tmp_path / "site.tar", "must end in .zip"),
        (tmp_path / "missing" / "site.zip", "does not exist"),
        (tmp_path / "site" / "site.zip", "inside the site folder"),
    ):
        with pytest.raises(CtsiteError, match=needle):
            export_site(tmp_path / "site", demo_store, source_for(tmp_path), archive=archive)
        assert not (tmp_path / "site").exists()


def test_the_engine_bundle_is_named_on_the_figure_pages(tmp_path, demo_store):
    engine = tmp_path / "ctsite-engine.js"
    engine.write_text("window.ctsiteEngine = {};\n")
    site = tmp_path / "site"
    result = export_site(site, demo_store, source_for(tmp_path, engine=engine))
    assert result.engine
    [copied] = (site / "static" / "vendor").glob("ctsite-engine.*.js")
    assert copied.read_bytes() == engine.read_bytes()
    for figure in FIGURES:
        text = (site / figure / "index.html").read_text(encoding="utf-8")
        meta = re.search(r'<meta name="ctsite-engine" content="([^"]*)">', text).group(1)
        assert (site / figure / meta).resolve() == copied.resolve()
    assert "ctsite-engine" not in (site / "index.html").read_text(encoding="utf-8")


def test_a_store_without_engine_still_exports(tmp_path, demo_store):
    result = export_site(
        tmp_path / "site", demo_store, source_for(tmp_path, engine=tmp_path / "none.js")
    )
    assert not result.engine
    assert not list((tmp_path / "site").rglob("ctsite-engine*"))
    assert (tmp_path / "site" / "404.html").read_bytes().startswith(b"<!doctype html>")


def test_what_a_killed_export_left_is_removed(tmp_path, demo_store):
    from tests.support.cli import run_python

    dead = run_python("-c", "import os; print(os.getpid())", cwd=tmp_path)
    pid = int(dead.stdout)  # a process that has ended
    left = [tmp_path / f".site.tmp-{pid}", tmp_path / f".site.old-{pid}"]
    alive = tmp_path / ".site.tmp-1"  # (pid 1 is alive: never touched)
    for path in [*left, alive]:
        path.mkdir()
        (path / "index.html").write_text("half")
    export_site(tmp_path / "site", demo_store, source_for(tmp_path))
    assert not any(path.exists() for path in left)
    assert alive.exists()

"""The journey of issue 26's "Done when": the static site from a pip-installed ctsite.

The wheel built from this checkout (tests/distribution/conftest.py, as scripts/release.sh
builds it) is installed into a fresh virtualenv outside the source tree (test_another_lab.py's
fixture). In an empty folder: `ctsite demo` → `ctsite export-site` → a plain static file server
(`python -m http.server`) with the site under a path prefix → Chromium opens every page, changes
one control of each figure (the figure drawn equals what the installed `ctsite serve` answers at
/api/figure for the same query), downloads the Circos CSV (equal to the server's CSV for the
same URL but its `url` line) — and no request goes to anything but the static server.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests.deploy.static_site.conftest import without_url_line
from tests.deploy.static_site.test_served_site import (
    PAGES,
    Visit,
    assert_drawn_as_server,
    change,
    download,
    wait_drawn,
)
from tests.distribution.conftest import BUILD_SECONDS as WHEEL_SECONDS
from tests.distribution.test_another_lab import installed  # the wheel in a fresh virtualenv
from tests.support.cli import Installed, stop_process, wait_healthy
from tests.support.static_host import free_port, static_host
from tests.web.test_browser import browser  # Chromium as the site's tests run it

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(WHEEL_SECONDS + 300)]
__all__ = ["browser", "installed"]  # (fixtures of this module's tests)

PREFIX = "lab/site"  # where the site is served: /lab/site/
ONE_CHANGE = {  # figure → (control, value), the Circos last: its CSV is downloaded
    "pairwise": ("bidirectional", True),
    "effects": ("steps", "3"),
    "circos": ("fdr_i", "0.1"),
}


@dataclass
class Answer:
    """An answer of the running server, read like the Flask test client's (the helpers of
    test_served_site.py take either)."""

    response: requests.Response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Any:
        return self.response.headers

    def get_json(self) -> Any:
        return self.response.json()

    def get_data(self) -> bytes:
        return self.response.content


@dataclass
class Server:
    """The installed `ctsite serve` over the same store: the answers the static site must equal."""

    base: str

    def get(self, path: str) -> Answer:
        return Answer(requests.get(self.base + path, timeout=60))


@pytest.fixture(scope="module")
def lab(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The lab's folder, with the demo compiled by the installed ctsite; (folder, store)."""
    folder = tmp_path_factory.mktemp("static-lab")
    made = installed.run_ctsite(
        "demo", "demo", cwd=folder, env={**installed.env(), "COLUMNS": "500"}
    )
    assert made.returncode == 0, made.stdout + made.stderr
    stores = [p.parent for p in (folder / "demo").rglob("manifest.json")]
    assert stores, made.stdout
    return folder, folder / "demo"


def test_the_static_site_from_the_installed_wheel(installed: Installed, lab, browser, tmp_path):
    folder, demo = lab
    # where the module ctsite runs from: the virtualenv, not this checkout
    where = installed.run_python("-c", "import ctsite; print(ctsite.__file__)", cwd=folder)
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout
    root = tmp_path / "host"
    exported = installed.run_ctsite(
        "export-site", str(root / PREFIX), cwd=demo, env={**installed.env(), "COLUMNS": "500"}
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "not built" not in exported.stdout + exported.stderr  # the wheel carries the engine
    assert list((root / PREFIX / "static/vendor").glob("ctsite-engine.*.js"))

    server_port = free_port()
    log = (tmp_path / "serve.log").open("w")
    serve = installed.start_ctsite(
        "serve", "--port", str(server_port), cwd=demo, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        with static_host(root) as origin:
            visit = Visit(browser, origin)
            try:
                assert wait_healthy(serve, server_port, timeout=120) is not None, (
                    tmp_path / "serve.log"
                ).read_text()
                server = Server(f"http://127.0.0.1:{server_port}")
                check_pages(visit, f"{origin}{PREFIX}/", server)
            finally:
                visit.context.close()
    finally:
        stop_process(serve)
        log.close()


def check_pages(visit: Visit, base: str, server: Server) -> None:
    page = visit.page
    for rel in PAGES:
        response = page.goto(urljoin(base, rel))
        assert response is not None and response.status == 200, rel
    for figure, (control, value) in ONE_CHANGE.items():
        page.goto(urljoin(base, f"{figure}/index.html"))
        page.hover(".figure-wrap")  # the first interaction: the engine computes the figure
        drawn = wait_drawn(page)
        assert_drawn_as_server(page, server, figure)
        change(page, control, value)
        page.click("#submit")
        wait_drawn(page, drawn)
        query = assert_drawn_as_server(page, server, figure)
        assert control in query
        if figure == "circos":  # the download: the server's CSV for the same URL
            expected = server.get(f"/api/data/circos.csv?{query}")
            name, csv = download(page, "#download-csv")
            assert name == expected.headers["Content-Disposition"].split('"')[1]
            got_lines, got_url = without_url_line(csv)
            want_lines, want_url = without_url_line(expected.get_data())
            assert got_lines == want_lines
            page_url = urljoin(base, "circos/index.html").encode()  # the static page's address
            assert got_url == page_url + b"?" + want_url.split(b"?", 1)[1]
    visit.check_clean(base)

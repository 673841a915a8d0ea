"""The same engine code in Chromium: the store reader and the parameters, bundled by esbuild,
read the static-site data folder served by `python -m http.server` through the browser's
fetch (and its Web Crypto hash check), and answer as the Python code does."""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.cases import HAND_PICKED, effects_calls, name_calls, parse_call, table_calls
from tests.engine.conftest import Site
from tests.support.components import require_module, unavailable
from tests.support.engine import REPO, WEB_ASSETS, assert_same, node, run_python
from tests.support.static_host import static_host

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PAGE = '<!doctype html><meta charset="utf-8"><title>engine</title><script type="module" src="engine-test.js"></script>\n'


def _bundle(out: Path) -> None:
    """esbuild (web-assets' devDependency) bundles the engine and the test calls for the page."""
    node()  # skips (fails under CI) without node or the npm packages
    esbuild = WEB_ASSETS / "node_modules" / ".bin" / "esbuild"
    done = subprocess.run(
        [str(esbuild), str(REPO / "tests" / "engine" / "browser_entry.mjs"), "--bundle",
         "--format=esm", f"--outfile={out}", "--log-level=warning"],
        capture_output=True, text=True, timeout=300, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def served(demo_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo's data folder, the bundle and a page, on a plain static file server."""
    root = tmp_path_factory.mktemp("engine-page")
    shutil.copytree(demo_site.index.parent, root / "data")
    _bundle(root / "engine-test.js")
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    with static_host(root) as base:
        yield base.rstrip("/")


def test_the_engine_in_chromium_answers_as_python(served: str, demo_site: Site) -> None:
    if not Path(CHROMIUM).exists():
        unavailable("chromium is not installed (apt-get install chromium)")
    sync_api = require_module("playwright.sync_api", "pip install playwright")
    store = demo_site.store
    calls = name_calls(store) + table_calls(store) + effects_calls(store, random.Random(5))
    calls += [parse_call(figure, q) for figure, batch in HAND_PICKED.items() for q in batch]
    expected = run_python(store, calls)
    index = f"data/{demo_site.index.name}"  # relative to the page, as a page names it
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            requested: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{served}/index.html")
            page.wait_for_function("() => typeof window.runEngine === 'function'")
            actual = page.evaluate("([url, calls]) => window.runEngine(url, calls)", [index, calls])
            crypto = page.evaluate("() => Boolean(globalThis.crypto && crypto.subtle)")
        finally:
            browser.close()
    assert not errors
    assert_same(calls, expected, actual)
    assert crypto, "the page had no Web Crypto: the files' hashes were not checked"
    assert requested and all(url.startswith(served + "/") for url in requested), requested
    assert any(url.endswith(".arrow") for url in requested)
    assert any(url.endswith(".npy") for url in requested)

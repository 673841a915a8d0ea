"""`ctsite figures`, `ctsite hash-code` and the precomputed default views."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest
from typer.testing import CliRunner

from ctsite.cli import app as cli_app
from ctsite.figures import FIGURES
from ctsite.store import Store
from ctsite.web.app import create_app
from ctsite.web.security import verify_code
from tests.support.cli import cli_env, run_ctsite, start_ctsite, start_python, wait_healthy

runner = CliRunner()


def test_hash_code_command():
    result = runner.invoke(cli_app, ["hash-code", "--code", "let me in"])
    assert result.exit_code == 0, result.output
    lines = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("CTSITE_")
    )
    encoded = lines["CTSITE_SITE_ACCESS_CODE_HASH"].strip("'")
    key = lines["CTSITE_SITE_SECRET_KEY"].strip("'")
    assert verify_code("let me in", encoded)
    assert len(key) >= 32 and key not in encoded and "let me in" not in result.output
    second = runner.invoke(cli_app, ["hash-code", "--code", "let me in"])
    assert key not in second.stdout  # a new random key every time, never derived from the code


@pytest.mark.parametrize("weak", ["1", " ", "abc"])
def test_hash_code_refuses_weak_codes(weak):
    result = runner.invoke(cli_app, ["hash-code", "--code", weak])
    assert result.exit_code != 0
    assert "CTSITE_SITE_ACCESS_CODE_HASH" not in result.stdout


def test_figures_command_and_serving_precomputed(store_copy, tmp_path, make_settings):
    result = runner.invoke(cli_app, ["figures", "--data", str(store_copy)])
    assert result.exit_code == 0, result.output
    store = Store.open(store_copy)
    files = sorted(store.figure_cache_dir().glob("*.json"))
    # circos × 3 conditions × 3 width classes, pairwise × 3 conditions, effects × 2 single ones
    assert len(files) == 14
    for path in files:
        doc = json.loads(path.read_bytes())
        assert doc["fingerprint"] == store.fingerprint
        assert doc["name"] in FIGURES and "data" in doc["figure"]
    assert not list(store.figure_cache_dir().glob("*.tmp"))
    # each view's static picture is stored beside it
    pictures = sorted(store.figure_cache_dir().glob("*.svg"))
    assert [p.with_suffix(".json") for p in pictures] == files
    assert all(p.read_text().startswith("<svg ") for p in pictures)
    # the app answers default requests from those files, byte for byte
    app = create_app(make_settings(tmp_path), store_path=store_copy)
    client = app.test_client()
    body = client.get("/api/figure/circos").data
    assert body in {p.read_bytes() for p in files}
    # and the page shows the stored picture (not one drawn again)
    stored = next(p for p in pictures if p.with_suffix(".json").read_bytes() == body)
    marked = stored.read_text().replace("<svg ", '<svg data-stored="yes" ', 1).encode()
    stored.write_bytes(marked)  # a picture recorded as such in the index (see SHA256SUMS)
    sums = store.figure_cache_dir() / "SHA256SUMS"
    lines = [ln for ln in sums.read_text().splitlines() if not ln.endswith("  " + stored.name)]
    lines.append(f"{hashlib.sha256(marked).hexdigest()}  {stored.name}")
    sums.write_text("\n".join(lines) + "\n")
    served = create_app(make_settings(tmp_path), store_path=store_copy).test_client()
    assert "/api/picture/circos.svg?" in served.get("/circos").get_data(as_text=True)
    picture = served.get("/api/picture/circos.svg?size=desktop")  # what the page's <img> gets
    assert 'data-stored="yes"' in picture.get_data(as_text=True)
    # and computes the same document itself
    fresh = create_app(make_settings(tmp_path), store_path=store_copy)
    for path in files:
        path.unlink()
    assert json.loads(fresh.test_client().get("/api/figure/circos").data) == json.loads(body)
    # running it again replaces stale files
    (store.figure_cache_dir() / "circos-c1-0000.json").write_text("{}")
    (store.figure_cache_dir() / "circos-c1-0000.svg").write_text("<svg/>")
    assert runner.invoke(cli_app, ["figures", "--data", str(store_copy)]).exit_code == 0
    assert not (store.figure_cache_dir() / "circos-c1-0000.json").exists()
    assert not (store.figure_cache_dir() / "circos-c1-0000.svg").exists()


def test_serve_with_missing_store_fails_clearly(tmp_path):
    env = cli_env(without=("CTSITE_",))
    result = run_ctsite(
        "serve", "--data", str(tmp_path / "nope"), cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode != 0
    assert "no compiled store" in result.stderr
    assert "Traceback" not in result.stderr


def test_cache_is_bounded_by_bytes():
    from ctsite.web.cache import Entry, FigureCache

    cache = FigureCache(size=100, max_bytes=10_000)
    for i in range(10):
        cache.put(("fp", "circos", str(i)), Entry(body=b"x" * 2000))  # ~4.3 kB with its pictures
    assert len(cache) == 2 and cache.nbytes <= 10_000
    assert cache.get(("fp", "circos", "9")) is not None
    assert cache.get(("fp", "circos", "0")) is None
    assert cache.hits == 1 and cache.misses == 1


def test_create_app_without_arguments_reads_the_environment(demo_store, tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("CTSITE_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CTSITE_COMPILED_DIR", str(demo_store))
    client = create_app().test_client()
    assert client.get("/healthz").status_code == 200


def test_gunicorn_runs_the_factory(demo_store, tmp_path):
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(without=("CTSITE_",), CTSITE_COMPILED_DIR=str(demo_store))
    proc = start_python(
        "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "ctsite.web.app:create_app()",
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_healthy(proc, port) is not None, proc.communicate(timeout=30)[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/figure/pairwise") as r:
            doc = json.loads(r.read())
        assert doc["figure"]["data"]
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_serve_with_data_configured_but_not_compiled(tmp_path):
    (tmp_path / "ctsite.toml").write_text('[data]\ninteractions = "lr.tsv"\n')
    result = run_ctsite("serve", cwd=tmp_path, env=cli_env(without=("CTSITE_",)), timeout=60)
    assert result.returncode != 0
    assert "ctsite compile" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "demo").exists()  # no demo when data is configured


def test_serve_says_when_ctsite_toml_changed_since_the_compile(small_dataset, tmp_path):
    """[site] texts edited but not compiled: the site shows the store's (the texts travel with
    the data), so `serve` prints the one command that applies the edit, before it listens."""
    import socket

    from ctsite.compile.workflow import compile_data
    from ctsite.config import load_settings

    root = small_dataset(site='title = "Gut atlas"\n')
    compile_data(load_settings(root=root, environ={}))
    toml = root / "ctsite.toml"
    toml.write_text(toml.read_text().replace("Gut atlas", "Gut atlas, second release"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = cli_env(without=("CTSITE_",))
    proc = start_ctsite("serve", "--port", str(port), cwd=root, env=env)
    try:
        assert wait_healthy(proc, port) is not None
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    said = [line for line in stderr.splitlines() if "ctsite compile" in line]
    assert len(said) == 1 and said[0].startswith("warning:"), stderr
    assert "Traceback" not in stderr

"""A store damaged under a running site (gunicorn started as the image starts it): every kind of
store file truncated, the pointer broken, an object tampered with at the same size. The request
that reads the damaged file answers 503 (never 500, never a wrong figure), /healthz answers 503 at
once with a reason code (the gate is off here), and the reason goes to the server's log. A bad
pointer leaves running workers serving their open version (but /healthz says so). `ctsite export`
and `ctsite serve` on a damaged store: one clear error, exit code 3."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctsite.store import Store, versions
from ctsite.store import format as fmt
from tests.support.cli import cli_env, run_ctsite, start_python, wait_healthy, wait_while_running


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    """A running gunicorn over one store; its error log goes to a file (never a full pipe)."""

    proc: subprocess.Popen
    port: int
    log: Path

    def get(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) of one GET; HTTP errors are answers too."""
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.status, r.headers.get_content_type(), r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get_content_type(), error.read()

    def health(self) -> tuple[int, dict]:
        status, _type, body = self.get("/healthz")
        return status, json.loads(body)

    def stop(self) -> str:
        """Stop the server; its log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        return self.log.read_text(errors="replace")


def gunicorn(store: Path, log: Path, workers: int = 2, wait: bool = True) -> Site:
    """`gunicorn "ctsite.web.app:create_app()"`, the image's command, on a free loopback port."""
    port = free_port()
    env = cli_env(without=("CTSITE_",), CTSITE_COMPILED_DIR=str(store))
    with log.open("ab") as sink:
        proc = start_python(
            "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", "2", "--error-logfile", "-",
            "ctsite.web.app:create_app()",
            cwd=store.parent, env=env, stdout=sink, stderr=sink,
        )  # fmt: skip
    site = Site(proc, port, log)
    if wait and wait_healthy(proc, port) is None:
        pytest.fail(f"gunicorn did not start: {site.stop()}")
    return site


def wait_answering(site: Site) -> None:
    """Until the server answers HTTP at all (a damaged store answers 503, not 200)."""

    def answers() -> bool:
        try:
            site.get("/healthz")
        except OSError:
            return False
        return True

    wait_while_running(site.proc, answers, "the server answered", timeout=60)


@pytest.fixture
def site_over(tmp_path: Path) -> Iterator:
    started: list[Site] = []

    def start(store: Path, workers: int = 2, wait: bool = True) -> Site:
        site = gunicorn(store, tmp_path / f"gunicorn-{len(started)}.log", workers, wait)
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def tamper(path: Path) -> None:
    """Flip bytes in the middle of the file in place: same size, same modification time."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 8):
        data[i] ^= 0xFF
    with path.open("r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def assert_unavailable(site: Site, path: str, mimetype: str = "application/json") -> None:
    status, kind, body = site.get(path)
    assert status == 503, (path, status, body[:300])
    assert kind == mimetype
    assert b"not available" in body and b"Traceback" not in body and b"/tmp" not in body


def assert_health(site: Site, *reasons: str, times: int = 6) -> None:
    """Every worker's /healthz says 503 with one of `reasons` (asked several times: two
    workers, the one that had the version open and maybe one that opens it now)."""
    for _ in range(times):
        status, doc = site.health()
        assert status == 503 and doc["status"] == "unavailable", doc
        assert set(doc["reasons"]) & set(reasons), doc


# (file of the version, an API request that reads it, the page that reads it)
EFFECTS = ("/api/figure/effects?condition=c1", "/effects?condition=c1")
FILES = [
    (fmt.GENES, "/api/genes?q=a", "/"),
    (fmt.EXPRESSION, "/api/figure/pairwise?condition=c1", "/pairwise?condition=c1"),
    (fmt.INTERACTIONS, "/api/figure/circos?condition=c1", "/circos?condition=c1"),
    (f"conditions/c1/{fmt.CIRCOS}", "/api/figure/circos?condition=c1", "/circos?condition=c1"),
    (f"conditions/c1/{fmt.PAIRS}", "/api/figure/pairwise?condition=c1", "/pairwise?condition=c1"),
    (f"conditions/c1/{fmt.CONDITION_GENES}", *EFFECTS),
    *((f"conditions/c1/{layer.file}", *EFFECTS) for layer in fmt.EFFECT_LAYERS),
    (f"conditions/c1/{fmt.EFFECT_OFFSETS}", *EFFECTS),
    (f"conditions/c1/{fmt.EFFECT_GENES}", *EFFECTS),
]


@pytest.mark.parametrize(("rel", "url", "page"), FILES, ids=[f[0] for f in FILES])
def test_a_truncated_store_file_is_503_on_its_next_read_and_on_healthz(
    store_copy: Path, site_over, rel: str, url: str, page: str
) -> None:
    site = site_over(store_copy)
    victim = Store.open(store_copy).file(rel)
    truncate(victim)
    assert_health(site, "object-truncated")  # at once, before any request reads it
    assert_unavailable(site, url)
    for _ in range(3):  # every request that reads it, on either worker
        assert_unavailable(site, url)
    assert_unavailable(site, page, "text/html")
    assert_health(site, "object-truncated")
    log = site.stop()
    assert "object-truncated" in log and rel in log  # the reason and the file, server-side
    assert "Traceback" not in log and "ArrowInvalid" not in log


def test_a_truncated_manifest_is_503_on_healthz_and_for_a_fresh_server(
    store_copy: Path, site_over
) -> None:
    site = site_over(store_copy)
    manifest = versions.manifest_path(store_copy)
    truncate(manifest)
    assert_health(site, "manifest-changed", "manifest-unreadable")
    fresh = site_over(store_copy, wait=False)
    wait_answering(fresh)
    status, doc = fresh.health()
    assert status == 503 and doc["reasons"] == ["manifest-unreadable"], doc
    assert_unavailable(fresh, "/api/meta")
    assert_unavailable(fresh, "/circos", "text/html")


def point_at(store: Path, version: str) -> None:
    (store / fmt.POINTER).write_bytes(versions.pointer_bytes(version))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda s: point_at(s, "v20990101T000000Z-00000000-0000"), "version-missing"),
        (lambda s: (s / fmt.POINTER).write_bytes(b'{"version": "v2099'), "pointer-unreadable"),
        (lambda s: (s / fmt.POINTER).unlink(), "pointer-missing"),
    ],
    ids=["names-a-missing-version", "garbage", "removed"],
)
def test_a_bad_pointer_keeps_the_open_version_serving_but_healthz_says_so(
    store_copy: Path, site_over, damage, reason: str
) -> None:
    site = site_over(store_copy, workers=1)  # one worker: it surely has the version open
    status, before = site.health()
    assert status == 200
    damage(store_copy)
    assert_health(site, reason, times=2)
    status, _kind, body = site.get("/api/figure/circos?condition=c2")  # still served
    assert status == 200 and json.loads(body)["fingerprint"] == before["fingerprint"]
    fresh = site_over(store_copy, wait=False)  # a restart cannot open it: 503, the same reason
    wait_answering(fresh)
    status, doc = fresh.health()
    assert status == 503 and doc["reasons"] == [reason], doc
    assert_unavailable(fresh, "/api/meta")
    log = site.stop()
    assert reason in log


def test_a_same_size_tampered_object_is_caught_by_running_and_fresh_workers(
    store_copy: Path, site_over
) -> None:
    site = site_over(store_copy)
    rel = f"conditions/c1/{fmt.EFFECT_LAYERS[0].file}"
    victim = Store.open(store_copy).file(rel)
    before = victim.stat()
    tamper(victim)
    after = victim.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert_health(site, "object-changed")
    fresh = site_over(store_copy, wait=False)  # a fresh process hashes every object at open
    wait_answering(fresh)
    status, doc = fresh.health()
    assert status == 503 and doc["reasons"] == ["object-changed"], doc
    assert_unavailable(fresh, "/api/figure/effects?condition=c1")
    assert_unavailable(fresh, "/effects?condition=c1", "text/html")
    log = fresh.stop()
    assert "object-changed" in log and rel in log and victim.name in log


def test_export_of_a_tampered_store_is_one_line_and_a_non_zero_exit(store_copy: Path) -> None:
    rel = f"conditions/c2/{fmt.EFFECT_LAYERS[1].file}"
    victim = Store.open(store_copy).file(rel)
    tamper(victim)
    done = run_ctsite(
        "export", "circos", "--condition", "c1", "--store", str(store_copy),
        cwd=store_copy.parent, env=cli_env(without=("CTSITE_",)), timeout=120,
    )  # fmt: skip
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert rel in done.stderr and victim.name in done.stderr
    assert "SHA-256" in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) <= 2, done.stderr  # the error (and its hint)


def test_serve_refuses_a_damaged_store_instead_of_serving_the_demo(store_copy: Path) -> None:
    project = store_copy.parent / "project"
    compiled = project / "data" / "compiled"
    compiled.parent.mkdir(parents=True)
    store_copy.rename(compiled)
    truncate(Store.open(compiled).file(fmt.INTERACTIONS))
    done = run_ctsite(
        "serve", "--port", str(free_port()),
        cwd=project, env=cli_env(without=("CTSITE_",)), timeout=60,
    )  # fmt: skip
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "interactions.feather" in done.stderr and "Traceback" not in done.stderr
    assert not (project / "data" / "demo").exists()  # no other data served in its place


def precomputed_files(store: Path) -> list[Path]:
    folder = versions.version_path(store) / fmt.FIGURES_DIR
    return sorted(folder.glob("circos-*.json"))


@pytest.mark.parametrize("damage", [truncate, tamper], ids=["truncated", "tampered"])
def test_a_damaged_precomputed_view_is_never_served(store_copy: Path, site_over, damage) -> None:
    """The precomputed default views are a cache of the verified store: a damaged one (cut, or
    bytes changed at the same size, JSON or its picture) is recomputed, never served, on running
    and fresh workers; the site stays healthy (the store itself is intact)."""
    done = run_ctsite("figures", "--data", str(store_copy), cwd=store_copy.parent)
    assert done.returncode == 0, done.stderr
    site = site_over(store_copy, workers=1)
    status, _, _ = site.get("/circos")
    assert status == 200
    status, _, good = site.get("/api/figure/circos")
    assert status == 200
    fresh_views = precomputed_files(store_copy)
    assert fresh_views, "ctsite figures wrote no circos view"
    site.stop()
    for view in fresh_views:  # the JSON and its picture
        damage(view)
        damage(view.with_suffix(".svg"))
    for site in (site_over(store_copy, workers=1), site_over(store_copy, workers=1)):
        status, _, page = site.get("/circos")
        assert status == 200, page[:300]
        assert b"TAMPER" not in page
        status, _, body = site.get("/api/figure/circos")
        assert status == 200
        assert json.loads(body)["figure"] == json.loads(good)["figure"]
        assert site.health()[0] == 200
        log = site.stop()
        assert "Traceback" not in log
        assert "precomputed" in log  # the damaged view is named server-side

"""`ctsite upload-data` publishes a store version: beside the live one, verified, one pointer
switch, then pruning — against moto's Transfer API and a real sshd, the site served by gunicorn.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import anndata as ad
import pytest

from ctsite.compile.demo import demo_config, write_demo
from ctsite.sftp.client import TEMP_MARK
from ctsite.store import format as fmt
from ctsite.store import versions
from ctsite.store.reader import Store
from tests.support.cli import (
    cli_env,
    run_ctsite,
    start_ctsite,
    wait_healthy,
    wait_while_running,
)
from tests.support.fixtures_sftp import free_port

pytestmark = pytest.mark.sshd
NO_POSIX_RENAME = "-P posix-rename"


def live(remote: Path) -> tuple[str | None, str | None]:
    """The remote pointer's (version, previous), after checking that it records the SHA-256 of
    the live version's manifest (what a reader verifies before serving it)."""
    pointer = versions.read_pointer(remote)
    if pointer is None:
        return (None, None)
    manifest = remote / fmt.VERSIONS_DIR / pointer.version / fmt.MANIFEST
    assert pointer.manifest == versions.digest(manifest), "the pointer names another manifest"
    return (pointer.version, pointer.previous)


def run(project: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return run_ctsite(
        *args, cwd=project, env=cli_env(COLUMNS="200"), timeout=timeout, stdin=subprocess.DEVNULL
    )


def make_project(tmp_path: Path) -> Path:
    """A project whose inputs live outside data/ and whose store is data/compiled."""
    project = tmp_path / "project"
    write_demo(project / "inputs", cells_per_type=40)
    data = demo_config().split("[data]", 1)[1]
    for name in ("interactions.tsv", "expression.h5ad", "deg_"):
        data = data.replace(f'"{name}', f'"inputs/{name}')
    (project / "ctsite.toml").write_text(
        'data_dir = "data"\ncompiled_dir = "data/compiled"\n[data]' + data
    )
    compile_store(project)
    return project


def compile_store(project: Path) -> str:
    done = run(project, "compile", "-q", "-j", "1")
    assert done.returncode == 0, done.stderr
    pointer = versions.read_pointer(project / "data" / "compiled")
    assert pointer is not None
    return pointer.version


def change_one_condition(project: Path, factor: float = 1.5) -> None:
    """New results for the second condition only (its log2FC layer scaled)."""
    path = sorted((project / "inputs").glob("deg_*.h5ad"))[-1]
    adata = ad.read_h5ad(path)
    adata.layers["log2FC"] = adata.layers["log2FC"] * factor
    adata.write_h5ad(path)


def local_objects(project: Path, version: str) -> set[str]:
    doc = json.loads(
        (project / "data/compiled" / fmt.VERSIONS_DIR / version / fmt.MANIFEST).read_text()
    )
    return versions.objects_of(doc)


def remote_store(sshd) -> Path:
    return sshd.root / "data" / "compiled"


def sent(output: str) -> tuple[int, float]:
    found = re.search(r"sent (\d+) file\(s\), ([0-9.]+) MB", output)
    assert found, output
    return int(found.group(1)), float(found.group(2))


@pytest.mark.parametrize("sftp_server_flags", ["", NO_POSIX_RENAME], ids=["rename", "fallback"])
def test_publish_update_and_prune(tmp_path, transfer_to_sshd, transfer_servers, sftp_server_flags):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    local = project / "data" / "compiled"
    v1 = versions.read_pointer(local).version

    first = run(project, "upload-data")
    assert first.returncode == 0, first.stderr
    how = "one atomic rename" if not sftp_server_flags else "CURRENT.next, then rename"
    assert f"the site now serves version {v1} ({how})" in first.stdout
    remote = remote_store(sshd)
    assert live(remote) == (v1, None)
    assert not (remote / fmt.POINTER_NEXT).exists()
    assert Store.open(remote).version == v1
    objects = {p.name for p in (remote / fmt.OBJECTS_DIR).iterdir()}
    assert objects == local_objects(project, v1)
    files_1, mb_1 = sent(first.stdout)

    # one condition changed: only the objects the remote lacks are sent
    change_one_condition(project)
    v2 = compile_store(project)
    new = local_objects(project, v2) - local_objects(project, v1)
    assert 0 < len(new) < len(local_objects(project, v2))
    dry = run(project, "upload-data", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{len(new)} file(s) to send" in dry.stdout
    second = run(project, "upload-data")
    assert second.returncode == 0, second.stderr
    files_2, mb_2 = sent(second.stdout)
    assert files_2 == len(new) and mb_2 < mb_1 and files_2 < files_1
    assert live(remote) == (v2, v1)
    assert Store.open(remote).version == v2

    # a third version: the remote keeps the current and the previous, sweeps the rest
    change_one_condition(project, 2.0)
    v3 = compile_store(project)
    third = run(project, "upload-data")
    assert third.returncode == 0, third.stderr
    assert f"prunes remote version(s) {v1}" in third.stdout
    assert sorted(p.name for p in (remote / fmt.VERSIONS_DIR).iterdir()) == [v2, v3]
    objects = {p.name for p in (remote / fmt.OBJECTS_DIR).iterdir()}
    assert objects == local_objects(project, v2) | local_objects(project, v3)
    assert not any(TEMP_MARK in p.name for p in remote.rglob("*"))
    assert Store.open(remote).version == v3
    again = run(project, "upload-data")
    assert again.returncode == 0, again.stderr
    assert "0 file(s) to send" in again.stdout and "already current remotely" in again.stdout
    assert transfer_servers() == []


def test_flat_remote_store_is_replaced_after_the_switch(
    tmp_path, transfer_to_sshd, transfer_servers
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    remote = remote_store(sshd)
    (remote / "conditions" / "c1").mkdir(parents=True)
    (remote / fmt.MANIFEST).write_text('{"schema_version": 1}')
    (remote / "conditions" / "c1" / "log2FC.npy").write_bytes(b"old dense copy")
    (sshd.root / "data" / "notes.txt").write_text("outside the store: kept")
    done = run(project, "upload-data")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in remote.iterdir()) == [
        fmt.POINTER,
        fmt.OBJECTS_DIR,
        fmt.VERSIONS_DIR,
    ]
    assert (sshd.root / "data" / "notes.txt").read_text() == "outside the store: kept"
    assert Store.open(remote).version == versions.read_pointer(project / "data/compiled").version


def add_big_figure(project: Path, version: str, size: int = 96 << 20) -> None:
    """A large file in the version's folder, so that an upload takes long enough to kill."""
    folder = project / "data/compiled" / fmt.VERSIONS_DIR / version / fmt.FIGURES_DIR
    folder.mkdir(exist_ok=True)
    (folder / "big.json.gz").write_bytes(os.urandom(size))


def test_killed_mid_upload_keeps_the_live_version_then_resumes(
    tmp_path, transfer_to_sshd, transfer_servers
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    v1 = versions.read_pointer(project / "data/compiled").version
    assert run(project, "upload-data").returncode == 0
    remote = remote_store(sshd)
    pointer_before = (remote / fmt.POINTER).read_bytes()

    change_one_condition(project)
    v2 = compile_store(project)
    add_big_figure(project, v2)
    proc = start_ctsite("upload-data", "--jobs", "1", cwd=project)

    def big_file_on_its_way() -> bool:
        temps = [p for p in remote.rglob("*") if TEMP_MARK in p.name and "big" in p.name]
        return bool(temps) and temps[0].stat().st_size > 1 << 20

    try:
        wait_while_running(proc, big_file_on_its_way, "the upload never reached the big file", 90)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (remote / fmt.POINTER).read_bytes() == pointer_before  # the live pointer, untouched
    assert not (remote / fmt.VERSIONS_DIR / v2 / fmt.MANIFEST).exists()  # v2 is not a version
    assert Store.open(remote).version == v1
    sent_before = {p.name for p in (remote / fmt.OBJECTS_DIR).iterdir()}

    resumed = run(project, "upload-data", "--cleanup", "--force")  # the killed run's server
    assert resumed.returncode == 0, resumed.stderr
    resumed = run(project, "upload-data")
    assert resumed.returncode == 0, resumed.stderr
    files, _mb = sent(resumed.stdout)
    already = len(sent_before & (local_objects(project, v2) - local_objects(project, v1)))
    total = len(local_objects(project, v2) - local_objects(project, v1)) + 1  # + the big file
    assert files == total - already
    assert live(remote) == (v2, v1)
    assert Store.open(remote).version == v2
    assert not any(TEMP_MARK in p.name for p in remote.rglob("*"))
    assert transfer_servers() == []


# ---------------------------------------------------------------- the site during a publish


def start_site(store: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = start_ctsite(
        *("serve", "--port", str(port), "--workers", "2", "--data", str(store)),
        cwd=store.parent,
        env=cli_env(without=("CTSITE_",)),
        stdout=subprocess.DEVNULL,
    )
    if wait_healthy(proc, port) is None:
        proc.kill()
        pytest.fail(f"the site did not start: {proc.communicate()}")
    return proc, port


def canonical(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def uncached_queries(conditions: list[str]):
    """Distinct circos parameter sets: every request is computed, none comes from a cache."""
    for t_i in fmt.THRESHOLDS:
        for t_l in fmt.THRESHOLDS:
            for cond in conditions:
                yield f"condition={cond}&fdr_i={t_i}&fdr_l={t_l}"


def test_site_serves_one_complete_version_while_data_is_published(
    tmp_path, transfer_to_sshd, transfer_servers
):
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    assert run(project, "upload-data").returncode == 0
    remote = remote_store(sshd)
    old = Store.open(remote)
    change_one_condition(project)
    v2 = compile_store(project)
    new = Store.open(project / "data/compiled")
    assert new.version == v2 and new.fingerprint != old.fingerprint

    site, port = start_site(remote)
    queries = uncached_queries([c.id for c in old.conditions])
    lock = threading.Lock()
    results: list[tuple] = []  # (client, start, end, status, fingerprint, digest, query)
    errors: list[str] = []
    stop = threading.Event()

    def client(number: int) -> None:
        while not stop.is_set():
            with lock:
                query = next(queries, None)
            if query is None:
                return
            start = time.monotonic()
            try:
                url = f"http://127.0.0.1:{port}/api/figure/circos?{query}"
                with urllib.request.urlopen(url, timeout=30) as r:
                    status, body = r.status, r.read()
                doc = json.loads(body)
            except Exception as exc:  # every failure is a finding
                errors.append(f"{query}: {exc!r}")
                continue
            row = (number, start, time.monotonic(), status, doc["fingerprint"], canonical(doc))
            with lock:
                results.append((*row, query))

    def answered(which) -> int:
        with lock:
            return sum(1 for r in results if which(r))

    def alive(thread: threading.Thread) -> bool:
        return thread.is_alive()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
    try:
        for t in threads:
            t.start()
        # the old version answers every client before the upload starts ...
        wait_while_running(site, lambda: answered(lambda r: True) >= 3, "3 answers")
        upload = run(project, "upload-data")
        finished = time.monotonic()
        assert upload.returncode == 0, upload.stderr
        # ... and the clients go on asking after it ends (unless they ran out of queries)
        wait_while_running(
            site,
            lambda: answered(lambda r: r[1] > finished) >= 3 or not any(map(alive, threads)),
            "3 answers to requests made after the upload",
        )
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        stop.set()
        site.send_signal(signal.SIGINT)
        _out, err = site.communicate(timeout=30)
    assert errors == [], errors[:5]
    assert "Traceback" not in err
    assert {r[3] for r in results} == {200}
    seen = {r[4] for r in results}
    assert seen == {old.fingerprint, new.fingerprint}, seen
    for number in range(3):  # per client: old ones, then new ones, never back
        mine = [r[4] for r in sorted(results) if r[0] == number]
        switched = mine.index(new.fingerprint) if new.fingerprint in mine else len(mine)
        assert set(mine[switched:]) <= {new.fingerprint}, number
    late = [r for r in results if r[1] > finished]
    assert late and all(r[4] == new.fingerprint for r in late)
    # each response is the figure of the version it names, as that version alone draws it
    from ctsite.web.app import create_app

    for version in (old, new):
        sample = [r for r in results if r[4] == version.fingerprint][:4]
        reference = create_app(store_path=version.path).test_client()
        for *_rest, digest, query in sample:
            doc = reference.get(f"/api/figure/circos?{query}").json
            assert doc["fingerprint"] == version.fingerprint
            assert canonical(doc) == digest, query


# ---------------------------------------------------------------- where the store lies


def test_a_store_outside_the_uploaded_folder_is_refused(
    tmp_path, transfer_to_sshd, transfer_servers
):
    """compiled_dir outside data_dir: the upload would send data/ without the store (a silent
    no-op that leaves the site on its old data); it is refused before any server exists."""
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    config = project / "ctsite.toml"
    config.write_text(config.read_text().replace('"data/compiled"', '"store/compiled"'))
    shutil.rmtree(project / "data/compiled")  # data/ holds nothing else: the plan sends nothing
    compile_store_at(project, project / "store/compiled")
    for args in (["upload-data"], ["upload-data", "--dry-run"]):
        done = run(project, *args)
        assert done.returncode != 0, done.stdout
        assert "Traceback" not in done.stderr
        error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(error) == 1, done.stderr
        assert "store/compiled" in error[0] and "outside" in error[0]
        assert "compiled_dir" in done.stderr
    assert not (sshd.root / "data").exists() or not any((sshd.root / "data").rglob("*"))
    assert transfer_servers() == []


def compile_store_at(project: Path, store: Path) -> str:
    done = run(project, "compile", "-q", "-j", "1")
    assert done.returncode == 0, done.stderr
    pointer = versions.read_pointer(store)
    assert pointer is not None
    return pointer.version


def test_a_symlinked_store_inside_the_uploaded_folder_is_published(
    tmp_path, transfer_to_sshd, transfer_servers
):
    """data/compiled a symlink to a store kept elsewhere: followed, and published as a store."""
    _aws, sshd = transfer_to_sshd
    project = make_project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "data/compiled").rename(elsewhere / "compiled")
    (project / "data/compiled").symlink_to(elsewhere / "compiled")
    version = versions.read_pointer(project / "data/compiled").version
    done = run(project, "upload-data")
    assert done.returncode == 0, done.stderr
    assert f"the site now serves version {version}" in done.stdout
    remote = remote_store(sshd)
    assert not remote.is_symlink()
    assert live(remote) == (version, None)
    assert Store.open(remote).version == version
    assert {p.name for p in (remote / fmt.OBJECTS_DIR).iterdir()} == local_objects(project, version)
    assert transfer_servers() == []

"""The SFTP tree sync against a real OpenSSH server: incremental, deleting, resuming, verified."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import paramiko
import pytest

from ctsite.errors import CtsiteError
from ctsite.sftp import sync
from ctsite.sftp.client import TEMP_MARK, Endpoint, accepted_fingerprints, connect, fingerprint
from ctsite.sftp.manifest import MANIFEST, LocalFile, read_local_manifest, scan_local
from tests.support.cli import start_python, wait_while_running

pytestmark = pytest.mark.sshd


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


@pytest.fixture
def key(sshd) -> paramiko.PKey:
    k = paramiko.ECDSAKey.generate()
    sshd.authorize(f"{k.get_name()} {k.get_base64()}")
    return k


@pytest.fixture
def endpoint(sshd, key) -> Endpoint:
    return Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint)


def run_sync(
    endpoint, local: Path, scope=("",), jobs=3, on_bytes=None, retries=4, every=30.0, lazy=True
):
    first = connect(endpoint)
    files = scan_local(local, lazy=lazy)
    plan, manifest = sync.plan_remote(first, files, "data", scope, local, 2)
    result = sync.sync_tree(
        lambda: connect(endpoint),
        local,
        "data",
        plan,
        manifest,
        jobs=jobs,
        on_bytes=on_bytes,
        retries=retries,
        backoff=0.05,
        main=first,
        checkpoint_every=every,
    )
    return plan, result


def test_fingerprint_matches_ssh_keygen(sshd, key):
    transport = paramiko.Transport(("127.0.0.1", sshd.port))
    transport.start_client(timeout=10)
    try:
        assert fingerprint(transport.get_remote_server_key()) == sshd.fingerprint
    finally:
        transport.close()


def test_incremental_sync_sends_only_changes(tmp_path, sshd, endpoint):
    local = tmp_path / "data"
    files = {f"compiled/t{i}.bin": os.urandom(1000 + i) for i in range(12)}
    files["compiled/sub/deep/x.json"] = b'{"a": 1}'
    files["other/notes.txt"] = b"kept"
    make_tree(local, files)
    remote = sshd.root / "data"

    (remote / "empty-outside-scope").mkdir(parents=True)
    plan, result = run_sync(endpoint, local, scope=["compiled"])
    assert result.files_sent == len(files)
    assert (remote / "empty-outside-scope").is_dir()
    assert tree(remote) == files
    assert (remote / MANIFEST).is_file()

    for lazy in (True, False):
        plan, result = run_sync(endpoint, local, scope=["compiled"], lazy=lazy)
        assert (result.files_sent, result.bytes_sent, plan.deletions) == (0, 0, [])

    (local / "compiled/t3.bin").write_bytes(b"changed!")
    (local / "compiled/t5.bin").unlink()
    (local / "other/notes.txt").unlink()  # outside the delete scope: stays remotely
    (local / "compiled/new.bin").write_bytes(b"new")
    plan, result = run_sync(endpoint, local, scope=["compiled"])
    assert sorted(f.rel for f in plan.uploads) == ["compiled/new.bin", "compiled/t3.bin"]
    assert result.bytes_sent == len(b"changed!") + 3
    assert plan.deletions == ["compiled/t5.bin"]
    expected = tree(local) | {"other/notes.txt": b"kept"}
    assert tree(remote) == expected

    # same size, different content, mtime untouched: still detected (digest, not mtime)
    st = (local / "compiled/t4.bin").stat()
    (local / "compiled/t4.bin").write_bytes(bytes(st.st_size))
    os.utime(local / "compiled/t4.bin", ns=(st.st_atime_ns, st.st_mtime_ns))
    plan, result = run_sync(endpoint, local, scope=[""])
    assert [f.rel for f in plan.uploads] == ["compiled/t4.bin"]
    assert plan.deletions == ["other/notes.txt"]
    assert tree(remote) == tree(local)
    assert not (remote / "other").exists()  # emptied directory removed


def test_remote_file_tampered_is_resent(tmp_path, sshd, endpoint):
    local = tmp_path / "data"
    make_tree(local, {"compiled/a.bin": b"x" * 5000})
    run_sync(endpoint, local)
    (sshd.root / "data/compiled/a.bin").write_bytes(b"short")
    _plan, result = run_sync(endpoint, local)
    assert result.files_sent == 1
    assert tree(sshd.root / "data") == tree(local)


def test_killed_connection_is_retried(tmp_path, sshd, endpoint):
    local = tmp_path / "data"
    files = {f"compiled/big{i}.bin": os.urandom(3_000_000) for i in range(6)}
    make_tree(local, files)
    sent = {"n": 0, "killed": 0}
    lock = threading.Lock()

    def on_bytes(n):
        with lock:
            sent["n"] += n
            if not sent["killed"] and sent["n"] > 4_000_000:
                sent["killed"] = sshd.kill_sessions()

    _plan, result = run_sync(endpoint, local, jobs=2, on_bytes=on_bytes)
    assert sent["killed"] > 0 and result.retries >= 1
    assert tree(sshd.root / "data") == files
    assert not [p for p in (sshd.root / "data").rglob("*") if TEMP_MARK in p.name]


def test_server_gone_mid_transfer_then_rerun_resumes(tmp_path, sshd, endpoint):
    local = tmp_path / "data"
    files = {f"compiled/f{i:02d}.bin": os.urandom(400_000) for i in range(30)}
    make_tree(local, files)
    state = {"n": 0, "stopped": False}
    lock = threading.Lock()

    def on_bytes(n):
        with lock:
            state["n"] += n
            if not state["stopped"] and state["n"] > 3_000_000:
                state["stopped"] = True
                sshd.stop()

    with pytest.raises(CtsiteError, match=r"upload of .* failed"):
        run_sync(endpoint, local, jobs=2, on_bytes=on_bytes, retries=1, every=0.0)
    remote = sshd.root / "data"
    assert tree(remote) != files  # interrupted: incomplete
    sshd.start()
    leftover = remote / "compiled" / f".f00.bin{TEMP_MARK}0123456789ab"  # as a killed write leaves
    leftover.write_bytes(b"half")
    plan, result = run_sync(endpoint, local)
    assert "compiled/" + leftover.name in plan.stale_temps
    assert 0 < result.bytes_sent < sum(map(len, files.values()))  # checkpoint: resumed
    assert tree(remote) == files
    assert not [p for p in remote.rglob("*") if TEMP_MARK in p.name]
    _plan, result = run_sync(endpoint, local)
    assert result.bytes_sent == 0


def test_host_key_mismatch_is_refused(tmp_path, sshd, key):
    wrong = fingerprint(paramiko.ECDSAKey.generate())
    endpoint = Endpoint("127.0.0.1", sshd.port, "root", key, wrong)
    with pytest.raises(CtsiteError, match="host key mismatch"):
        connect(endpoint)
    blind = Endpoint("127.0.0.1", sshd.port, "root", key, "")
    with pytest.raises(CtsiteError, match="refusing"):
        connect(blind)


def test_unknown_key_is_refused(sshd):
    stranger = paramiko.ECDSAKey.generate()
    endpoint = Endpoint("127.0.0.1", sshd.port, "root", stranger, sshd.fingerprint)
    with pytest.raises(CtsiteError, match="refused"):
        connect(endpoint)


def test_missing_and_unreadable_local_files(tmp_path):
    with pytest.raises(CtsiteError, match="data directory not found"):
        scan_local(tmp_path / "nope")
    make_tree(tmp_path / "data", {"compiled/ok.bin": b"ok"})
    bad = tmp_path / "data/compiled/bad.bin"
    if os.geteuid() == 0:
        bad.symlink_to("/proc/self/mem")  # a regular file whose read fails, even for root
    else:
        bad.write_bytes(b"secret")
        bad.chmod(0)
    with pytest.raises(CtsiteError, match=r"cannot read .*bad\.bin"):
        scan_local(tmp_path / "data")


def test_plan_is_pure_and_scoped():
    local = {"compiled/a": LocalFile("compiled/a", 1, "h1")}
    remote = {
        "compiled/a": 1,
        "compiled/gone": 3,
        "raw/keep": 4,
        MANIFEST: 10,
        "compiled/.a.ctsite-part-1": 1,
    }
    manifest = {"compiled/a": {"size": 1, "sha256": "h1"}}
    plan = sync.make_plan(local, remote, set(), manifest, ["compiled"])
    assert plan.uploads == [] and plan.unchanged == 1
    assert plan.deletions == ["compiled/gone"]
    assert plan.stale_temps == ["compiled/.a.ctsite-part-1"]
    assert sync.make_plan(local, remote, set(), {}, []).uploads == list(local.values())


def test_digest_cache_never_hides_a_change(tmp_path, sshd, endpoint):
    local = tmp_path / "data"
    make_tree(local, {"compiled/a.bin": b"a" * 4000, "compiled/b.bin": b"b" * 4000})
    time.sleep(2.2)  # files written just now get no cached signature (racy timestamps)
    run_sync(endpoint, local)
    cached = read_local_manifest(local)
    assert all("stamp" in entry for entry in cached.values())
    assert scan_local(local) == scan_local(local, use_cache=False)

    path = local / "compiled/a.bin"
    st = path.stat()
    path.write_bytes(b"z" * 4000)  # same size, mtime put back: only ctime tells
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    plan, _result = run_sync(endpoint, local)
    assert [f.rel for f in plan.uploads] == ["compiled/a.bin"]
    assert (sshd.root / "data/compiled/a.bin").read_bytes() == b"z" * 4000


def test_accepted_fingerprint_forms():
    fp = "SHA256:" + "Ab1/" * 10 + "xyz"
    bare = fp[7:]
    assert accepted_fingerprints(fp) == {bare}
    assert accepted_fingerprints(bare + "=") == {bare}
    assert accepted_fingerprints(f"256 {fp} root@host (ECDSA)") == {bare}
    assert accepted_fingerprints(f"{fp}, SHA256:other") == {bare, "other"}
    assert accepted_fingerprints("") == set()


UPLOADER = """
import sys, paramiko
from pathlib import Path
from ctsite.sftp import sync
from ctsite.sftp.manifest import scan_local
from ctsite.sftp.client import Endpoint, connect
host, port, keyfile, fp, local = sys.argv[1:6]
endpoint = Endpoint(host, int(port), "root", paramiko.ECDSAKey.from_private_key_file(keyfile), fp)
first = connect(endpoint)
plan, manifest = sync.plan_remote(first, scan_local(Path(local)), "data", ("",), Path(local), 2)
print("planned", flush=True)
sync.sync_tree(lambda: connect(endpoint), Path(local), "data", plan, manifest, jobs=2,
               retries=1, backoff=0.05, main=first, checkpoint_every=30.0)
"""


def _running(pid: int) -> bool:
    """A live process (a zombie waiting for init to reap it runs nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _open_under(folder: Path) -> list[str]:
    """Files under `folder` some process holds open (the SFTP server writing them)."""
    held = []
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:  # the process or descriptor went away, or is not ours to read
            continue
        if target.startswith(f"{folder}/"):
            held.append(target)
    return held


def _wait_for(done, what: str, timeout: float = 30) -> None:
    """Poll `done()` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} (waited {timeout:g} s)")
        time.sleep(0.05)


def test_upload_workers_die_with_a_killed_parent(tmp_path, sshd, key):
    """SIGKILL of the uploading process stops its workers: they end, the server closes every
    file they were writing, and the upload stays unfinished (nothing kept writing)."""
    import signal
    import subprocess

    files = {f"compiled/big{i}.bin": os.urandom(24_000_000) for i in range(8)}
    local = tmp_path / "data"
    make_tree(local, files)
    keyfile = tmp_path / "key.pem"
    key.write_private_key_file(str(keyfile))
    proc = start_python(
        "-c", UPLOADER, "127.0.0.1", str(sshd.port), str(keyfile), sshd.fingerprint, str(local),
        cwd=tmp_path,
    )  # fmt: skip
    remote = sshd.root / "data"

    def written() -> int:
        return sum(p.stat().st_size for p in remote.rglob("*") if p.is_file())

    wait_while_running(proc, lambda: written() >= 10_000_000, "10 MB uploaded")
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    workers = [int(p) for p in out.stdout.split()]
    assert len(workers) >= 2, "no upload workers seen"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    _wait_for(
        lambda: not any(_running(p) for p in workers),
        "the upload workers outlived their parent",
    )
    _wait_for(lambda: not _open_under(remote), "the SFTP server still writes after the kill")
    total = sum(len(data) for data in files.values())
    assert written() < total, "the upload went on to the end after the uploader was killed"

"""SFTP link faults against a real sshd: a closed port or a non-SSH answer at start, a link
that stalls for good, paramiko's log kept off the terminal, a tampered remote file whose size
differs while the local digests are known."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path

import paramiko
import pytest

from ctsite.errors import CtsiteError
from ctsite.sftp import sync
from ctsite.sftp.client import Endpoint, configure_paramiko_logging, connect, open_session
from ctsite.sftp.manifest import scan_local

from .conftest import free_port

pytestmark = pytest.mark.sshd


@pytest.fixture
def key(sshd) -> paramiko.PKey:
    k = paramiko.ECDSAKey.generate()
    sshd.authorize(f"{k.get_name()} {k.get_base64()}")
    return k


def write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def sync_once(endpoint: Endpoint, local: Path, lazy: bool, stall: float = 60.0, on_bytes=None):
    first = connect(endpoint)
    plan, manifest = sync.plan_remote(first, scan_local(local, lazy=lazy), "data", [""], local)
    return plan, sync.sync_tree(
        lambda: connect(endpoint),
        local,
        "data",
        plan,
        manifest,
        jobs=1,
        backoff=0.05,
        main=first,
        stall_timeout=stall,
        on_bytes=on_bytes,
    )


def test_closed_port_is_one_line(key):
    endpoint = Endpoint("127.0.0.1", free_port(), "root", key, "SHA256:abc", timeout=5)
    with pytest.raises(CtsiteError, match="cannot open an SFTP session to") as caught:
        open_session(endpoint)
    assert "running and the port open" in (caught.value.hint or "")


def test_a_listener_that_is_not_sshd_is_one_line(key):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer() -> None:
        conn, _ = listener.accept()
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        endpoint = Endpoint("127.0.0.1", port, "root", key, "SHA256:abc", timeout=5)
        with pytest.raises(CtsiteError, match=f"cannot open an SFTP session to .*:{port}"):
            open_session(endpoint)
    finally:
        listener.close()


def test_paramiko_log_goes_to_the_file_not_the_terminal(tmp_path, capfd):
    log = tmp_path / "paramiko.log"
    configure_paramiko_logging(str(log))
    logging.getLogger("paramiko.transport").error("Traceback (most recent call last): boom")
    configure_paramiko_logging(None)
    logging.getLogger("paramiko.transport").error("Traceback (most recent call last): hidden")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert "boom" in log.read_text() and "hidden" not in log.read_text()


def test_a_stalled_link_gives_up_after_the_stall_timeout(tmp_path, sshd, key):
    local = tmp_path / "data"
    write(local, {f"compiled/f{i}.bin": os.urandom(2_000_000) for i in range(4)})
    endpoint = Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint, stall_timeout=2)
    stopped: list[int] = []
    sent = {"n": 0}

    def on_bytes(n: int) -> None:
        sent["n"] += n
        if not stopped and sent["n"] > 1_000_000:
            stopped.extend(sshd.sessions())
            for pid in stopped:
                os.kill(pid, signal.SIGSTOP)  # the link stays open but nothing moves

    started = time.monotonic()
    try:
        with pytest.raises(CtsiteError, match="made no progress for") as caught:
            sync_once(endpoint, local, lazy=True, stall=2, on_bytes=on_bytes)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    assert stopped
    assert time.monotonic() - started < 20  # not 263 s
    assert "sftp_stall_timeout" in (caught.value.hint or "")


def test_tampered_size_is_resent_when_local_digests_are_known(tmp_path, sshd, key):
    local = tmp_path / "data"
    write(local, {"compiled/a.bin": b"x" * 5000, "compiled/b.bin": b"y" * 10})
    endpoint = Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint)
    sync_once(endpoint, local, lazy=False)
    (sshd.root / "data/compiled/a.bin").write_bytes(b"x" * 4999)  # the manifest still agrees
    plan, result = sync_once(endpoint, local, lazy=False)
    assert [f.rel for f in plan.uploads] == ["compiled/a.bin"]
    assert result.files_sent == 1
    assert (sshd.root / "data/compiled/a.bin").read_bytes() == b"x" * 5000

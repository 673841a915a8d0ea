"""SFTP link faults against a real sshd: a closed port or a non-SSH answer at start, a link
that drops during the first login (retried; only a real refusal says "refused"), a link that
stalls for good, paramiko's log kept off the terminal, a tampered remote file whose size
differs while the local digests are known."""

from __future__ import annotations

import logging
import os
import signal
import socket
import struct
import threading
import time
from pathlib import Path

import paramiko
import pytest

from ctsite.errors import CtsiteError
from ctsite.sftp import sync
from ctsite.sftp.client import Endpoint, configure_paramiko_logging, connect, open_session
from ctsite.sftp.manifest import scan_local
from tests.support.fixtures_sftp import free_port

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


SSH_MSG_NEWKEYS = 21


class DropDuringLogin:
    """A TCP relay to a real sshd that cuts its first connection at the start of the login:
    it reads the client's unencrypted key-exchange packets and, once the client has sent
    NEWKEYS, drops the link at the client's next (encrypted: the login) bytes. Later
    connections are relayed untouched."""

    def __init__(self, port: int):
        self.port = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = self.listener.getsockname()[1]
        self.connections = 0
        self.cut = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.port))
            to_server = self.cut_at_login if self.connections == 1 else self.pump
            threading.Thread(target=self.pump, args=(server, client), daemon=True).start()
            threading.Thread(target=to_server, args=(client, server), daemon=True).start()

    @staticmethod
    def end(*socks: socket.socket) -> None:
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        self.end(src, dst)

    def cut_at_login(self, client: socket.socket, server: socket.socket) -> None:
        buf, banner, keyed = b"", False, False
        try:
            while data := client.recv(65536):
                buf += data
                out = b""
                while buf and not keyed:
                    if not banner:
                        end = buf.find(b"\n")
                        if end < 0:
                            break
                        out, buf, banner = out + buf[: end + 1], buf[end + 1 :], True
                        continue
                    if len(buf) < 6 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
                        break
                    size = 4 + struct.unpack(">I", buf[:4])[0]
                    packet, buf = buf[:size], buf[size:]
                    out += packet
                    keyed = packet[5] == SSH_MSG_NEWKEYS
                if out:
                    server.sendall(out)
                if keyed and buf:  # the first bytes of the login: the link drops
                    self.cut.set()
                    self.end(client, server)
                    return
        except OSError:
            pass
        self.end(client, server)


def test_a_link_dropped_during_the_first_login_is_retried_not_called_refused(sshd, key):
    relay = DropDuringLogin(sshd.port)
    try:
        endpoint = Endpoint("127.0.0.1", relay.address, "root", key, sshd.fingerprint)
        sftp = open_session(endpoint)
        try:
            assert sftp.listdir(".") == []
        finally:
            sftp.close()
    finally:
        relay.close()
    assert relay.cut.is_set() and relay.connections == 2


def test_a_key_the_server_does_not_accept_is_refused(sshd):
    stranger = paramiko.ECDSAKey.generate()  # never authorized
    endpoint = Endpoint("127.0.0.1", sshd.port, "root", stranger, sshd.fingerprint)
    with pytest.raises(CtsiteError, match=r"SFTP login as 'root' .* was refused") as caught:
        open_session(endpoint)
    assert "SSH key" in (caught.value.hint or "")


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

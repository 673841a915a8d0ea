"""An SFTP subsystem for the tests: OpenSSH's own `sftp-server`, with faults a test asks for.

sshd runs `python sftp_faults.py RULES -- /usr/lib/openssh/sftp-server -d ROOT …` as the SFTP
subsystem. Every packet passes through unchanged, except the requests a rule in the JSON file
RULES names. A write (`"request": "write"`, the default) can be

- `"fail"`: answered `SSH_FX_FAILURE` without reaching the server (a remote that refuses one
  write in the middle of a file: the later writes still land, so the file ends with the right
  size and a zero-filled hole), or
- `"corrupt"`: passed on with one byte flipped (the server answers OK: a remote that stores
  wrong bytes without any error; only reading them back can tell).

A `"rename"` (plain or posix-rename), `"remove"` or `"mkdir"` request can be `"fail"`ed the
same way, or `"hold"`: kept from the server until the test releases it (the proxy creates
`held-<rule index>` beside RULES when it starts holding and waits for `release-<rule index>`),
so a test can act at the exact moment between two remote changes, then let the request go on.

RULES is `{"rules": [{"path_contains": "objects/", "nth_write": 2, "fault": "fail",
"times": 1}]}`: for writes, the `nth_write`-th write to a file opened for writing whose path
contains `path_contains` (counted per opened file: sftp-server reuses a closed file's handle);
for other requests, one whose path (a rename's source) contains `path_contains` and, if given,
whose rename target contains `to_contains`. At most `times` firings over all sessions (claimed
with marker files beside RULES, so several connections share the count). The file is read when
a session starts. Standard library only: the script runs under sshd, outside pytest.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

SSH_FXP_OPEN, SSH_FXP_CLOSE, SSH_FXP_WRITE, SSH_FXP_STATUS, SSH_FXP_HANDLE = 3, 4, 6, 101, 102
SSH_FXP_REMOVE, SSH_FXP_MKDIR, SSH_FXP_RENAME, SSH_FXP_EXTENDED = 13, 14, 18, 200
REQUESTS = {SSH_FXP_REMOVE: "remove", SSH_FXP_MKDIR: "mkdir", SSH_FXP_RENAME: "rename"}
SSH_FXF_WRITE = 0x02
SSH_FX_FAILURE = 4


def read_packet(stream: IO[bytes]) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (length,) = struct.unpack(">I", head)
    body = stream.read(length)
    return body if len(body) == length else None


def string_at(body: bytes, offset: int) -> tuple[bytes, int]:
    (length,) = struct.unpack(">I", body[offset : offset + 4])
    start = offset + 4
    return body[start : start + length], start + length


def pack_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def request_paths(body: bytes) -> tuple[str, list[str]] | None:
    """(kind, its paths) of a remove, mkdir or rename request (posix-rename included)."""
    kind, offset = body[0], 5
    if kind == SSH_FXP_EXTENDED:
        name, offset = string_at(body, 5)
        if name != b"posix-rename@openssh.com":
            return None
        kind = SSH_FXP_RENAME
    if kind not in REQUESTS:
        return None
    paths = []
    for _ in range(2 if kind == SSH_FXP_RENAME else 1):
        path, offset = string_at(body, offset)
        paths.append(path.decode("utf-8", "replace"))
    return REQUESTS[kind], paths


class Proxy:
    """One SFTP session: the client's packets to the server and back, with the rules applied."""

    def __init__(self, rules_path: Path, server: list[str]):
        text = rules_path.read_text() if rules_path.is_file() else ""
        self.rules: list[dict[str, Any]] = json.loads(text or "{}").get("rules", [])
        self.markers = rules_path.parent
        self.server = subprocess.Popen(server, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out = sys.stdout.buffer
        self.lock = threading.Lock()
        self.opening: dict[bytes, str] = {}  # request id -> path opened for writing
        self.paths: dict[bytes, str] = {}  # handle -> path
        self.writes: dict[bytes, int] = {}  # handle -> writes seen since it was opened

    def to_client(self, body: bytes) -> None:
        with self.lock:
            self.out.write(struct.pack(">I", len(body)) + body)
            self.out.flush()

    def answers(self) -> None:
        """The server's answers to the client; learns which handle is which file."""
        assert self.server.stdout is not None
        while (body := read_packet(self.server.stdout)) is not None:
            if body[0] == SSH_FXP_HANDLE:  # a new file: its writes are counted from 1
                path = self.opening.pop(body[1:5], None)
                handle = string_at(body, 5)[0]
                self.writes.pop(handle, None)
                if path is not None:
                    self.paths[handle] = path
                else:
                    self.paths.pop(handle, None)
            self.to_client(body)
        self.out.close()

    def claim(self, index: int, rule: dict[str, Any]) -> bool:
        """Take one of the rule's `times` firings (shared by every session)."""
        for n in range(int(rule.get("times", 1))):
            try:
                fd = os.open(self.markers / f"fired-{index}-{n}", os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                continue
            os.close(fd)
            return True
        return False

    def fault(self, handle: bytes) -> str | None:
        path = self.paths.get(handle)
        if path is None:
            return None
        self.writes[handle] = count = self.writes.get(handle, 0) + 1
        for index, rule in enumerate(self.rules):
            if rule.get("request", "write") != "write":
                continue
            if rule["path_contains"] in path and count == int(rule.get("nth_write", 1)):
                if self.claim(index, rule):
                    return str(rule["fault"])
        return None

    def request_fault(self, kind: str, paths: list[str]) -> tuple[int, str] | None:
        """(rule index, fault) of the rule naming this rename/remove/mkdir, if any."""
        for index, rule in enumerate(self.rules):
            if rule.get("request", "write") != kind or rule["path_contains"] not in paths[0]:
                continue
            if "to_contains" in rule and (len(paths) < 2 or rule["to_contains"] not in paths[1]):
                continue
            if self.claim(index, rule):
                return index, str(rule["fault"])
        return None

    def hold(self, index: int) -> None:
        """Keep the request until the test creates `release-<index>` (says `held-<index>`)."""
        (self.markers / f"held-{index}").touch()
        while not (self.markers / f"release-{index}").exists():
            time.sleep(0.01)

    def fail(self, body: bytes) -> None:
        status = struct.pack(">I", SSH_FX_FAILURE) + pack_string(b"Failure")
        self.to_client(bytes([SSH_FXP_STATUS]) + body[1:5] + status + pack_string(b""))

    def requests(self) -> None:
        """The client's requests to the server, a chosen write failed or corrupted."""
        stdin, server = sys.stdin.buffer, self.server.stdin
        assert server is not None
        while (body := read_packet(stdin)) is not None:
            kind = body[0]
            if kind == SSH_FXP_OPEN:
                path, end = string_at(body, 5)
                (flags,) = struct.unpack(">I", body[end : end + 4])
                if flags & SSH_FXF_WRITE:
                    self.opening[body[1:5]] = path.decode("utf-8", "replace")
            elif kind == SSH_FXP_CLOSE:
                handle, _ = string_at(body, 5)
                self.paths.pop(handle, None)
                self.writes.pop(handle, None)
            elif kind == SSH_FXP_WRITE:
                handle, end = string_at(body, 5)
                fault = self.fault(handle)
                if fault == "fail":
                    self.fail(body)
                    continue
                if fault == "corrupt":
                    data, _ = string_at(body, end + 8)
                    flipped = bytes([data[0] ^ 0xFF]) + data[1:]
                    body = body[: end + 8] + pack_string(flipped)
            elif (named := request_paths(body)) is not None:
                found = self.request_fault(*named)
                if found is not None and found[1] == "fail":
                    self.fail(body)
                    continue
                if found is not None and found[1] == "hold":
                    self.hold(found[0])
            server.write(struct.pack(">I", len(body)) + body)
            server.flush()
        server.close()


def main() -> None:
    split = sys.argv.index("--")
    proxy = Proxy(Path(sys.argv[1]), sys.argv[split + 1 :])
    thread = threading.Thread(target=proxy.answers, daemon=True)
    thread.start()
    proxy.requests()
    thread.join()
    proxy.server.wait()


if __name__ == "__main__":
    main()

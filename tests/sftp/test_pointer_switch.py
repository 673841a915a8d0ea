"""The remote pointer switch, killed at every step, on a server that cannot rename over a file.

OpenSSH's sftp server with `posix-rename` refused (`-P posix-rename`) plays the SFTP services
whose plain rename fails when the target exists: the switch then goes through `CURRENT.next`.
A kill is simulated by a session that stops issuing requests before its k-th change (as a
killed process would), against the real server; after any one or two kills the store's reading
rule (`versions.read_pointer`) still finds a pointer naming the old or the new version, and a
run to the end leaves `CURRENT` itself naming the new one and no `CURRENT.next`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import paramiko
import pytest

from ctsite.sftp import publish
from ctsite.sftp.client import Endpoint, connect
from ctsite.store import format as fmt
from ctsite.store import versions

pytestmark = pytest.mark.sshd

V0, V1, V2 = (f"v2026010{n}T000000Z-00000000-0000" for n in (1, 2, 3))
CHANGES = {"open", "rename", "posix_rename", "remove", "mkdir", "rmdir"}


class Killed(Exception):
    """The simulated kill: the process stops before its next remote change."""


class KilledAfter:
    """An SFTP session that dies before its `budget`+1-th change (None: never)."""

    def __init__(self, sftp: Any, budget: int | None):
        self.sftp, self.budget, self.changes = sftp, budget, 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.sftp, name)
        if name not in CHANGES:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
            if name != "open" or any(c in mode for c in "wa+"):
                if self.budget is not None and self.changes >= self.budget:
                    raise Killed(name)
                self.changes += 1
            return real(*args, **kwargs)

        return call


@pytest.fixture
def sftp_server_flags() -> str:
    return "-P posix-rename"


@pytest.fixture
def session(sshd) -> Any:
    key = paramiko.ECDSAKey.generate()
    sshd.authorize(f"{key.get_name()} {key.get_base64()}")
    sftp = connect(Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint))
    yield sftp
    sftp.close()


PUB = publish.LocalVersion("compiled", V2, b'{"schema_version": 3, "files": {}}', frozenset())
NEW = versions.Pointer(V2, V1)

# the remote pointer files before the publish of V2: name -> version it names (None: absent)
STARTS = {
    "settled": {fmt.POINTER: V1},
    "after a kill that removed CURRENT": {fmt.POINTER_NEXT: V1},
    "stale CURRENT.next": {fmt.POINTER: V1, fmt.POINTER_NEXT: V0},
    "CURRENT unreadable": {fmt.POINTER: None, fmt.POINTER_NEXT: V1},
}


def set_state(store: Path, files: dict[str, str | None]) -> None:
    for name in (fmt.POINTER, fmt.POINTER_NEXT):
        (store / name).unlink(missing_ok=True)
    for name, version in files.items():
        data = versions.pointer_bytes(version) if version else b'{"version": "trunc'
        (store / name).write_bytes(data)
    for version in (V0, V1):
        folder = store / fmt.VERSIONS_DIR / version
        folder.mkdir(parents=True, exist_ok=True)
        (folder / fmt.MANIFEST).write_text("{}")


def switch(sftp: Any, budget: int | None) -> int:
    """Run the switch to V2 on a session killed before change `budget`; returns the changes
    made (all of them when it ran to the end)."""
    killing = KilledAfter(sftp, budget)
    try:
        publish.switch_pointer(killing, "data", PUB, NEW)
    except Killed:
        pass
    return killing.changes


def pointer_files(store: Path) -> dict[str, bytes]:
    return {n: (store / n).read_bytes() for n in (fmt.POINTER, fmt.POINTER_NEXT)
            if (store / n).exists()}  # fmt: skip


def restore(store: Path, files: dict[str, bytes]) -> None:
    for name in (fmt.POINTER, fmt.POINTER_NEXT):
        (store / name).unlink(missing_ok=True)
    for name, data in files.items():
        (store / name).write_bytes(data)


@pytest.mark.parametrize("start", list(STARTS), ids=list(STARTS))
def test_kills_at_every_step_of_the_fallback_switch_leave_a_readable_pointer(sshd, session, start):
    store = sshd.root / "data" / "compiled"
    store.mkdir(parents=True)
    set_state(store, STARTS[start])
    steps = switch(session, None)
    assert versions.read_pointer(store) == NEW
    for first in range(steps):  # killed before its change number `first`
        set_state(store, STARTS[start])
        switch(session, first)
        seen = versions.read_pointer(store)
        assert seen is not None and seen.version in {V1, V2}, (first, seen)
        killed_once = pointer_files(store)
        for second in range(steps + 2):  # the re-run, killed too
            restore(store, killed_once)
            switch(session, second)
            seen = versions.read_pointer(store)
            assert seen is not None and seen.version in {V1, V2}, (first, second, seen)
            switch(session, None)  # a re-run that gets to the end restores CURRENT
            assert versions.parse_pointer((store / fmt.POINTER).read_bytes()) == NEW
            assert not (store / fmt.POINTER_NEXT).exists(), (first, second)

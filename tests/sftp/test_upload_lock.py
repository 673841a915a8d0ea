"""The remote store's upload lock against a real sshd: one holder at a time (mkdir is atomic),
a heartbeat that keeps it fresh, a stale lock broken only on request, and a holder whose lock
was broken that stops before the pointer switch (`UploadLock.check`)."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import UTC, datetime, timedelta

import paramiko
import pytest

from ctsite.errors import CtsiteError
from ctsite.sftp.client import Endpoint, connect
from ctsite.sftp.lock import OWNER, Holder, UploadLock, lock_folder

pytestmark = pytest.mark.sshd


@pytest.fixture
def endpoint(sshd) -> Endpoint:
    key = paramiko.ECDSAKey.generate()
    sshd.authorize(f"{key.get_name()} {key.get_base64()}")
    return Endpoint("127.0.0.1", sshd.port, "root", key, sshd.fingerprint)


def new_lock(endpoint: Endpoint, **options) -> UploadLock:
    return UploadLock(lambda: connect(endpoint), lock_folder("data", "compiled"), **options)


def test_one_holder_at_a_time(sshd, endpoint):
    first = new_lock(endpoint)
    with first:
        owner = sshd.root / "data/compiled/.ctsite-upload.lock" / OWNER
        holder = Holder.parse(owner.read_bytes())
        assert holder is not None and holder.token == first.token
        second = new_lock(endpoint, break_stale=True)
        with pytest.raises(CtsiteError) as caught:
            second.acquire()
        err = caught.value
        assert err.message.startswith("another upload holds the remote store's upload lock: ")
        assert holder.who in err.message
        assert re.search(r"started \d+ s ago, last heartbeat \d+ s ago", err.message)
        assert "not broken: its heartbeat is recent" in err.message
        assert "--break-lock" in (err.hint or "")
        first.check("switching the remote pointer")  # still ours
    assert not owner.parent.exists()  # released
    with new_lock(endpoint) as again:
        again.check("pruning")


def test_the_heartbeat_keeps_the_lock_fresh(sshd, endpoint):
    owner = sshd.root / "data/compiled/.ctsite-upload.lock" / OWNER
    with new_lock(endpoint, interval=0.1) as lock:
        assert lock.holder is not None
        old = lock.holder.heartbeat - timedelta(hours=1)
        owner.write_bytes(dataclasses.replace(lock.holder, heartbeat=old).to_bytes())
        deadline = time.monotonic() + 20
        while (beat := Holder.parse(owner.read_bytes())) is None or beat.heartbeat <= old:
            assert time.monotonic() < deadline, "the heartbeat never refreshed the lock"
            time.sleep(0.05)
        assert abs((datetime.now(UTC) - beat.heartbeat).total_seconds()) < 5


def test_a_holder_whose_lock_was_broken_stops_before_the_switch(sshd, endpoint):
    """A holder silent for too long (here: a stale time of 0) is broken by `--break-lock`;
    it then must not switch or prune: `check` raises, and its release leaves the new lock."""
    silent = new_lock(endpoint, interval=3600)
    silent.acquire()
    try:
        breaker = new_lock(endpoint, break_stale=True, stale=0, warn=lambda _m: None)
        breaker.acquire()
        with pytest.raises(CtsiteError, match="no longer holds the remote store's upload lock"):
            silent.check("switching the remote pointer")
        silent.release()
        owner = sshd.root / "data/compiled/.ctsite-upload.lock" / OWNER
        holder = Holder.parse(owner.read_bytes())
        assert holder is not None and holder.token == breaker.token
        assert [p.name for p in owner.parent.parent.iterdir()] == [owner.parent.name]
        breaker.release()
        assert not owner.parent.exists()
    finally:
        silent.release()

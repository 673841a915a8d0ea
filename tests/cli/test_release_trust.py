"""`release --trust-remote` reaches its upload step (issue 22): with it, a same-size tampered
object already on the remote is trusted as the single command's flag does; without it, it is
re-read, found different and sent again (moto + sshd + Stubber, as the other release tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ctsite.store import format as fmt
from tests.cli.test_release import queue_doctor_and_observe, released
from tests.cli.test_release_force import add_dataset, ran, run
from tests.cli.test_release_upload import queue_restart, servers, sftp_peer
from tests.cli.test_upload_verify import objects_match_their_names, tamper

__all__ = ["released", "sftp_peer"]  # fixtures re-used from the release tests


def test_release_passes_trust_remote_to_its_upload(
    released: Path, sftp_peer: Any, stubs: Any
) -> None:
    add_dataset(released)
    run(stubs, "compile", "--quiet")
    run(stubs, "figures")
    run(stubs, "upload-data")
    remote = sftp_peer.root / "data" / "compiled"
    victim = max((remote / fmt.OBJECTS_DIR).iterdir(), key=lambda p: p.stat().st_size)
    tamper(victim)

    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    args = ("release", "--yes", "--force", "upload-data", "--poll", "0.01")
    trusting = run(stubs, *args, "--trust-remote")
    assert ran(trusting.output) == ["upload-data", "restart"]
    assert "0 file(s) sent" in trusting.output
    assert objects_match_their_names(remote) == [victim.name]  # trusted, as asked

    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    checking = run(stubs, *args)
    assert "1 file(s) sent" in checking.output
    assert objects_match_their_names(remote) == []
    assert servers() == []
    stubs.assert_done()

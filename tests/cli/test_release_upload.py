"""A release (and `upload-data --restart`) that really uploads: moto's Transfer Family server,
a real OpenSSH sshd on loopback as its SFTP endpoint, the EB restart under botocore's Stubber.

The sshd peer is the SFTP tests' (`tests/support/fixtures_sftp.py: start_sshd`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.store import versions
from tests.cli.test_release import ENV_QUERY, env, plan_rows, queue_doctor_and_observe, released
from tests.support.fixtures_sftp import start_sshd
from tests.support.reltest import APP, ENV, REGION

__all__ = ["released"]  # the fixture, re-used from the release CLI tests


@pytest.fixture
def sftp_peer(released: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Transfer users created in moto become logins on a real sshd."""
    from moto.transfer.models import TransferBackend

    sshd = start_sshd(tmp_path)
    original = TransferBackend.create_user

    def create_user(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("ssh_public_key_body"):
            sshd.authorize(kwargs["ssh_public_key_body"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TransferBackend, "create_user", create_user)
    for key, value in {
        "CTSITE_SFTP_HOST": "127.0.0.1",
        "CTSITE_SFTP_PORT": str(sshd.port),
        "CTSITE_SFTP_HOST_KEY_FINGERPRINT": sshd.fingerprint,
        "CTSITE_REMOTE_DATA_DIR": "data",
        "CTSITE_TRANSFER_USER": "root",  # the sshd login must be a system user
    }.items():
        monkeypatch.setenv(key, value)
    try:
        yield sshd
    finally:
        sshd.stop()


def queue_restart(stubs: Any) -> None:
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    stubs.eb.add_response("restart_app_server", {}, {"EnvironmentName": ENV})
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)


def servers() -> list[Any]:
    return boto3.client("transfer", region_name=REGION).list_servers()["Servers"]


def test_release_uploads_new_data_then_restarts(released: Path, sftp_peer: Any, stubs: Any) -> None:
    (released / "data" / "compiled" / "new.bin").write_bytes(b"\x07" * 4096)
    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    result = CliRunner().invoke(
        app, ["release", "--yes", "--poll", "0.01"], obj={"aws_client": stubs}
    )
    assert result.exit_code == 0, result.output
    rows = plan_rows(result.output)
    assert [k for k, v in rows.items() if v == "run"] == ["upload-data", "restart"]
    assert "✓ upload-data" in result.output and "✓ restart" in result.output
    assert "deployed version v1: http://ctsite.us-east-2.elasticbeanstalk.com" in result.output
    remote = sftp_peer.root / "data" / "compiled"
    assert (remote / "new.bin").read_bytes() == b"\x07" * 4096
    assert (remote / "genes.feather").is_file()
    assert servers() == []
    stubs.assert_done()

    queue_doctor_and_observe(stubs)  # the upload's record now equals the store
    result = CliRunner().invoke(app, ["release", "--yes"], obj={"aws_client": stubs})
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    stubs.assert_done()


def test_upload_data_restart(released: Path, sftp_peer: Any, stubs: Any) -> None:
    queue_restart(stubs)
    result = CliRunner().invoke(app, ["upload-data", "--restart"], obj={"aws_client": stubs})
    assert result.exit_code == 0, result.output
    assert f"restarting the app servers of {ENV} to load the new data" in result.output
    assert f"✓ {ENV} is Ready" in result.output
    assert servers() == []
    stubs.assert_done()
    assert APP  # the restart used the configured application's environment


def test_upload_data_restart_not_after_a_failed_sync(
    released: Path, stubs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTSITE_SFTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CTSITE_SFTP_PORT", "1")  # nothing listens there
    monkeypatch.setenv("CTSITE_SFTP_HOST_KEY_FINGERPRINT", "SHA256:" + "A" * 43)
    result = CliRunner().invoke(app, ["upload-data", "--restart"], obj={"aws_client": stubs})
    assert result.exit_code != 0
    assert "restarting" not in result.output
    assert servers() == []
    stubs.assert_done()  # no restart requested


def test_whole_data_pipeline_compile_figures_upload_restart(
    released: Path, sftp_peer: Any, stubs: Any
) -> None:
    """New ContactTracing inputs: compile → figures → upload → restart, then nothing to do."""
    from ctsite.compile.demo import demo_config, write_demo

    write_demo(released / "inputs", cells_per_type=40)
    data = demo_config().split("[data]", 1)[1]
    for name in ("interactions.tsv", "expression.h5ad", "deg_"):
        data = data.replace(f'"{name}', f'"inputs/{name}')
    with (released / "ctsite.toml").open("a") as toml:
        toml.write("[data]" + data)

    queue_doctor_and_observe(stubs)
    result = CliRunner().invoke(app, ["release", "--dry-run"], obj={"aws_client": stubs})
    assert result.exit_code == 0, result.output
    rows = plan_rows(result.output)
    assert rows == {"compile": "run", "figures": "run", "build-push": "skip",
                    "upload-data": "run", "deploy": "skip", "restart": "run"}  # fmt: skip
    assert "inputs or parameters changed" in result.output
    stubs.assert_done()

    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    result = CliRunner().invoke(
        app, ["release", "--yes", "--poll", "0.01"], obj={"aws_client": stubs}
    )
    assert result.exit_code == 0, result.output
    for step in ("compile", "figures", "upload-data", "restart"):
        assert f"✓ {step}" in result.output
    remote = sftp_peer.root / "data" / "compiled"
    assert versions.manifest_path(remote).read_bytes() == (
        versions.manifest_path(released / "data" / "compiled").read_bytes()
    )
    assert any((versions.manifest_path(remote).parent / "figures").iterdir())
    assert not (remote / "genes.feather").exists()  # the old store's file was deleted remotely
    assert servers() == []
    stubs.assert_done()

    queue_doctor_and_observe(stubs)
    result = CliRunner().invoke(app, ["release", "--yes"], obj={"aws_client": stubs})
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    stubs.assert_done()

"""`release --force NAME` really forces its step (the workflow runs with force passed through),
and the single commands and `release` leave the same state behind (moto + sshd + Stubber)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.deploy import release_state
from tests.cli.test_release import plan_rows, queue_deploy, queue_doctor_and_observe, released
from tests.cli.test_release_upload import queue_restart, servers, sftp_peer

__all__ = ["released", "sftp_peer"]  # fixtures re-used from the release tests


def run(stubs: Any, *args: str) -> Any:
    result = CliRunner().invoke(app, list(args), obj={"aws_client": stubs})
    assert result.exit_code == 0, result.output
    return result


def ran(output: str) -> list[str]:
    return [k for k, v in plan_rows(output).items() if v == "run"]


def add_dataset(release_project: Path) -> None:
    from ctsite.compile.demo import demo_config, write_demo

    write_demo(release_project / "inputs", cells_per_type=40)
    data = demo_config().split("[data]", 1)[1]
    for name in ("interactions.tsv", "expression.h5ad", "deg_"):
        data = data.replace(f'"{name}', f'"inputs/{name}')
    with (release_project / "ctsite.toml").open("a") as toml:
        toml.write("[data]" + data)


def created(release_project: Path) -> str:
    from ctsite.store.versions import manifest_path

    return json.loads(manifest_path(release_project / "data" / "compiled").read_text())["created"]


def test_single_commands_then_release_agree_and_force_compile_recompiles(
    released: Path, sftp_peer: Any, stubs: Any
) -> None:
    add_dataset(released)
    # The single commands: compile, figures, upload-data --restart.
    run(stubs, "compile", "--quiet")
    run(stubs, "figures")
    queue_restart(stubs)
    run(stubs, "upload-data", "--restart")
    stubs.assert_done()
    from ctsite.store.versions import manifest_path

    remote = manifest_path(sftp_peer.root / "data" / "compiled")
    assert remote.read_bytes() == manifest_path(released / "data" / "compiled").read_bytes()

    # release sees the state the single commands left: nothing to do.
    queue_doctor_and_observe(stubs)
    result = run(stubs, "release", "--yes")
    assert "nothing to do" in result.output
    stubs.assert_done()

    # --force compile: the compile step really rebuilds (it used to say "up to date").
    before = created(released)
    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    result = run(stubs, "release", "--yes", "--force", "compile", "--poll", "0.01")
    assert ran(result.output) == ["compile", "figures", "upload-data", "restart"]
    assert "forced (--force compile)" in result.output
    assert "✓ compile" in result.output and "built:" in result.output
    assert "up-to-date" not in result.output
    assert created(released) != before
    remote = manifest_path(sftp_peer.root / "data" / "compiled")  # the new version's
    assert remote.read_bytes() == manifest_path(released / "data" / "compiled").read_bytes()
    assert servers() == []
    stubs.assert_done()

    # --force figures: only the figures (and what depends on the store) run.
    figures_dir = manifest_path(released / "data" / "compiled").parent / "figures"
    figures = sorted(figures_dir.rglob("*"))
    for path in figures:
        if path.is_file():
            path.unlink()
    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    result = run(stubs, "release", "--yes", "--force", "figures", "--poll", "0.01")
    assert ran(result.output) == ["figures", "upload-data", "restart"]
    assert "forced (--force figures)" in result.output
    assert any(p.is_file() for p in figures_dir.rglob("*"))
    stubs.assert_done()


def test_force_upload_data_uploads_an_unchanged_store(
    released: Path, sftp_peer: Any, stubs: Any
) -> None:
    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    result = run(stubs, "release", "--yes", "--force", "upload-data", "--poll", "0.01")
    assert ran(result.output) == ["upload-data", "restart"]
    assert "forced (--force upload-data)" in result.output
    assert "✓ upload-data" in result.output
    assert (sftp_peer.root / "data" / "compiled" / "genes.feather").is_file()
    assert servers() == []
    stubs.assert_done()


def test_force_deploy_deploys_an_unchanged_bundle(released: Path, stubs: Any) -> None:
    queue_doctor_and_observe(stubs)
    queue_deploy(stubs, "v2")
    result = run(
        stubs, "release", "--yes", "--force", "deploy", "--label", "v2", "-m", "config change",
        "--poll", "0.01",
    )  # fmt: skip
    assert ran(result.output) == ["deploy"]
    assert "forced (--force deploy)" in result.output and "✓ deploy" in result.output
    assert release_state.read_state(released)["deploy"]["label"] == "v2"
    stubs.assert_done()


def test_force_restart_restarts(released: Path, stubs: Any) -> None:
    queue_doctor_and_observe(stubs)
    queue_restart(stubs)
    result = run(stubs, "release", "--yes", "--force", "restart", "--poll", "0.01")
    assert ran(result.output) == ["restart"]
    assert "forced (--force restart)" in result.output and "✓ restart" in result.output
    stubs.assert_done()


@pytest.mark.parametrize("step", ["compile", "figures", "build-push", "upload-data", "deploy"])
def test_every_force_name_is_planned(released: Path, stubs: Any, step: str) -> None:
    """The plan runs each forced step (build-push's real run is in test_release_image)."""
    if step == "compile":
        add_dataset(released)
    queue_doctor_and_observe(stubs)
    result = CliRunner().invoke(
        app, ["release", "--dry-run", "--force", step], obj={"aws_client": stubs}
    )
    if step == "build-push" and result.exit_code != 0:  # no Docker engine here: doctor stops it
        assert "Docker engine" in result.output
        return
    assert result.exit_code == 0, result.output
    assert plan_rows(result.output)[step] == "run"
    assert f"forced (--force {step})" in result.output

"""The release workflow called directly (`ctsite.deploy.release`): `prepare` (doctor → observe →
plan) and `execute` (the chosen steps, through the same workflows as the single commands), with
explicit options. moto plays STS, IAM, EFS, S3, ECR and Transfer; Elastic Beanstalk is a real
boto3 client under botocore's Stubber. The CLI's rendering of all this is tests/cli/test_release*.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ctsite.config import Settings, load_settings
from ctsite.deploy import release_state
from ctsite.deploy.release import ReleaseBlocked, ReleaseOptions, execute, prepare
from ctsite.deploy.release_plan import STEPS
from ctsite.errors import CtsiteError
from tests.cli.test_release import DIGEST, ENV_QUERY, env, queue_doctor_and_observe, released
from tests.cli.test_release_upload import queue_restart
from tests.support.reltest import ENV
from tests.support.reporting import RecordingReporter

__all__ = ["released"]  # the fixture re-used from the release CLI tests


def settings(project: Path) -> Settings:
    return load_settings(root=project)


def docker_up() -> None:
    """The doctor's Docker check: an engine that answers."""


def test_options_are_checked_before_anything_runs() -> None:
    assert ReleaseOptions.checked(["upload-data"]).force == frozenset({"upload-data"})
    with pytest.raises(CtsiteError, match="unknown step"):
        ReleaseOptions.checked(["uplaod-data"])
    with pytest.raises(CtsiteError, match="--poll must be positive"):
        ReleaseOptions.checked(poll=0)
    with pytest.raises(CtsiteError):
        ReleaseOptions.checked(label="not a label!")


def test_prepare_after_a_release_plans_nothing_and_execute_changes_nothing(
    released: Path, stubs: Any
) -> None:
    s = settings(released)
    queue_doctor_and_observe(stubs)
    prepared = prepare(s, stubs, ReleaseOptions.checked(), docker_ping=docker_up)
    assert [d.step for d in prepared.decisions] == list(STEPS)
    assert prepared.nothing_to_do and prepared.cost == 0 and prepared.blocking == []
    seen = prepared.observed
    assert (seen.running_label, seen.recorded_label) == ("v1", "v1")
    assert (seen.recorded_digest, seen.digest_in_registry) == (DIGEST, True)
    assert seen.upload_files == 0 and seen.unchecked == ()
    before = release_state.read_state(released)
    stubs.eb.add_response("describe_environments", {"Environments": [env()]}, ENV_QUERY)
    reporter = RecordingReporter()
    result = execute(s, stubs, prepared, reporter=reporter)
    assert result.steps == [] and reporter.sections == []
    assert result.environment is not None and result.environment.version == "v1"
    assert release_state.read_state(released) == before
    stubs.assert_done()


def test_a_forced_step_runs_through_its_own_workflow(released: Path, stubs: Any) -> None:
    """`force=restart` runs the restart workflow (`ctsite restart`'s) and nothing else."""
    s = settings(released)
    queue_doctor_and_observe(stubs)
    options = ReleaseOptions.checked(["restart"], poll=0.01)
    prepared = prepare(s, stubs, options, docker_ping=docker_up)
    assert [d.step for d in prepared.decisions if d.run] == ["restart"]
    queue_restart(stubs)
    reporter = RecordingReporter()
    result = execute(s, stubs, prepared, reporter=reporter)
    assert [(step.step, step.detail) for step in result.steps] == [("restart", "v1 restarted")]
    assert len(reporter.sections) == 1 and reporter.sections[0].startswith("restart — ")
    assert reporter.infos == [f"restarting the app servers of {ENV}"]
    assert result.environment is not None and result.environment.status == "Ready"
    stubs.assert_done()


def test_a_failed_check_blocks_prepare_but_a_dry_run_plans_anyway(
    released: Path, stubs: Any
) -> None:
    """With the EB environment unreadable the doctor fails: prepare refuses, a dry run plans
    with what it could read and lists the rest."""
    s = settings(released)

    def queue_missing_environment() -> None:
        stubs.eb.add_response(
            "describe_applications",
            {"Applications": [{"ApplicationName": s.eb_application}]},
            {"ApplicationNames": [s.eb_application]},
        )
        stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)

    queue_missing_environment()
    with pytest.raises(ReleaseBlocked) as blocked:
        prepare(s, stubs, ReleaseOptions.checked(), docker_ping=docker_up)
    assert "EB environment" in blocked.value.message
    assert any(c.name == "EB environment" and not c.ok for c in blocked.value.checks)
    queue_missing_environment()
    stubs.eb.add_response("describe_environments", {"Environments": []}, ENV_QUERY)
    planned = prepare(s, stubs, ReleaseOptions.checked(), docker_ping=docker_up, dry_run=True)
    assert [note.split(":")[0] for note in planned.observed.unchecked] == ["the running version"]
    assert planned.observed.running_label is None
    stubs.assert_done()


def test_views_without_their_index_do_not_count_as_precomputed(tmp_path: Path) -> None:
    """The site serves only views recorded in SHA256SUMS, so the release's figures step runs
    again for a store whose views have none (written by an older ctsite, or interrupted)."""
    from ctsite.deploy.release import figures_present

    folder = tmp_path / "figures"
    folder.mkdir()
    (folder / "circos-c1-x.json").write_text("{}")
    assert not figures_present(tmp_path)
    digest = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    (folder / "SHA256SUMS").write_text(f"{digest}  circos-c1-x.json\n")
    assert figures_present(tmp_path)

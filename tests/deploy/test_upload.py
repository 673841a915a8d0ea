"""The upload workflow (`ctsite.deploy.upload`) called directly: a sync to a real sshd through
moto's Transfer API, the offline plan of a dry run; and a Transfer server cannot outlive its
run: heartbeat rule, safety net, deletion failures, signals while the server is created or
deleted (moto's AWS server, real sshd for the CLI)."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from ctsite.aws import clients as aws
from ctsite.aws import scheduler, transfer
from ctsite.config import load_settings
from ctsite.deploy import upload
from ctsite.deploy.doctor import describe_server
from ctsite.errors import CtsiteError
from tests.cli.test_upload import make_project
from tests.support.cli import cli_env, run_ctsite
from tests.support.factories import serving
from tests.support.reporting import RecordingReporter

REGION = "us-east-2"


def settings(tmp_path: Path, **overrides):
    return load_settings(root=tmp_path, overrides=overrides)


def tags_of(server_id: str) -> dict[str, str]:
    tc = boto3.client("transfer", region_name=REGION)
    return {t["Key"]: t["Value"] for t in tc.describe_server(ServerId=server_id)["Server"]["Tags"]}


def reaper_role() -> str:
    iam = boto3.client("iam", region_name=REGION)
    trust = '{"Version":"2012-10-17","Statement":[]}'
    return iam.create_role(RoleName="ctsite-transfer-reaper", AssumeRolePolicyDocument=trust)[
        "Role"
    ]["Arn"]


# ---------------------------------------------------------------- the workflow, called directly


def test_upload_data_refuses_a_missing_data_folder_before_any_aws_call(tmp_path):
    s = settings(tmp_path, data_dir="nowhere")

    def no_aws(*_args, **_kwargs):
        raise AssertionError("no AWS client may be made")

    with pytest.raises(CtsiteError, match="data directory not found"):
        upload.upload_data(s, no_aws)


def test_plan_offline_upload_prices_against_the_last_record(tmp_path):
    """The dry run's plan needs no AWS: all files before a first upload, none once recorded."""
    from ctsite.sftp import manifest

    files = {"compiled/a.bin": b"a" * 3000, "compiled/b.bin": b"b" * 1000}
    s = settings(make_project(tmp_path, files))
    first = upload.plan_offline_upload(s)
    assert (first.files, first.upload_bytes, first.deletions) == (2, 4000, [])
    assert first.offline and not first.has_record
    assert first.estimated_cost > 0 and first.delete_scope == ["compiled"]
    manifest.write_local_manifest(s.data_path, manifest.scan_local(s.data_path))
    again = upload.plan_offline_upload(s, delete=False)
    assert (again.files, again.unchanged, again.has_record) == (0, 2, True)
    assert again.delete_scope == []


@pytest.mark.sshd
def test_upload_data_syncs_then_finds_nothing_to_send(tmp_path, transfer_to_sshd, transfer_servers):
    _aws, sshd = transfer_to_sshd
    files = {f"compiled/c{i}.bin": os.urandom(5_000 + i) for i in range(3)}
    s = settings(make_project(tmp_path, files))
    reporter = RecordingReporter()
    done = upload.upload_data(s, aws.client_factory(s), reporter=reporter)
    assert (done.files_sent, done.bytes_sent, done.deleted) == (3, 15_003, 0)
    assert done.plan.files == 3 and done.restarted is None and done.server_seconds > 0
    remote = sshd.root / "data"
    assert {
        p.relative_to(remote).as_posix(): p.read_bytes() for p in remote.rglob("*.bin")
    } == files
    assert transfer_servers() == []  # the server is deleted once the sync is done
    assert "plan: 3 file(s) to send, 0 remote file(s) to delete, 0 unchanged" in reporter.infos
    assert reporter.infos[-1].startswith("deleting the Transfer Family server")
    again = upload.upload_data(s, aws.client_factory(s))
    assert (again.files_sent, again.plan.unchanged) == (0, 3)
    assert transfer_servers() == []


# ---------------------------------------------------------------- the heartbeat rule


def test_liveness_rule():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    old = now - timedelta(hours=9)

    def server(created, heartbeat):
        return transfer.StrayServer("s-1", "ONLINE", created, "a@b", heartbeat)

    assert server(old, now - timedelta(seconds=30)).is_alive(now)  # old but beating
    assert not server(old, now - timedelta(minutes=10)).is_alive(now)  # heartbeat stale
    assert server(now - timedelta(minutes=1), None).is_alive(now)  # just created
    assert not server(old, None).is_alive(now)  # no heartbeat and old
    assert not server(None, None).is_alive(now)  # nothing known: a stray


def test_find_stray_servers_skips_live_ones(tmp_path, moto_aws, left_behind):
    beating = left_behind(hours_old=9, heartbeat_age_s=20)
    stale = left_behind(hours_old=9, heartbeat_age_s=900)
    silent = left_behind(hours_old=9)
    fresh = left_behind(hours_old=0.01)
    factory = aws.client_factory(settings(tmp_path))
    assert {s.server_id for s in transfer.find_stray_servers(factory)} == {stale, silent}
    every = {s.server_id for s in transfer.find_stray_servers(factory, include_live=True)}
    assert every == {beating, stale, silent, fresh}


def test_heartbeat_refreshes_the_tag(tmp_path, moto_aws, monkeypatch):
    monkeypatch.setattr(transfer, "HEARTBEAT_SECONDS", 0.1)
    s = settings(tmp_path)
    tc = boto3.client("transfer", region_name=REGION)
    with transfer.ephemeral_server(upload.server_config(s), aws.client_factory(s)) as srv:
        arn = tc.describe_server(ServerId=srv.server_id)["Server"]["Arn"]
        tc.tag_resource(Arn=arn, Tags=[{"Key": transfer.TAG_HEARTBEAT, "Value": "2000-01-01"}])
        deadline = time.monotonic() + 10
        while tags_of(srv.server_id)[transfer.TAG_HEARTBEAT] == "2000-01-01":
            assert time.monotonic() < deadline, "the heartbeat never refreshed the tag"
            time.sleep(0.05)
        beat = datetime.fromisoformat(tags_of(srv.server_id)[transfer.TAG_HEARTBEAT])
        assert abs((datetime.now(UTC) - beat).total_seconds()) < 5


def test_cleanup_during_a_live_upload_leaves_its_server(tmp_path, moto_aws, transfer_servers):
    s = settings(tmp_path)
    env = cli_env(COLUMNS="200")
    with transfer.ephemeral_server(upload.server_config(s), aws.client_factory(s)) as srv:
        run = run_ctsite("upload-data", "--cleanup", cwd=tmp_path, env=env, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "no ctsite Transfer servers left behind" in run.stdout
        assert [x["ServerId"] for x in transfer_servers()] == [srv.server_id]
        forced = run_ctsite(
            "upload-data", "--cleanup", "--force", cwd=tmp_path, env=env, timeout=120
        )
        assert forced.returncode == 0, forced.stderr
        assert f"deleted {srv.server_id}" in forced.stdout
        assert transfer_servers() == []
    # teardown found it already gone: no error


# ---------------------------------------------------------------- the safety net


def test_safety_net_created_shown_and_removed(tmp_path, moto_aws, transfer_servers):
    role = reaper_role()
    s = settings(tmp_path, transfer_max_age_hours=3)
    factory = aws.client_factory(s)
    sch = boto3.client("scheduler", region_name=REGION)
    with transfer.ephemeral_server(upload.server_config(s), factory) as srv:
        assert srv.safety_net is not None
        raw = sch.get_schedule(Name=scheduler.schedule_name(srv.server_id), GroupName="default")
        assert raw["Target"]["RoleArn"] == role
        assert srv.server_id in raw["Target"]["Input"]
        left = srv.safety_net.hours_left()
        assert left is not None and 2.9 < left <= 3.0
        (shown,) = transfer.find_stray_servers(factory, include_live=True)
        assert shown.safety_net == srv.safety_net.delete_at
        words = describe_server(shown, s.transfer_hourly_cost)
        assert f"safety net deletes it at {srv.safety_net.delete_at:%Y-%m-%d %H:%M}" in words
    assert transfer_servers() == []
    assert scheduler.find(factory) == []


def test_missing_scheduler_role_warns_once_and_the_upload_goes_on(
    tmp_path, moto_aws, transfer_servers
):
    s = settings(tmp_path)
    warned: list[str] = []
    with transfer.ephemeral_server(
        upload.server_config(s), aws.client_factory(s), warn=warned.append
    ) as srv:
        assert srv.safety_net is None
        assert transfer_servers()
    assert len(warned) == 1
    assert "no safety net" in warned[0] and "ctsite provision" in warned[0]
    assert transfer_servers() == []


# ---------------------------------------------------------------- deletion failures


def test_deleting_a_gone_server_is_not_an_error(tmp_path, moto_aws):
    factory = aws.client_factory(settings(tmp_path))
    assert transfer.delete_server(factory, "s-00000000000000000", REGION) is False


def test_deletion_refused_names_server_cost_and_command(
    tmp_path, moto_aws, transfer_servers, delete_fails
):
    s = settings(tmp_path)
    calls = delete_fails("AccessDeniedException")
    with pytest.raises(CtsiteError) as caught:
        with transfer.ephemeral_server(upload.server_config(s), aws.client_factory(s)) as srv:
            pass
    err = caught.value
    assert srv.deleted is False
    assert calls == [srv.server_id]  # not retried: a refusal is not transient
    assert srv.server_id in err.message and "AccessDeniedException" in err.message
    assert "$0.30 per hour" in err.message and "<html" not in err.message
    assert f"aws transfer delete-server --server-id {srv.server_id}" in (err.hint or "")
    assert [x["ServerId"] for x in transfer_servers()] == [srv.server_id]


def test_transient_deletion_failure_is_retried_by_botocore(
    tmp_path, moto_aws, delete_fails, monkeypatch
):
    monkeypatch.setattr(transfer, "DELETE_ATTEMPTS", 3)
    calls = delete_fails("ServiceUnavailableException", 503)
    factory = aws.client_factory(settings(tmp_path))
    with pytest.raises(
        CtsiteError, match="could not delete the Transfer server s-0123456789abcdef0"
    ) as caught:
        transfer.delete_server(factory, "s-0123456789abcdef0", REGION)
    assert len(calls) == 3, caught.value.message


def test_safety_net_stays_while_the_server_could_not_be_deleted(
    tmp_path, moto_aws, transfer_servers, delete_fails
):
    """The schedule is the last guard of a server that still bills: it goes only after the
    server is really gone (a refused deletion keeps it)."""
    reaper_role()
    s = settings(tmp_path)
    delete_fails("AccessDeniedException")
    factory = serving(boto3.client("scheduler", region_name=REGION))
    with pytest.raises(CtsiteError, match="could not delete the Transfer server"):
        with transfer.ephemeral_server(upload.server_config(s), aws.client_factory(s)) as srv:
            pass
    assert [x["ServerId"] for x in transfer_servers()] == [srv.server_id]
    assert [n.server_id for n in scheduler.find(factory)] == [srv.server_id]


def test_unreachable_endpoint_while_deleting_is_one_line_and_keeps_the_safety_net(
    tmp_path, moto_aws, transfer_servers, monkeypatch
):
    """A BotoCoreError (here a real refused connection) during DeleteServer: the same one-line
    error naming the server, its hourly cost and the command that deletes it; the safety net
    stays armed."""
    reaper_role()
    monkeypatch.setattr(transfer, "DELETE_ATTEMPTS", 1)
    s = settings(tmp_path)
    factory = serving(boto3.client("scheduler", region_name=REGION))
    with pytest.raises(CtsiteError) as caught:
        with transfer.ephemeral_server(upload.server_config(s), aws.client_factory(s)) as srv:
            # the deletion client is made at teardown: it reaches a closed port
            monkeypatch.setenv("AWS_ENDPOINT_URL_TRANSFER", "http://127.0.0.1:9")
    err = caught.value
    assert srv.deleted is False
    assert err.message.startswith(f"could not delete the Transfer server {srv.server_id} (")
    assert "EndpointConnectionError" in err.message and "\n" not in err.message
    assert "$0.30 per hour" in err.message and "safety net deletes it at" in err.message
    assert f"aws transfer delete-server --server-id {srv.server_id}" in (err.hint or "")
    monkeypatch.delenv("AWS_ENDPOINT_URL_TRANSFER")
    assert [x["ServerId"] for x in transfer_servers()] == [srv.server_id]
    assert [n.server_id for n in scheduler.find(factory)] == [srv.server_id]


def test_cleanup_keeps_the_safety_net_of_a_server_it_could_not_delete(
    tmp_path, moto_aws, left_behind, delete_fails
):
    role = reaper_role()
    orphan = left_behind(hours_old=5)
    factory = serving(boto3.client("scheduler", region_name=REGION))
    scheduler.create(factory, orphan, max_age_hours=1, role_arn=role)
    delete_fails("AccessDeniedException")
    s = settings(tmp_path)
    with pytest.raises(CtsiteError, match=f"could not delete the Transfer server {orphan}"):
        upload.cleanup(s, aws.client_factory(s), delete=True)
    assert [n.server_id for n in scheduler.find(factory)] == [orphan]


def test_only_servers_tagged_ephemeral_true_are_ctsites(tmp_path, moto_aws, left_behind):
    """THE rule is the tag's value, not its presence: a server someone tagged
    ctsite:ephemeral=false (kept on purpose) is never reported or deleted."""
    orphan = left_behind(hours_old=5)
    tc = boto3.client("transfer", region_name=REGION)
    created = (datetime.now(UTC) - timedelta(hours=5)).replace(microsecond=0).isoformat()
    kept = tc.create_server(
        Tags=[
            {"Key": transfer.TAG_EPHEMERAL, "Value": "false"},
            {"Key": transfer.TAG_CREATED, "Value": created},
        ]
    )["ServerId"]
    s = settings(tmp_path)
    factory = aws.client_factory(s)
    assert [x.server_id for x in transfer.find_stray_servers(factory, include_live=True)] == [
        orphan
    ]
    result = upload.cleanup(s, factory, delete=True)
    assert result.deleted == [orphan]
    assert [x["ServerId"] for x in tc.list_servers()["Servers"]] == [kept]


def test_a_beating_server_is_never_swept_by_cleanup(tmp_path, moto_aws, left_behind):
    """The heartbeat tag, not the creation time, says a long upload is alive."""
    beating = left_behind(hours_old=9, heartbeat_age_s=20)
    s = settings(tmp_path)
    result = upload.cleanup(s, aws.client_factory(s), delete=True)
    assert result.deleted == [] and result.servers == []
    tc = boto3.client("transfer", region_name=REGION)
    assert [x["ServerId"] for x in tc.list_servers()["Servers"]] == [beating]


# ---------------------------------------------------------------- signals


def _signal_during(monkeypatch, method: str, signum: int) -> None:
    """moto's backend sends `signum` to this process while it handles `method`."""
    from moto.transfer.models import TransferBackend

    original = getattr(TransferBackend, method)

    def patched(self, *args, **kwargs):
        os.kill(os.getpid(), signum)
        time.sleep(0.2)  # the signal arrives while the call is still in flight
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TransferBackend, method, patched)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("method", ["create_server", "delete_server"])
def test_signal_while_creating_or_deleting_still_deletes(
    tmp_path, moto_aws, transfer_servers, monkeypatch, method, signum
):
    assert threading.current_thread() is threading.main_thread()
    _signal_during(monkeypatch, method, signum)
    s = settings(tmp_path)
    entered = False
    with pytest.raises(KeyboardInterrupt, match=signal.Signals(signum).name):
        with transfer.ephemeral_server(upload.server_config(s), aws.client_factory(s)):
            entered = True
    assert entered is (method == "delete_server")  # a signal during creation stops the run
    assert transfer_servers() == []


# ---------------------------------------------------------------- the workflow's limits


def test_max_delete_refuses_a_plan_deleting_more(tmp_path):
    plan = upload.UploadPlan(0, 0, ["a", "b", "c"], 0, [""], 0.0, 0.0, False)
    upload.check_max_delete(plan, 3)
    upload.check_max_delete(plan, None)
    with pytest.raises(CtsiteError, match="deletes 3 remote file") as caught:
        upload.check_max_delete(plan, 2)
    assert "--max-delete 3" in (caught.value.hint or "")

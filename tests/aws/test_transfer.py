"""The ephemeral Transfer Family server against moto's AWS server: created, tagged, always deleted."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from ctsite.aws import clients as aws
from ctsite.aws import transfer
from ctsite.config import load_settings
from ctsite.deploy.upload import server_config
from ctsite.errors import CtsiteError
from tests.support.factories import serving

REGION = "us-east-2"


def settings(tmp_path, **overrides):
    return load_settings(root=tmp_path, overrides=overrides)


def test_server_lifecycle_tags_user_and_teardown(tmp_path, moto_aws, transfer_servers):
    s = settings(tmp_path)
    tc = boto3.client("transfer", region_name=REGION)
    seen = []
    with transfer.ephemeral_server(
        server_config(s), aws.client_factory(s), status=seen.append
    ) as srv:
        server = tc.describe_server(ServerId=srv.server_id)["Server"]
        assert server["State"] == "ONLINE"
        assert server["Domain"] == "EFS"
        assert server["IdentityProviderType"] == "SERVICE_MANAGED"
        assert server["Protocols"] == ["SFTP"]
        assert server["LoggingRole"].endswith(":role/AWSTransferLoggingAccess")
        tags = {t["Key"]: t["Value"] for t in server["Tags"]}
        assert tags[transfer.TAG_EPHEMERAL] == "true"
        assert datetime.fromisoformat(tags[transfer.TAG_CREATED]) <= datetime.now(UTC)
        assert "@" in tags[transfer.TAG_BY]
        user = tc.describe_user(ServerId=srv.server_id, UserName=s.transfer_user)["User"]
        assert user["HomeDirectory"] == f"/{moto_aws.efs_id}"
        assert user["PosixProfile"]["Uid"] == 0 and user["PosixProfile"]["Gid"] == 0
        assert user["Role"].endswith(":role/ctsite-transfer-user")  # its own role
        body = user["SshPublicKeys"][0]["SshPublicKeyBody"]
        assert body.split()[1] == srv.endpoint.pkey.get_base64()
        assert "PRIVATE" not in body
        assert srv.endpoint.host == f"{srv.server_id}.server.transfer.{REGION}.amazonaws.com"
        assert transfer_servers()
    assert transfer_servers() == []
    assert any("deleting" in m for m in seen)


def test_server_deleted_after_exception(tmp_path, moto_aws, transfer_servers):
    with pytest.raises(RuntimeError, match="boom"):
        with transfer.ephemeral_server(
            server_config(settings(tmp_path)), aws.client_factory(settings(tmp_path))
        ):
            assert len(transfer_servers()) == 1
            raise RuntimeError("boom")
    assert transfer_servers() == []


def test_server_never_online_times_out_and_is_deleted(
    tmp_path, moto_aws, monkeypatch, transfer_servers
):
    from moto.transfer.models import TransferBackend

    original = TransferBackend.create_server

    def stuck(self, *args, **kwargs):
        server_id = original(self, *args, **kwargs)
        self.servers[server_id].state = "STARTING"
        return server_id

    monkeypatch.setattr(TransferBackend, "create_server", stuck)
    s = settings(tmp_path, transfer_online_timeout=2)
    with pytest.raises(CtsiteError, match=r"did not come ONLINE within 2 s.*STARTING"):
        with transfer.ephemeral_server(server_config(s), aws.client_factory(s)):
            pytest.fail("must not be reached")
    assert transfer_servers() == []


def test_wrong_efs_id_is_a_clear_aws_error(tmp_path, moto_aws, transfer_servers):
    s = settings(tmp_path, efs_file_system_id="fs-0000000000bad")
    with pytest.raises(CtsiteError) as info:
        with transfer.ephemeral_server(server_config(s), aws.client_factory(s)):
            pytest.fail("must not be reached")
    assert "fs-0000000000bad" in info.value.message
    assert "not found in us-east-2" in info.value.message
    assert transfer_servers() == []


def test_missing_role_is_a_clear_aws_error(tmp_path, moto_aws, transfer_servers):
    s = settings(tmp_path, transfer_user_role="no-such-role")
    with pytest.raises(CtsiteError, match=r"IAM role 'no-such-role' not found"):
        with transfer.ephemeral_server(server_config(s), aws.client_factory(s)):
            pytest.fail("must not be reached")
    assert transfer_servers() == []


def test_no_efs_configured(tmp_path, moto_aws, monkeypatch, transfer_servers):
    monkeypatch.delenv("CTSITE_EFS_FILE_SYSTEM_ID")
    with pytest.raises(CtsiteError, match="no EFS file system configured"):
        with transfer.ephemeral_server(
            server_config(settings(tmp_path)), aws.client_factory(settings(tmp_path))
        ):
            pass


def test_find_orphans_sees_only_ctsite_servers(tmp_path, moto_aws, transfer_servers, left_behind):
    orphan = left_behind(hours_old=5)
    tc = boto3.client("transfer", region_name=REGION)
    other = tc.create_server(Tags=[{"Key": "team", "Value": "x"}])["ServerId"]
    s = settings(tmp_path)
    found = transfer.find_stray_servers(aws.client_factory(s))
    assert [o.server_id for o in found] == [orphan]
    assert 4.9 < found[0].age_hours() < 5.1
    transfer.delete_server(aws.client_factory(s), orphan, REGION)
    assert [s["ServerId"] for s in transfer_servers()] == [other]


def test_aws_errors_turn_botocore_failures_into_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    tc = aws.client(settings(tmp_path), "transfer")
    with pytest.raises(CtsiteError) as info:
        with aws.aws_errors("list the servers"):
            tc.list_servers()
    assert info.value.message.startswith("could not list the servers: cannot reach")
    assert "AWS_ENDPOINT_URL" in info.value.hint
    assert "\n" not in info.value.message


def test_aws_errors_no_credentials(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    tc = aws.client(settings(tmp_path), "transfer")
    with pytest.raises(CtsiteError, match="no AWS credentials"):
        with aws.aws_errors("list the servers"):
            tc.list_servers()


def test_aws_errors_as_decorator_names_code_message_and_fix():
    from botocore.exceptions import ClientError, WaiterError

    @aws.aws_errors("delete the thing")
    def denied():
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
        raise ClientError(error, "DeleteThing")

    with pytest.raises(CtsiteError) as info:
        denied()
    assert (
        info.value.message == "could not delete the thing: AWS AccessDeniedException: not allowed"
    )
    assert "IAM" in info.value.hint

    with pytest.raises(CtsiteError, match="gave up waiting"):
        with aws.aws_errors("wait for the thing"):
            raise WaiterError("ThingReady", "Max attempts exceeded", {})
    with pytest.raises(ValueError):  # anything else passes through untouched
        with aws.aws_errors("do the thing"):
            raise ValueError("mine")


@pytest.fixture
def stubbed_transfer(aws_env):
    """A Transfer client whose answers the test queues (every one must be used)."""
    from botocore.stub import Stubber

    client = boto3.client("transfer", region_name=REGION)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_a_server_gone_between_list_and_describe_is_skipped_a_refusal_is_not(stubbed_transfer):
    """Only ResourceNotFoundException means "deleted meanwhile"; a refused DescribeServer is a
    clear error, not a server silently left out of the strays (it was skipped before)."""
    server_id = "s-0123456789abcdef0"
    listed = {"Servers": [{"Arn": f"arn:aws:transfer:{REGION}:1:server/{server_id}"}]}
    listed["Servers"][0]["ServerId"] = server_id
    factory = serving(stubbed_transfer.client)
    stubbed_transfer.add_response("list_servers", listed)
    stubbed_transfer.add_client_error("describe_server", "ResourceNotFoundException", "gone")
    assert transfer.find_stray_servers(factory) == []
    stubbed_transfer.add_response("list_servers", listed)
    stubbed_transfer.add_client_error("describe_server", "AccessDeniedException", "not allowed")
    with pytest.raises(CtsiteError) as refused:
        transfer.find_stray_servers(factory)
    assert refused.value.message == (
        f"could not describe the Transfer server {server_id}: "
        "AWS AccessDeniedException: not allowed"
    )

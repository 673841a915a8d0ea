"""plan → apply → re-plan → change → staging → destroy, against moto's CloudFormation (a real
moto server through AWS_ENDPOINT_URL). moto skips the AWS::ElasticBeanstalk::* and
AWS::ECR::PublicRepository resources (it has no CloudFormation model for them) but creates the
EFS file system, mount targets, security group, IAM roles and SNS topic for real."""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctsite.aws.cloudformation import CloudFormation
from ctsite.cli import app
from ctsite.config import load_settings
from ctsite.deploy.provision import environments, stack
from ctsite.errors import CtsiteError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _settings(project: Path, **overrides: object):
    return load_settings(root=project, overrides=overrides)


def _plan(clients, s, env: str = "production", lines: list[str] | None = None):
    target = environments.resolve_environment(s, env)
    report = lines.append if lines is not None else (lambda _: None)
    return stack.plan_environment(s, target, clients, report=report)


def _inline_policy(iam, role: str, name: str) -> dict:
    """An inline policy of a role the stack made. moto keeps such a policy as the text of a
    Python dict (not JSON, as IAM does), hence literal_eval."""
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return ast.literal_eval(document) if isinstance(document, str) else document


def test_plan_apply_replan_change(project: Path, clients) -> None:
    s = _settings(project)
    cfn = CloudFormation(clients)
    first = _plan(clients, s)
    assert first.new_stack and not first.unchanged
    actions = {r.logical_id: r.action for r in first.rows}
    assert actions["FileSystem"] == "add" and actions["Environment"] == "add"
    assert {"SecurityGroup", "NfsIngress", "InstanceRole", "TransferLoggingRole"} <= set(actions)
    assert actions["TransferUserRole"] == "add"
    assert "Repository" not in actions  # ECR Public lives in us-east-1 only
    assert first.monthly_usd == pytest.approx(15.18 + 3.65 + 0.6, abs=0.02)

    events: list[str] = []
    outcome = stack.apply(cfn, first, report=events.append, poll_s=0.05)
    assert outcome.status == "CREATE_COMPLETE"
    assert any("CREATE_COMPLETE" in line for line in events)

    efs = clients("efs")
    (fs,) = efs.describe_file_systems()["FileSystems"]
    assert fs["Name"] == "contacttracing_site_fs" and fs["ThroughputMode"] == "bursting"
    lifecycle = efs.describe_lifecycle_configuration(FileSystemId=fs["FileSystemId"])
    assert lifecycle["LifecyclePolicies"] == [{"TransitionToIA": "AFTER_14_DAYS"}]
    iam = clients("iam")
    role = iam.get_role(RoleName="aws-elasticbeanstalk-ec2-role")["Role"]
    assert role["RoleName"] == "aws-elasticbeanstalk-ec2-role"
    services = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert services == "ec2.amazonaws.com"  # no longer the upload user's role as well
    account = clients("sts").get_caller_identity()["Account"]
    fs_arn = f"arn:aws:elasticfilesystem:us-east-2:{account}:file-system/{fs['FileSystemId']}"
    mount = _inline_policy(iam, role["RoleName"], "efs-mount-read-only")
    assert mount["Statement"] == [
        {"Effect": "Allow", "Action": "elasticfilesystem:ClientMount", "Resource": fs_arn}
    ]
    upload = iam.get_role(RoleName="ctsite-transfer-user")["Role"]
    (trust,) = upload["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "transfer.amazonaws.com"}
    (grant,) = _inline_policy(iam, "ctsite-transfer-user", "efs-upload")["Statement"]
    assert grant["Resource"] == fs_arn and "elasticfilesystem:ClientWrite" in grant["Action"]
    subs = clients("sns").list_subscriptions()["Subscriptions"]
    assert [x["Endpoint"] for x in subs] == ["lab@example.org"]

    again = _plan(clients, s)
    assert again.unchanged and again.rows == [] and again.change_set_id == ""
    assert stack.apply(cfn, again).status == "UNCHANGED"

    changed = _plan(clients, _settings(project, provision_notification_email="new@example.org"))
    assert not changed.unchanged
    assert ("NotificationEmail", "lab@example.org", "new@example.org") in changed.parameter_changes
    rows = {r.logical_id: r for r in changed.rows}
    assert rows["NotificationTopic"].action == "modify"
    assert "FileSystem" not in rows
    assert changed.costs == []  # a modify adds nothing
    stack.discard(cfn, changed)
    assert _plan(clients, s).unchanged


def test_staging_shares_the_efs_and_destroy(project: Path, clients) -> None:
    s = _settings(project)
    cfn = CloudFormation(clients)
    with pytest.raises(CtsiteError, match="production stack"):
        _plan(clients, s, "staging")
    stack.apply(cfn, _plan(clients, s), poll_s=0.05)
    staging = _plan(clients, s, "staging")
    kinds = {r.logical_id for r in staging.rows}
    # nothing shared is created twice; each environment has its own topic and alarms
    assert kinds == {
        "NotificationTopic", "Environment", "MemoryAlarm", "ServerErrorAlarm", "HealthAlarm"
    }  # fmt: skip
    stack.apply(cfn, staging, poll_s=0.05)
    fs_id = cfn.resources("ctsite-production")["FileSystem"]
    _, params = cfn.deployed("ctsite-staging")
    assert params["SharedFileSystemId"] == fs_id and params["RemoteDataDir"] == "staging"

    with pytest.raises(CtsiteError, match="refusing to destroy the production"):
        stack.destroy(cfn, environments.resolve_environment(s, "production"), confirm="yes")
    assert cfn.stack("ctsite-production") is not None

    lines: list[str] = []
    target = environments.resolve_environment(s, "staging")
    outcome = stack.destroy(cfn, target, report=lines.append, poll_s=0.05)
    assert outcome.status == "DELETE_COMPLETE"
    assert cfn.stack("ctsite-staging") is None
    assert cfn.stack("ctsite-production") is not None
    assert stack.destroy(cfn, target).status == "ABSENT"


def test_cli_plan_json_apply_and_destroy(project: Path, aws_env: str) -> None:
    runner = CliRunner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = runner.invoke(app, ["provision", "plan", "--json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["new_stack"] and doc["monthly_usd"] > 0
        assert {
            "action": "add",
            "logical_id": "FileSystem",
            "resource_type": "AWS::EFS::FileSystem",
            "detail": "",
        } in doc["changes"]
        # plan leaves nothing behind: the first plan's empty stack is gone again
        import boto3

        cf = boto3.client("cloudformation", region_name="us-east-2")
        live = [
            x for x in cf.list_stacks()["StackSummaries"] if x["StackStatus"] != "DELETE_COMPLETE"
        ]
        assert live == []

        result = runner.invoke(app, ["provision", "apply"])  # no tty, no --yes
        assert "pass --yes" in str(result.exception)
        result = runner.invoke(app, ["provision", "apply", "--yes", "--poll", "0.05"])
        assert result.exit_code == 0, result.output
        assert "CREATE_COMPLETE" in result.output
        # the file system it made, and the line ctsite.toml needs (issue 24: a lab cannot
        # publish until [efs] file_system_id is set, and apply is where it learns the id)
        efs = boto3.client("efs", region_name="us-east-2").describe_file_systems()
        made = efs["FileSystems"][0]["FileSystemId"]
        assert f'set [efs] file_system_id = "{made}" in ctsite.toml' in result.output
        result = runner.invoke(app, ["provision", "apply", "--yes"])
        assert result.exit_code == 0 and "nothing changed" in result.output

        result = runner.invoke(app, ["provision", "destroy", "--env", "production", "--yes"])
        assert "refusing to destroy" in str(result.exception)
        assert "--confirm Contacttracingsite-env" in str(result.exception)
        result = runner.invoke(
            app,
            [
                "provision",
                "destroy",
                "--env",
                "production",
                "--confirm",
                "Contacttracingsite-env",
                "--poll",
                "0.05",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "DELETE_COMPLETE" in result.output


def test_staging_beside_a_hand_made_production(project: Path, clients) -> None:
    """The lab's production was made by hand: staging shares its EFS (efs_file_system_id) and
    takes the security group, instance profile and service role from its option settings."""
    eb = clients.stub("elasticbeanstalk")
    options = [
        ("aws:autoscaling:launchconfiguration", "SecurityGroups", "sg-0lab"),
        (
            "aws:autoscaling:launchconfiguration",
            "IamInstanceProfile",
            "aws-elasticbeanstalk-ec2-role",
        ),
        ("aws:elasticbeanstalk:environment", "ServiceRole", "aws-elasticbeanstalk-service-role"),
    ]
    eb.add_response(
        "describe_configuration_settings",
        {
            "ConfigurationSettings": [
                {
                    "ApplicationName": "Contacttracingsite",
                    "EnvironmentName": "Contacttracingsite-env",
                    "OptionSettings": [
                        {"Namespace": ns, "OptionName": name, "Value": value}
                        for ns, name, value in options
                    ],
                }
            ]
        },
        {"ApplicationName": "Contacttracingsite", "EnvironmentName": "Contacttracingsite-env"},
    )
    s = _settings(
        project,
        efs_file_system_id="fs-0123456789abcdef0",
        provision_solution_stack="64bit Amazon Linux 2023 v4.6.0 running Docker",
    )
    staging = _plan(clients, s, "staging")
    assert {r.logical_id for r in staging.rows} == {
        "NotificationTopic", "Environment", "MemoryAlarm", "ServerErrorAlarm", "HealthAlarm"
    }  # fmt: skip
    cfn = CloudFormation(clients)
    stack.apply(cfn, staging, poll_s=0.05)
    _, params = cfn.deployed("ctsite-staging")
    assert params["SharedFileSystemId"] == "fs-0123456789abcdef0"
    assert params["SharedSecurityGroupId"] == "sg-0lab"
    assert params["SharedServiceRole"] == "aws-elasticbeanstalk-service-role"
    assert params["Primary"] == "false" and params["RemoteDataDir"] == "staging"


def test_registry_stack_lives_in_us_east_1(project: Path, clients) -> None:
    s = _settings(project)
    target = environments.resolve_stack(s, "registry")
    assert (target.stack_name, target.region) == ("ctsite-registry", "us-east-1")
    first = stack.plan_environment(s, target, clients)
    assert [(r.action, r.logical_id) for r in first.rows] == [("add", "Repository")]
    assert first.costs == []
    cfn = stack.cloudformation(clients, target)
    assert stack.apply(cfn, first, poll_s=0.05).status == "CREATE_COMPLETE"
    _, params = cfn.deployed("ctsite-registry")
    assert params == {"RepositoryName": "ct-site"}
    assert CloudFormation(clients).stack("ctsite-registry") is None  # us-east-2
    assert stack.plan_environment(s, target, clients).unchanged
    assert stack.destroy(cfn, target, poll_s=0.05).status == "DELETE_COMPLETE"


def test_a_resource_moto_rejects_is_one_clear_error(project: Path, clients) -> None:
    """moto fails the change set's execution outright (no rollback to report): still one line.
    The rollback path itself runs against the Stubber in test_rollback_drift.py."""
    s = _settings(project)
    cfn = CloudFormation(clients)
    network = environments.Network(
        environments.lookup_network(clients).vpc_id, ["subnet-0doesnotexist"]
    )
    target = environments.resolve_environment(s)
    params = environments.stack_parameters(
        s, target, "64bit Amazon Linux 2023 v4.6.0 running Docker", network
    )
    bad = stack.plan(cfn, s, target.stack_name, environments.template_text(), params)
    with pytest.raises(CtsiteError, match="could not execute the change set") as caught:
        stack.apply(cfn, bad, poll_s=0.05)
    assert "subnet-0doesnotexist" in str(caught.value)


def test_runbook_names_are_said_and_need_yes_before_anything_is_created(
    project: Path, aws_env: str
) -> None:
    """The project sets no AWS names, so they are the runbook's (issue 24): without --yes and
    without a terminal, apply refuses in one line before the plan makes a change set; with
    --yes it warns once and goes on; with the site's own names it says nothing."""
    from tests.support.cli import cli_env, run_ctsite

    env = cli_env(COLUMNS="200")
    refused = run_ctsite("provision", "apply", cwd=project, env=env, timeout=120)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    errors = [ln for ln in refused.stderr.splitlines() if ln.startswith("error")]
    assert errors == [
        "error: refusing to publish into the runbook's AWS names without confirmation"
    ], refused.stderr
    assert "eb_application = Contacttracingsite" in refused.stderr
    import boto3

    cf = boto3.client("cloudformation", region_name="us-east-2")
    assert cf.list_stacks()["StackSummaries"] == []  # not even a plan's change set

    done = run_ctsite(
        "provision", "apply", "--yes", "--poll", "0.05", cwd=project, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("runbook's AWS names") == 1
    assert "CREATE_COMPLETE" in done.stdout

    own_names = (
        'image_repository = "public.ecr.aws/mylab/atlas"\neb_application = "atlas"\n'
        'eb_environment = "atlas-env"\nprovision_efs_name = "atlas-data"\n'
        'staging_environment = "atlas-staging"\n'
    )
    config = project / "ctsite.toml"
    config.write_text(own_names + config.read_text())
    asked = run_ctsite("provision", "apply", cwd=project, env=env, timeout=120)
    assert "runbook" not in asked.stderr
    assert asked.returncode != 0 and "confirmation needed" in asked.stderr  # the apply's own

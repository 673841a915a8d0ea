"""`provision check` on a hand-made environment (EFS, security groups, IAM on moto; the EB option
settings, which moto does not implement, under botocore's Stubber) and `ctsite swap` (EB CNAME
swap, Stubber with the real API shapes)."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from pathlib import Path

from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.config import load_settings
from ctsite.deploy.provision import environments
from ctsite.deploy.provision.check import expected_options

APP, PROD, STAGING = "Contacttracingsite", "Contacttracingsite-env", "Contacttracingsite-staging"
T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


LAB_ROLE = "aws-elasticbeanstalk-ec2-role"
BROAD = ("AmazonElasticFileSystemClientFullAccess", "AWSTransferFullAccess")


def _hand_made(clients, monkeypatch) -> str:
    """The lab's console-made EFS: 30-day lifecycle, backups on, a group without NFS rules;
    the instance role as the runbook made it, also serving as the upload user's (trusted by EC2
    and Transfer Family, EB's web tier policy plus AmazonElasticFileSystemClientFullAccess and
    AWSTransferFullAccess); no upload user role of its own, no Transfer logging role."""
    # moto's IAM has AWS managed policies only when asked (the server runs in this process and
    # reads the variable when its IAM backend starts, i.e. at the first IAM call after a reset)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    efs, ec2, iam = clients("efs"), clients("ec2"), clients("iam")
    fs_id = efs.create_file_system(CreationToken="lab", ThroughputMode="bursting", Backup=True)[
        "FileSystemId"
    ]
    efs.put_lifecycle_configuration(
        FileSystemId=fs_id, LifecyclePolicies=[{"TransitionToIA": "AFTER_30_DAYS"}]
    )
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ][0]
    sg = ec2.create_security_group(GroupName="lab", Description="lab", VpcId=vpc["VpcId"])
    ec2.revoke_security_group_egress(
        GroupId=sg["GroupId"],
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    efs.create_mount_target(
        FileSystemId=fs_id, SubnetId=subnet["SubnetId"], SecurityGroups=[sg["GroupId"]]
    )
    services = ["ec2.amazonaws.com", "transfer.amazonaws.com"]
    trust = {"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}
    iam.create_role(
        RoleName=LAB_ROLE,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )
    for name in ("AWSElasticBeanstalkWebTier", *BROAD):
        iam.attach_role_policy(RoleName=LAB_ROLE, PolicyArn=f"arn:aws:iam::aws:policy/{name}")
    return fs_id


def _live_options(project: Path, fs_id: str) -> list[dict]:
    s = load_settings(root=project, overrides={"efs_file_system_id": fs_id})
    params = environments.stack_parameters(
        s, environments.resolve_environment(s), "", environments.Network("", [])
    )
    wanted = expected_options(environments.template_text(), params)
    wanted["aws:ec2:instances", "InstanceTypes"] = "t2.micro"
    wanted["aws:elasticbeanstalk:command", "Timeout"] = "600"
    return [
        {"Namespace": ns, "OptionName": name, "Value": value}
        for (ns, name), value in wanted.items()
    ]


def _check(project: Path, clients, fs_id: str, options: list[dict] | None = None, **env: str):
    """`ctsite provision check` on the hand-made environment (EB options under the Stubber:
    `options`, by default the template's own with two hand-made values)."""
    eb = clients.stub("elasticbeanstalk")
    eb.add_response(
        "describe_configuration_settings",
        {
            "ConfigurationSettings": [
                {
                    "ApplicationName": APP,
                    "EnvironmentName": PROD,
                    "SolutionStackName": "64bit Amazon Linux 2 v3.9.0 running Docker",
                    "OptionSettings": options or _live_options(project, fs_id),
                }
            ]
        },
        {"ApplicationName": APP, "EnvironmentName": PROD},
    )
    return CliRunner().invoke(
        app,
        ["provision", "check"],
        obj={"aws_client": clients},
        env={"CTSITE_EFS_FILE_SYSTEM_ID": fs_id, "COLUMNS": "2000", **env},
    )


def _fix_lines(out: str, what: str) -> list[str]:
    """The fix commands of the difference lines that start with `what`."""
    return [line.split(" → ", 1)[1] for line in out.splitlines() if line.startswith(f"≠ {what}")]


def _run_aws_iam(line: str, iam) -> None:
    """Run a fix line's `aws iam …` commands with boto3 (no AWS CLI needed): `create-role
    --role-name X --assume-role-policy-document D` becomes create_role(RoleName=X, …)."""
    for command in line.split(" && "):
        words = shlex.split(command)
        assert words[:2] == ["aws", "iam"], command
        args = {
            "".join(p.title() for p in flag[2:].split("-")): value
            for flag, value in zip(words[3::2], words[4::2], strict=True)
        }
        getattr(iam, words[2].replace("-", "_"))(**args)


def test_check_lists_each_difference_with_its_fix(project: Path, clients, monkeypatch) -> None:
    fs_id = _hand_made(clients, monkeypatch)
    result = _check(project, clients, fs_id)
    out = result.output
    assert "differs from the template in 13 place(s)" in str(result.exception), out
    assert "EB aws:ec2:instances InstanceTypes: is t2.micro, template says t3.small" in out
    assert "Value=1800'" in out
    assert f"--file-system-id {fs_id} --lifecycle-policies TransitionToIA=AFTER_14_DAYS" in out
    assert "automatic backups: is ENABLED, template says DISABLED" in out
    assert "put-backup-policy" in out
    assert "inbound NFS" in out and "--port 2049 --source-group" in out
    assert "outbound NFS" in out
    assert f"IAM role {LAB_ROLE} policy CloudWatchAgentServerPolicy: is not attached" in out
    assert "IAM role AWSTransferLoggingAccess: is missing" in out
    # nothing was changed
    lifecycle = clients("efs").describe_lifecycle_configuration(FileSystemId=fs_id)
    assert lifecycle["LifecyclePolicies"] == [{"TransitionToIA": "AFTER_30_DAYS"}]


def test_check_reports_the_broad_instance_role_and_fixes_it(
    project: Path, clients, monkeypatch
) -> None:
    """The hand-made instance role keeps AWSTransferFullAccess and AmazonElasticFileSystem-
    ClientFullAccess and is trusted by Transfer Family; the upload user has no role of its
    own. Each is one line whose fix, once run, leaves no IAM difference."""
    fs_id = _hand_made(clients, monkeypatch)
    out = _check(project, clients, fs_id).output
    for name in BROAD:
        arn = f"arn:aws:iam::aws:policy/{name}"
        assert (
            f"≠ IAM role {LAB_ROLE} policy {name}: is attached, template says not attached "
            f"(more than the role needs) → aws iam detach-role-policy --role-name {LAB_ROLE} "
            f"--policy-arn {arn}"
        ) in out
    assert (
        f"≠ IAM role {LAB_ROLE} trust: is ec2.amazonaws.com, transfer.amazonaws.com, template "
        "says ec2.amazonaws.com → aws iam update-assume-role-policy"
    ) in out
    account = clients("sts").get_caller_identity()["Account"]
    fs_arn = f"arn:aws:elasticfilesystem:us-east-2:{account}:file-system/{fs_id}"
    assert (
        f"≠ IAM role {LAB_ROLE} inline policy efs-mount-read-only: is missing, template says "
        f"Allow elasticfilesystem:ClientMount on {fs_arn}"
    ) in out
    assert "≠ IAM role ctsite-transfer-user: is missing, template says present" in out
    (create,) = _fix_lines(out, "IAM role ctsite-transfer-user")
    assert create.startswith("aws iam create-role --role-name ctsite-transfer-user ")

    iam = clients("iam")
    for line in _fix_lines(out, "IAM role"):
        _run_aws_iam(line, iam)
    again = _check(project, clients, fs_id).output
    assert "≠ IAM" not in again, again
    attached = iam.list_attached_role_policies(RoleName=LAB_ROLE)["AttachedPolicies"]
    assert not {p["PolicyName"] for p in attached} & set(BROAD)
    upload = iam.get_role_policy(RoleName="ctsite-transfer-user", PolicyName="efs-upload")
    assert upload["PolicyDocument"]["Statement"][0]["Resource"] == fs_arn


def test_check_an_upload_user_sharing_the_instance_role(
    project: Path, clients, monkeypatch
) -> None:
    """A ctsite.toml from before the upload user had its own role: one line says so, with the
    setting to change and the role to create; the shared role's breadth is reported too."""
    fs_id = _hand_made(clients, monkeypatch)
    out = _check(project, clients, fs_id, CTSITE_TRANSFER_USER_ROLE=LAB_ROLE).output
    assert (
        f"≠ Transfer Family upload user role: is the instances' role {LAB_ROLE}, template says a "
        'role of its own (ctsite-transfer-user) → set transfer_user_role = "ctsite-transfer-user"'
    ) in out
    assert "and create it: aws iam create-role --role-name ctsite-transfer-user " in out
    assert f"≠ IAM role {LAB_ROLE} policy AWSTransferFullAccess: is attached" in out


def _env(name: str, cname: str, status: str = "Ready") -> dict:
    return {
        "EnvironmentName": name,
        "EnvironmentId": "e-" + name[-6:].lower(),
        "ApplicationName": APP,
        "SolutionStackName": "64bit Amazon Linux 2023 v4.6.0 running Docker",
        "CNAME": cname,
        "Status": status,
        "Health": "Green",
        "HealthStatus": "Ok",
        "DateCreated": T0,
        "DateUpdated": T0,
    }


def test_swap_exchanges_the_urls(project: Path, clients) -> None:
    eb = clients.stub("elasticbeanstalk")
    query = {"ApplicationName": APP, "EnvironmentNames": [PROD, STAGING], "IncludeDeleted": False}
    eb.add_response(
        "describe_environments",
        {
            "Environments": [
                _env(PROD, "contacttracing.us-east-2.elasticbeanstalk.com"),
                _env(STAGING, "ct-staging.us-east-2.elasticbeanstalk.com"),
            ]
        },
        query,
    )
    eb.add_response(
        "swap_environment_cnames",
        {},
        {"SourceEnvironmentName": PROD, "DestinationEnvironmentName": STAGING},
    )
    result = CliRunner().invoke(app, ["swap", "--yes"], obj={"aws_client": clients})
    assert result.exit_code == 0, result.output
    assert f"{STAGING} now serves contacttracing.us-east-2.elasticbeanstalk.com" in result.output
    assert f"{PROD} is now at ct-staging.us-east-2.elasticbeanstalk.com" in result.output


def test_swap_refuses_an_environment_that_is_not_ready(project: Path, clients) -> None:
    eb = clients.stub("elasticbeanstalk")
    eb.add_response(
        "describe_environments",
        {"Environments": [_env(PROD, "a.example"), _env(STAGING, "b.example", "Updating")]},
        {"ApplicationName": APP, "EnvironmentNames": [PROD, STAGING], "IncludeDeleted": False},
    )
    result = CliRunner().invoke(app, ["swap", "--yes"], obj={"aws_client": clients})
    assert "Updating, not Ready" in str(result.exception)
    result = CliRunner().invoke(app, ["swap", "--env", "production", "--yes"])
    assert "not production" in str(result.exception)


def test_check_where_the_endpoint_lacks_the_api(project: Path, clients) -> None:
    """moto's EB has no DescribeConfigurationSettings (it answers HTML): one clear error."""
    from ctsite.errors import CtsiteError

    result = CliRunner().invoke(app, ["provision", "check"], obj={"aws_client": clients})
    assert isinstance(result.exception, CtsiteError)
    assert "could not read the option settings of Contacttracingsite-env" in str(result.exception)


def test_check_reports_forwarded_hops_missing(project: Path, clients, monkeypatch) -> None:
    """A hand-made environment without CTSITE_SITE_FORWARDED_HOPS (the site then takes nginx
    for every visitor: the login limit locks everyone out): one line with the fix."""
    fs_id = _hand_made(clients, monkeypatch)
    key = ("aws:elasticbeanstalk:application:environment", "CTSITE_SITE_FORWARDED_HOPS")
    options = [o for o in _live_options(project, fs_id) if (o["Namespace"], o["OptionName"]) != key]
    out = _check(project, clients, fs_id, options).output
    assert (
        "≠ EB aws:elasticbeanstalk:application:environment CTSITE_SITE_FORWARDED_HOPS: is "
        "(unset), template says 1 → aws elasticbeanstalk update-environment --environment-name "
        f"{PROD} --option-settings 'Namespace=aws:elasticbeanstalk:application:environment,"
        "OptionName=CTSITE_SITE_FORWARDED_HOPS,Value=1'"
    ) in out, out


CONFIG_DOCUMENT = ("aws:elasticbeanstalk:healthreporting:system", "ConfigDocument")


def test_check_judges_the_health_metrics_document_by_its_entries(
    project: Path, clients, monkeypatch
) -> None:
    """The 5xx alarm reads request counts only published when the enhanced-health
    ConfigDocument asks for them. EB stores that JSON with its own defaults and key order: that
    is no difference; a hand-made environment without it is one, fixed by a line whose JSON
    --option-settings carries the document intact."""
    fs_id = _hand_made(clients, monkeypatch)
    options = _live_options(project, fs_id)
    (wanted,) = [o for o in options if (o["Namespace"], o["OptionName"]) == CONFIG_DOCUMENT]
    doc = json.loads(wanted["Value"])
    assert doc["CloudWatchMetrics"]["Environment"] == {
        "ApplicationRequests5xx": 60,
        "ApplicationRequestsTotal": 60,
    }
    stored = {
        "Rules": {"Environment": {"Application": {"ApplicationRequests4xx": {"Enabled": True}}}},
        "CloudWatchMetrics": {
            "Instance": {"CPUIrq": None},
            "Environment": {"ApplicationRequestsTotal": 60, "ApplicationRequests5xx": 60},
        },
        "Version": 1,
    }
    wanted["Value"] = json.dumps(stored)
    result = _check(project, clients, fs_id, options)
    out = result.output
    assert "ConfigDocument" not in out, out
    # the check ran through: it lists the hand-made environment's other differences, as many
    # as with the template's own document (a check that stopped at the document would not
    # name it either)
    assert "differs from the template in 13 place(s)" in str(result.exception), out
    assert "EB aws:ec2:instances InstanceTypes: is t2.micro, template says t3.small" in out

    bare = [o for o in options if (o["Namespace"], o["OptionName"]) != CONFIG_DOCUMENT]
    out = _check(project, clients, fs_id, bare).output
    (fix,) = _fix_lines(out, "EB aws:elasticbeanstalk:healthreporting:system ConfigDocument")
    words = shlex.split(fix)
    setting = json.loads(words[words.index("--option-settings") + 1])
    assert setting == [
        {
            "Namespace": CONFIG_DOCUMENT[0],
            "OptionName": CONFIG_DOCUMENT[1],
            "Value": json.dumps(doc, separators=(",", ":")),
        }
    ]

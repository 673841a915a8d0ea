"""`provision check` on a hand-made environment (EFS, security groups, IAM on moto; the EB option
settings, which moto does not implement, under botocore's Stubber) and `ctsite swap` (EB CNAME
swap, Stubber with the real API shapes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from ctsite.cli import app
from ctsite.config import load_settings
from ctsite.deploy import environments as envs
from ctsite.deploy.provision_check import expected_options

APP, PROD, STAGING = "Contacttracingsite", "Contacttracingsite-env", "Contacttracingsite-staging"
T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _hand_made(clients) -> str:
    """The lab's console-made EFS: 30-day lifecycle, backups on, a group without NFS rules;
    the instance role without its policies (moto's server has no AWS managed policies to
    attach), no Transfer logging role."""
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
    iam.create_role(RoleName="aws-elasticbeanstalk-ec2-role", AssumeRolePolicyDocument="{}")
    return fs_id


def _live_options(project: Path, fs_id: str) -> list[dict]:
    s = load_settings(root=project, overrides={"efs_file_system_id": fs_id})
    params = envs.stack_parameters(s, envs.resolve_environment(s), "", envs.Network("", []))
    wanted = expected_options(envs.template_text(), params)
    wanted["aws:ec2:instances", "InstanceTypes"] = "t2.micro"
    wanted["aws:elasticbeanstalk:command", "Timeout"] = "600"
    return [
        {"Namespace": ns, "OptionName": name, "Value": value}
        for (ns, name), value in wanted.items()
    ]


def test_check_lists_each_difference_with_its_fix(project: Path, clients) -> None:
    fs_id = _hand_made(clients)
    eb = clients.stub("elasticbeanstalk")
    eb.add_response(
        "describe_configuration_settings",
        {
            "ConfigurationSettings": [
                {
                    "ApplicationName": APP,
                    "EnvironmentName": PROD,
                    "SolutionStackName": "64bit Amazon Linux 2 v3.9.0 running Docker",
                    "OptionSettings": _live_options(project, fs_id),
                }
            ]
        },
        {"ApplicationName": APP, "EnvironmentName": PROD},
    )
    result = CliRunner().invoke(
        app,
        ["provision", "check"],
        obj={"aws_client": clients},
        env={"CTSITE_EFS_FILE_SYSTEM_ID": fs_id},
    )
    out = result.output
    assert "differs from the template in 11 place(s)" in str(result.exception), out
    assert "EB aws:ec2:instances InstanceTypes: is t2.micro, template says t3.small" in out
    assert "Value=1800'" in out
    assert f"--file-system-id {fs_id} --lifecycle-policies TransitionToIA=AFTER_14_DAYS" in out
    assert "automatic backups: is ENABLED, template says DISABLED" in out
    assert "put-backup-policy" in out
    assert "inbound NFS" in out and "--port 2049 --source-group" in out
    assert "outbound NFS" in out
    assert "policy AmazonElasticFileSystemClientFullAccess: is not attached" in out
    assert "policy AWSTransferFullAccess" in out
    assert "IAM role AWSTransferLoggingAccess: is missing" in out
    # nothing was changed
    lifecycle = clients("efs").describe_lifecycle_configuration(FileSystemId=fs_id)
    assert lifecycle["LifecyclePolicies"] == [{"TransitionToIA": "AFTER_30_DAYS"}]


def _env(name: str, cname: str, status: str = "Ready") -> dict:
    return {
        "EnvironmentName": name,
        "EnvironmentId": "e-" + name[-6:].lower(),
        "ApplicationName": APP,
        "SolutionStackName": "64bit Amazon Linux 2023 v4.6.0 running Docker",
        "CNAME": cname,
        "Status": status,
        "Health": "Green",
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

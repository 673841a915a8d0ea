"""The template: cfn-lint clean, packaged, and its option values for each hosting choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.config import load_settings
from ctsite.deploy.provision import environments
from ctsite.deploy.provision.check import expected_options

TEMPLATE = Path(environments.__file__).parent / "templates" / environments.TEMPLATE
NETWORK = environments.Network("vpc-1", ["subnet-a", "subnet-b"])
STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"


def _options(tmp_path: Path, **overrides: object) -> dict[tuple[str, str], str]:
    s = load_settings(root=tmp_path, environ={}, overrides=overrides)
    params = environments.stack_parameters(
        s, environments.resolve_environment(s, "production"), STACK, NETWORK
    )
    return expected_options(environments.template_text(), params)


@pytest.mark.parametrize("name", [environments.TEMPLATE, environments.REGISTRY_TEMPLATE])
def test_cfn_lint_passes(name: str) -> None:
    from cfnlint.api import lint_file

    matches = lint_file(TEMPLATE.parent / name)
    assert matches == [], "\n".join(str(m) for m in matches)


def test_template_is_package_data() -> None:
    assert environments.template_text() == TEMPLATE.read_text(encoding="utf-8")
    pyproject = (Path(__file__).resolve().parents[3] / "pyproject.toml").read_text()
    assert '"ctsite.deploy.provision" = ["templates/*.yaml"]' in pyproject


def test_single_instance_defaults(tmp_path: Path) -> None:
    opts = _options(tmp_path)
    assert opts["aws:elasticbeanstalk:environment", "EnvironmentType"] == "SingleInstance"
    assert opts["aws:ec2:instances", "InstanceTypes"] == "t3.small"
    assert opts["aws:elasticbeanstalk:command", "Timeout"] == "1800"
    assert opts["aws:autoscaling:asg", "MaxSize"] == "1"
    assert ("aws:elbv2:listener:443", "Protocol") not in opts
    assert opts["aws:elasticbeanstalk:application:environment", "HTTPS_REDIRECT"] == "false"
    assert opts["aws:elasticbeanstalk:application:environment", "CTSITE_SITE_FORWARDED_HOPS"] == "1"


def test_load_balanced_scales_on_requests(tmp_path: Path) -> None:
    opts = _options(
        tmp_path,
        provision_load_balanced=True,
        provision_min_instances=2,
        provision_max_instances=6,
        provision_scaling_metric="RequestCount",
    )
    assert opts["aws:elasticbeanstalk:environment", "EnvironmentType"] == "LoadBalanced"
    assert opts["aws:elasticbeanstalk:environment", "LoadBalancerType"] == "application"
    assert (opts["aws:autoscaling:asg", "MinSize"], opts["aws:autoscaling:asg", "MaxSize"]) == (
        "2",
        "6",
    )
    assert opts["aws:autoscaling:trigger", "MeasureName"] == "RequestCount"
    assert opts["aws:autoscaling:trigger", "Unit"] == "Count"
    assert opts["aws:elasticbeanstalk:environment:process:default", "HealthCheckPath"] == "/healthz"
    assert opts["aws:elasticbeanstalk:application:environment", "CTSITE_SITE_PROXY_HOPS"] == "1"
    assert opts["aws:elasticbeanstalk:application:environment", "CTSITE_SITE_FORWARDED_HOPS"] == "2"


def test_https_on_a_single_instance_is_an_alb_of_one(tmp_path: Path) -> None:
    """The documented single-instance HTTPS option: the certificate goes on a load balancer
    in front of exactly one instance, HTTP redirected to HTTPS by the instance's nginx."""
    arn = "arn:aws:acm:us-east-2:111122223333:certificate/abc"
    opts = _options(tmp_path, provision_certificate_arn=arn)
    assert opts["aws:elasticbeanstalk:environment", "EnvironmentType"] == "LoadBalanced"
    assert (opts["aws:autoscaling:asg", "MinSize"], opts["aws:autoscaling:asg", "MaxSize"]) == (
        "1",
        "1",
    )
    assert opts["aws:elbv2:listener:443", "Protocol"] == "HTTPS"
    assert opts["aws:elbv2:listener:443", "SSLCertificateArns"] == arn
    assert opts["aws:elasticbeanstalk:application:environment", "HTTPS_REDIRECT"] == "true"


def test_staging_has_its_own_data_dir(tmp_path: Path) -> None:
    s = load_settings(root=tmp_path, environ={})
    prod, staging = (environments.resolve_environment(s, n) for n in ("production", "staging"))
    assert (prod.eb_environment, prod.remote_data_dir, prod.production) == (
        "Contacttracingsite-env",
        "data",
        True,
    )
    assert (staging.eb_environment, staging.remote_data_dir, staging.stack_name) == (
        "Contacttracingsite-staging",
        "staging",
        "ctsite-staging",
    )
    assert environments.resolve_environment(s, "Contacttracingsite-env").production
    other = environments.resolve_environment(s, "Lab2-site")
    assert (other.remote_data_dir, other.stack_name) == ("data-lab2-site", "ctsite-lab2-site")


def test_bad_settings_are_one_clear_error(tmp_path: Path) -> None:
    from ctsite.errors import ConfigError

    with pytest.raises(ConfigError, match="RequestCount"):
        _options(tmp_path, provision_scaling_metric="Memory")
    with pytest.raises(ConfigError, match="provision_min_instances"):
        _options(tmp_path, provision_min_instances=5, provision_max_instances=2)
    s = load_settings(root=tmp_path, environ={})
    with pytest.raises(ConfigError, match="not an environment"):
        environments.resolve_environment(s, "no spaces allowed")


def test_cost_of_a_load_balanced_environment(tmp_path: Path) -> None:
    from ctsite.deploy.provision.stack import Row, estimate_costs

    s = load_settings(
        root=tmp_path,
        environ={},
        overrides={"provision_load_balanced": True, "provision_min_instances": 2},
    )
    params = environments.stack_parameters(s, environments.resolve_environment(s), STACK, NETWORK)
    rows = [
        Row("add", "Environment", "AWS::ElasticBeanstalk::Environment"),
        Row("add", "InstanceRole", "AWS::IAM::Role"),
    ]
    costs = {c.item: c.monthly_usd for c in estimate_costs(s, rows, params)}
    assert costs == {
        "2 × t3.small instance": 30.37,
        "application load balancer": 16.43,
        "4 public IPv4 address(es)": 14.6,
        "2 GB of data on EFS": 0.6,
    }
    modify_only = [Row("modify", "Environment", "AWS::ElasticBeanstalk::Environment")]
    assert estimate_costs(s, modify_only, params) == []


def _role(logical_id: str, **values: str) -> dict:
    """The template's role `logical_id`, resolved for the given parameter values."""
    from ctsite.aws.cloudformation import load_template
    from ctsite.deploy.provision.check import resolve

    doc = load_template(environments.template_text())
    props = doc["Resources"][logical_id]["Properties"]
    return resolve(
        props,
        {"AWS::AccountId": "111122223333", "AWS::Region": "us-east-2", **values},
        doc["Conditions"],
    )


def _services(role: dict) -> set[str]:
    found = set()
    for statement in role["AssumeRolePolicyDocument"]["Statement"]:
        service = statement["Principal"]["Service"]
        found.update([service] if isinstance(service, str) else service)
    return found


def _inline(role: dict) -> dict[str, tuple[set[str], list[str]]]:
    """policy name → (actions, resources) of its single Allow statement."""
    out = {}
    for policy in role.get("Policies", []):
        (statement,) = policy["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resource = statement["Resource"]
        out[policy["PolicyName"]] = (
            {actions} if isinstance(actions, str) else set(actions),
            [resource] if isinstance(resource, str) else resource,
        )
    return out


FS_ARN = "arn:aws:elasticfilesystem:us-east-2:111122223333:file-system/fs-0123"


def test_instance_role_only_reads_its_own_file_system() -> None:
    """The instances serve a store: EB's web tier, the CloudWatch agent, health statistics and a
    read-only mount of this stack's file system; no Transfer Family, no EFS writes."""
    role = _role("InstanceRole", FileSystem="fs-0123")
    assert _services(role) == {"ec2.amazonaws.com"}
    managed = [arn for arn in role["ManagedPolicyArns"] if isinstance(arn, str)]
    assert sorted(arn.rsplit("/", 1)[-1] for arn in managed) == [
        "AWSElasticBeanstalkWebTier",
        "CloudWatchAgentServerPolicy",
    ]
    assert _inline(role) == {"efs-mount-read-only": ({"elasticfilesystem:ClientMount"}, [FS_ARN])}


def test_transfer_user_has_a_role_of_its_own() -> None:
    """The upload user writes to the file system and can do nothing else; only Transfer Family
    of this account may assume its role."""
    role = _role(
        "TransferUserRole", FileSystem="fs-0123", TransferUserRoleName="ctsite-transfer-user"
    )
    assert role["RoleName"] == "ctsite-transfer-user"
    assert _services(role) == {"transfer.amazonaws.com"}
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    assert "ManagedPolicyArns" not in role
    actions = {f"elasticfilesystem:{a}" for a in ("ClientMount", "ClientWrite", "ClientRootAccess")}
    assert _inline(role) == {"efs-upload": (actions, [FS_ARN])}


def test_no_role_gets_full_access_policies() -> None:
    """AWSTransferFullAccess, AmazonElasticFileSystemClientFullAccess and their kind."""
    assert "FullAccess" not in environments.template_text()


def test_role_names_come_from_the_settings(tmp_path: Path) -> None:
    s = load_settings(root=tmp_path, environ={})
    assert (s.eb_instance_role, s.transfer_user_role) == (
        "aws-elasticbeanstalk-ec2-role",
        "ctsite-transfer-user",
    )
    s = load_settings(
        root=tmp_path,
        environ={},
        overrides={"eb_instance_role": "lab-ec2", "transfer_user_role": "lab-upload"},
    )
    params = environments.stack_parameters(s, environments.resolve_environment(s), STACK, NETWORK)
    assert (params["InstanceRoleName"], params["TransferUserRoleName"]) == ("lab-ec2", "lab-upload")

"""Named environments and the stack parameters of each: production, staging or an EB name.

`resolve_environment(settings, name)` maps `production`, `staging` or any EB environment name to
its EB environment, its data folder on the shared EFS and its CloudFormation stack; deploy,
upload-data and release use it for `--env`. `stack_parameters` turns the configuration into the
template's parameter values (`ctsite/deploy/provision/templates/ctsite.yaml`).
"""

from __future__ import annotations

import dataclasses
import re
from importlib import resources

from ctsite.aws import beanstalk, ec2
from ctsite.aws.beanstalk import Beanstalk, option_values
from ctsite.aws.clients import ClientFactory
from ctsite.aws.cloudformation import CloudFormation
from ctsite.config import Settings
from ctsite.errors import ConfigError, CtsiteError

PRODUCTION, STAGING = "production", "staging"
# ECR Public exists only in us-east-1: the image repository is a stack of its own there.
REGISTRY, REGISTRY_REGION, REGISTRY_TEMPLATE = "registry", "us-east-1", "registry.yaml"
# The static site (`ctsite export-site`) on S3 + CloudFront: a stack of its own.
STATIC, STATIC_TEMPLATE = "static", "static.yaml"
DOCKER_AL2023 = re.compile(r"^64bit Amazon Linux 2023 v(\d+)\.(\d+)\.(\d+) running Docker$")
TEMPLATE = "ctsite.yaml"
# Elastic Beanstalk's EnvironmentHealth values of the levels the health alarm can fire at.
HEALTH_LEVELS = {"Warning": 15, "Degraded": 20, "Severe": 25}
# Logical ids of the primary stack's shared resources a secondary stack is given.
SHARED = {
    "SharedFileSystemId": "FileSystem",
    "SharedSecurityGroupId": "SecurityGroup",
    "SharedInstanceProfile": "InstanceProfile",
    "SharedServiceRole": "ServiceRole",
}
# The same values on a hand-made production environment: its EB option settings.
LIVE_OPTIONS = {
    "SharedSecurityGroupId": ("aws:autoscaling:launchconfiguration", "SecurityGroups"),
    "SharedInstanceProfile": ("aws:autoscaling:launchconfiguration", "IamInstanceProfile"),
    "SharedServiceRole": ("aws:elasticbeanstalk:environment", "ServiceRole"),
}


# ---------------------------------------------------------------- environments


@dataclasses.dataclass(frozen=True)
class Target:
    """One named environment: its EB environment, data folder on EFS and stack."""

    name: str  # production | staging | the EB environment name
    eb_environment: str
    remote_data_dir: str
    stack_name: str
    production: bool
    template: str = "ctsite.yaml"
    region: str = ""  # empty: the configured aws_region


def resolve_stack(settings: Settings, name: str | None = None) -> Target:
    """`registry` (the ECR Public repository's stack in us-east-1), `static` (the static site's
    bucket and distribution, in aws_region) or an environment."""
    if (name or "").strip() == STATIC:
        prefix = settings.provision_stack_prefix
        return Target(STATIC, "", "", f"{prefix}-{STATIC}", False, STATIC_TEMPLATE)
    if (name or "").strip() == REGISTRY:
        return Target(
            REGISTRY,
            "",
            "",
            f"{settings.provision_stack_prefix}-{REGISTRY}",
            False,
            REGISTRY_TEMPLATE,
            REGISTRY_REGION,
        )
    return resolve_environment(settings, name)


def resolve_environment(settings: Settings, name: str | None = None) -> Target:
    """`production` (default), `staging`, or an EB environment name → its Target."""
    name = (name or PRODUCTION).strip()
    prefix = settings.provision_stack_prefix
    if name in {PRODUCTION, settings.eb_environment}:
        return Target(
            PRODUCTION,
            settings.eb_environment,
            settings.remote_data_dir,
            f"{prefix}-{PRODUCTION}",
            True,
        )
    if name in {STAGING, settings.staging_environment}:
        return Target(
            STAGING,
            settings.staging_environment,
            settings.staging_data_dir,
            f"{prefix}-{STAGING}",
            False,
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]", name):
        raise ConfigError(
            f"{name!r} is not an environment: use production, staging, static, registry or an "
            "EB environment name",
            hint="EB environment names are 4-40 letters, digits and hyphens",
        )
    slug = name.lower()
    return Target(
        name, name, f"{settings.remote_data_dir.strip('/')}-{slug}", f"{prefix}-{slug}", False
    )


# ---------------------------------------------------------------- parameters


@dataclasses.dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_ids: list[str]  # one per availability zone, at most 3


def lookup_network(client: ClientFactory) -> Network:
    """The default VPC and one of its subnets per availability zone (at most three)."""
    vpc = ec2.default_vpc(client)
    if vpc is None:
        raise CtsiteError(
            "this region has no default VPC",
            hint="create one: aws ec2 create-default-vpc",
        )
    subnets = ec2.subnets(client, vpc)
    by_zone: dict[str, str] = {}
    for subnet in sorted(subnets, key=lambda s: (s.get("AvailabilityZone", ""), s["SubnetId"])):
        by_zone.setdefault(str(subnet.get("AvailabilityZone", "")), str(subnet["SubnetId"]))
    if not by_zone:
        raise CtsiteError(f"the default VPC {vpc} has no subnets", hint="add one per zone")
    return Network(vpc, list(by_zone.values())[:3])


def lookup_solution_stack(client: ClientFactory) -> str:
    """The newest "64bit Amazon Linux 2023 vX.Y.Z running Docker" solution stack."""
    names = beanstalk.solution_stacks(client)
    found = [(tuple(int(g) for g in m.groups()), n) for n in names if (m := DOCKER_AL2023.match(n))]
    if not found:
        raise CtsiteError(
            "Elastic Beanstalk offers no Amazon Linux 2023 Docker platform in this region",
            hint="set provision_solution_stack to a Docker solution stack name",
        )
    return max(found)[1]


def template_text(name: str = TEMPLATE) -> str:
    return resources.files("ctsite.deploy.provision").joinpath("templates", name).read_text("utf-8")


def repository_name(settings: Settings) -> str:
    """The ECR Public repository's name: the last part of image_repository."""
    return settings.image_repository.rstrip("/").rsplit("/", 1)[-1]


def stack_parameters(
    settings: Settings,
    target: Target,
    solution_stack: str,
    network: Network,
    shared: dict[str, str] | None = None,
) -> dict[str, str]:
    """The template's parameter values for `target`, from the configuration.

    HTTPS needs a load balancer (ACM certificates live there), so a single-instance environment
    with a certificate becomes a load-balanced one of exactly one instance.
    """
    if settings.provision_scaling_metric not in {"CPUUtilization", "RequestCount"}:
        raise ConfigError(
            f"provision_scaling_metric must be CPUUtilization or RequestCount, "
            f"got {settings.provision_scaling_metric!r}"
        )
    health = HEALTH_LEVELS.get(settings.provision_alarm_health.strip().capitalize())
    if health is None:
        raise ConfigError(
            f"provision_alarm_health must be one of {', '.join(HEALTH_LEVELS)}, "
            f"got {settings.provision_alarm_health!r}"
        )
    low, high = settings.provision_min_instances, settings.provision_max_instances
    if not 1 <= low <= high:
        raise ConfigError(
            f"provision_min_instances ({low}) must be ≥ 1 and ≤ provision_max_instances ({high})"
        )
    https = bool(settings.provision_certificate_arn)
    balanced = settings.provision_load_balanced or https
    if https and not settings.provision_load_balanced:
        low = high = 1
    params = {
        "Primary": "true" if target.production else "false",
        "ApplicationName": settings.eb_application,
        "EnvironmentName": target.eb_environment,
        "SolutionStackName": solution_stack,
        "InstanceType": settings.provision_instance_type,
        "EnvironmentType": "LoadBalanced" if balanced else "SingleInstance",
        "MinInstances": str(low),
        "MaxInstances": str(high),
        "ScalingMetric": settings.provision_scaling_metric,
        "CertificateArn": settings.provision_certificate_arn,
        "NotificationEmail": settings.provision_notification_email,
        "VpcId": network.vpc_id,
        "SubnetIds": ",".join(network.subnet_ids),
        "SubnetCount": str(len(network.subnet_ids)),
        "FileSystemName": settings.provision_efs_name,
        "EfsMountDir": settings.efs_mount_dir,
        "RemoteDataDir": target.remote_data_dir,
        "CommandTimeout": str(settings.eb_timeout_minutes * 60),
        "KeepVersions": str(settings.eb_keep_versions),
        "InstanceRoleName": settings.eb_instance_role,
        "TransferUserRoleName": settings.transfer_user_role,
        "TransferLoggingRoleName": settings.transfer_logging_role,
        "AlarmMemoryPercent": f"{settings.provision_alarm_memory_percent:g}",
        "Alarm5xxPercent": f"{settings.provision_alarm_5xx_percent:g}",
        "AlarmHealthLevel": str(health),
    }
    for key in SHARED:
        params[key] = (shared or {}).get(key, "")
    return params


def shared_ids(cfn: CloudFormation, client: ClientFactory, settings: Settings) -> dict[str, str]:
    """What a secondary stack shares with production: the production stack's resources, or,
    for a hand-made production environment, its option settings and efs_file_system_id."""
    primary = resolve_environment(settings, PRODUCTION)
    if cfn.stack(primary.stack_name) is not None:
        found = cfn.resources(primary.stack_name)
        return {key: found.get(logical, "") for key, logical in SHARED.items()}
    if not settings.efs_file_system_id:
        raise CtsiteError(
            f"no production stack ({primary.stack_name}) and no efs_file_system_id: staging "
            "shares production's EFS, security group and roles",
            hint="set efs_file_system_id to the live file system, or "
            "`ctsite provision apply --env production` first",
        )
    configs = Beanstalk(
        client, settings.eb_application, primary.eb_environment
    ).configuration_settings()
    live = option_values(configs[0]) if configs else {}
    shared = {key: live.get(option, "") for key, option in LIVE_OPTIONS.items()}
    shared["SharedFileSystemId"] = settings.efs_file_system_id
    missing = [LIVE_OPTIONS[k][1] for k, v in shared.items() if not v and k in LIVE_OPTIONS]
    if missing:
        raise CtsiteError(
            f"{primary.eb_environment} has no {', '.join(missing)} option to share with staging",
            hint="set it on the production environment, or provision production",
        )
    return shared

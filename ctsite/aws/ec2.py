"""EC2 networking, read only: the default VPC and its subnets (where `provision` places an
environment), and security groups (whose NFS rules `provision check` judges)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ctsite.aws.clients import ClientFactory, aws_errors


def default_vpc(client: ClientFactory) -> str | None:
    """The id of the region's default VPC (None: the region has none)."""
    with aws_errors("find the default VPC"):
        pages = client("ec2").get_paginator("describe_vpcs")
        for page in pages.paginate(Filters=[{"Name": "isDefault", "Values": ["true"]}]):
            for vpc in page.get("Vpcs", []):
                return str(vpc["VpcId"])
    return None


def subnets(client: ClientFactory, vpc_id: str) -> list[dict[str, Any]]:
    """Every subnet of the VPC (each with its `SubnetId` and `AvailabilityZone`)."""
    found: list[dict[str, Any]] = []
    with aws_errors(f"list the subnets of {vpc_id}"):
        pages = client("ec2").get_paginator("describe_subnets")
        for page in pages.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]):
            found.extend(dict(s) for s in page.get("Subnets", []))
    return found


def security_groups(client: ClientFactory, group_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The named security groups with their rules (`IpPermissions`, `IpPermissionsEgress`)."""
    if not group_ids:
        return []
    found: list[dict[str, Any]] = []
    with aws_errors(f"describe the security groups {', '.join(group_ids)}"):
        pages = client("ec2").get_paginator("describe_security_groups")
        for page in pages.paginate(GroupIds=list(group_ids)):
            found.extend(dict(g) for g in page.get("SecurityGroups", []))
    return found

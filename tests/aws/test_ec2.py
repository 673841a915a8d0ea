"""The EC2 reads against moto's EC2 (which has a default VPC with a subnet per zone)."""

from __future__ import annotations

from typing import Any

import pytest

from ctsite.aws import ec2
from ctsite.errors import CtsiteError


def test_default_vpc_its_subnets_and_a_security_group(moto_clients: Any) -> None:
    vpc = ec2.default_vpc(moto_clients)
    assert vpc is not None and vpc.startswith("vpc-")
    found = ec2.subnets(moto_clients, vpc)
    assert found and {s["VpcId"] for s in found} == {vpc}
    assert len({s["AvailabilityZone"] for s in found}) == len(found)
    group = moto_clients("ec2").create_security_group(
        GroupName="site", Description="site", VpcId=vpc
    )["GroupId"]
    (described,) = ec2.security_groups(moto_clients, [group])
    assert described["GroupId"] == group and "IpPermissionsEgress" in described
    assert ec2.security_groups(moto_clients, []) == []


def test_no_default_vpc_and_an_unknown_group(moto_clients: Any) -> None:
    client = moto_clients("ec2")
    for vpc in client.describe_vpcs()["Vpcs"]:
        for subnet in client.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        )["Subnets"]:
            client.delete_subnet(SubnetId=subnet["SubnetId"])
        client.delete_vpc(VpcId=vpc["VpcId"])
    assert ec2.default_vpc(moto_clients) is None
    with pytest.raises(CtsiteError, match=r"could not describe the security groups sg-0nothere"):
        ec2.security_groups(moto_clients, ["sg-0nothere"])

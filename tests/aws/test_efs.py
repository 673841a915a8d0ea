"""The EFS reads against moto's EFS: a missing file system is one clear line, an unset backup
policy reads as DISABLED, mount targets carry their security groups."""

from __future__ import annotations

from typing import Any

import pytest

from ctsite.aws import efs
from ctsite.errors import CtsiteError

REGION = "us-east-2"


def test_a_file_system_and_its_policies(moto_clients: Any) -> None:
    client = moto_clients("efs")
    fs_id = client.create_file_system(CreationToken="site")["FileSystemId"]
    assert efs.file_system(moto_clients, fs_id, REGION)["FileSystemId"] == fs_id
    assert efs.check_available(moto_clients, fs_id, REGION) == f"{fs_id} (available)"
    assert efs.lifecycle_policies(moto_clients, fs_id) == []
    client.put_lifecycle_configuration(
        FileSystemId=fs_id, LifecyclePolicies=[{"TransitionToIA": "AFTER_30_DAYS"}]
    )
    assert efs.lifecycle_policies(moto_clients, fs_id) == [{"TransitionToIA": "AFTER_30_DAYS"}]
    assert efs.backup_status(moto_clients, fs_id) == "DISABLED"  # AWS: PolicyNotFound
    backed_up = client.create_file_system(CreationToken="backed-up", Backup=True)["FileSystemId"]
    assert efs.backup_status(moto_clients, backed_up) == "ENABLED"
    assert efs.mount_targets(moto_clients, fs_id) == []


def test_mount_targets_and_their_security_groups(moto_clients: Any) -> None:
    ec2 = moto_clients("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ][0]
    group = ec2.create_security_group(GroupName="nfs", Description="nfs", VpcId=vpc["VpcId"])
    fs_id = moto_clients("efs").create_file_system(CreationToken="mt")["FileSystemId"]
    moto_clients("efs").create_mount_target(
        FileSystemId=fs_id, SubnetId=subnet["SubnetId"], SecurityGroups=[group["GroupId"]]
    )
    (target,) = efs.mount_targets(moto_clients, fs_id)
    assert efs.mount_target_security_groups(moto_clients, target["MountTargetId"]) == [
        group["GroupId"]
    ]


def test_a_missing_file_system_is_one_clear_line(moto_clients: Any) -> None:
    with pytest.raises(CtsiteError) as caught:
        efs.file_system(moto_clients, "fs-0123456789abcdef0", REGION)
    assert caught.value.message == f"EFS file system fs-0123456789abcdef0 not found in {REGION}"
    assert "efs_file_system_id" in (caught.value.hint or "")
    with pytest.raises(CtsiteError, match="efs_file_system_id is not set"):
        efs.file_system_state(moto_clients, "", REGION)

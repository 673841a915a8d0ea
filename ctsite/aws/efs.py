"""EFS: the file system the site's data lives on, as `doctor`, the upload preflight and
`provision check` read it: its state, lifecycle and backup policies, mount targets and their
security groups; and its deletion, which only `ctsite retire` asks for (after the stack that
made it is gone)."""

from __future__ import annotations

from typing import Any

from ctsite.aws.clients import ClientFactory, aws_errors, error_code
from ctsite.errors import CtsiteError


def file_system(client: ClientFactory, file_system_id: str, region: str) -> dict[str, Any]:
    """The file system's description; a clear error when unset or not found."""
    if not file_system_id:
        raise CtsiteError(
            "efs_file_system_id is not set",
            hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
        )
    import botocore.exceptions

    with aws_errors(f"describe the EFS file system {file_system_id}"):
        try:
            pages = client("efs").get_paginator("describe_file_systems")
            for page in pages.paginate(FileSystemId=file_system_id):
                for found in page.get("FileSystems", []):
                    return dict(found)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) != "FileSystemNotFound":
                raise
    raise CtsiteError(
        f"EFS file system {file_system_id} not found in {region}",
        hint="fix efs_file_system_id (CTSITE_EFS_FILE_SYSTEM_ID) or aws_region",
    )


def file_system_state(client: ClientFactory, file_system_id: str, region: str) -> str:
    """The LifeCycleState of the file system; a clear error when unset or not found."""
    return str(file_system(client, file_system_id, region).get("LifeCycleState", "?"))


def check_available(client: ClientFactory, file_system_id: str, region: str) -> str:
    """The file system's description line when it is available; a clear error otherwise."""
    state = file_system_state(client, file_system_id, region)
    if state != "available":
        raise CtsiteError(f"{file_system_id} is {state}", hint="wait or fix it")
    return f"{file_system_id} ({state})"


def lifecycle_policies(client: ClientFactory, file_system_id: str) -> list[dict[str, Any]]:
    """The file system's lifecycle policies (`TransitionToIA` …; [] when none is set)."""
    with aws_errors(f"describe the EFS file system {file_system_id}"):
        found = client("efs").describe_lifecycle_configuration(FileSystemId=file_system_id)
    return [dict(p) for p in found.get("LifecyclePolicies", [])]


def backup_status(client: ClientFactory, file_system_id: str) -> str:
    """ENABLED, DISABLED (also when no backup policy was ever set), ENABLING or DISABLING."""
    import botocore.exceptions

    with aws_errors(f"read the backup policy of {file_system_id}"):
        try:
            found = client("efs").describe_backup_policy(FileSystemId=file_system_id)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "PolicyNotFound":
                return "DISABLED"  # never set: no automatic backups
            raise
    return str(found["BackupPolicy"]["Status"])


def mount_targets(client: ClientFactory, file_system_id: str) -> list[dict[str, Any]]:
    """The file system's mount targets (one per availability zone it is reachable from)."""
    found: list[dict[str, Any]] = []
    with aws_errors(f"read the mount targets of {file_system_id}"):
        pages = client("efs").get_paginator("describe_mount_targets")
        for page in pages.paginate(FileSystemId=file_system_id):
            found.extend(dict(t) for t in page.get("MountTargets", []))
    return found


def mount_target_security_groups(client: ClientFactory, mount_target_id: str) -> list[str]:
    """The security group ids of one mount target."""
    with aws_errors(f"read the security groups of the mount target {mount_target_id}"):
        found = client("efs").describe_mount_target_security_groups(MountTargetId=mount_target_id)
    return [str(g) for g in found.get("SecurityGroups", [])]


def delete_file_system(
    client: ClientFactory, file_system_id: str, timeout_s: float = 600, poll_s: float = 5.0
) -> None:
    """Delete a file system once its mount targets are gone (EFS refuses while any exists; a
    deleted stack's mount targets take a minute or two to go)."""
    import time

    deadline = time.monotonic() + timeout_s
    while mount_targets(client, file_system_id):
        if time.monotonic() > deadline:
            raise CtsiteError(
                f"{file_system_id} still has mount targets after {timeout_s:.0f} s",
                hint=f"delete them, then `aws efs delete-file-system --file-system-id "
                f"{file_system_id}`",
            )
        time.sleep(poll_s)
    with aws_errors(f"delete the EFS file system {file_system_id}"):
        client("efs").delete_file_system(FileSystemId=file_system_id)

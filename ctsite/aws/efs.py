"""EFS: check that the configured file system exists and is available."""

from __future__ import annotations

from ctsite.aws.clients import ClientFactory, aws_errors
from ctsite.errors import CtsiteError


def file_system_state(client: ClientFactory, file_system_id: str, region: str) -> str:
    """The LifeCycleState of the file system; a clear error when unset or not found."""
    if not file_system_id:
        raise CtsiteError(
            "efs_file_system_id is not set",
            hint="set efs_file_system_id in ctsite.toml or CTSITE_EFS_FILE_SYSTEM_ID",
        )
    try:
        with aws_errors(f"describe the EFS file system {file_system_id}"):
            found = client("efs").describe_file_systems(FileSystemId=file_system_id)
    except CtsiteError as exc:
        if "FileSystemNotFound" in exc.message:
            raise CtsiteError(
                f"EFS file system {file_system_id} not found in {region}",
                hint="fix efs_file_system_id (CTSITE_EFS_FILE_SYSTEM_ID) or aws_region",
            ) from None
        raise
    return str(found["FileSystems"][0].get("LifeCycleState", "?"))


def check_available(client: ClientFactory, file_system_id: str, region: str) -> str:
    """The file system's description line when it is available; a clear error otherwise."""
    state = file_system_state(client, file_system_id, region)
    if state != "available":
        raise CtsiteError(f"{file_system_id} is {state}", hint="wait or fix it")
    return f"{file_system_id} ({state})"

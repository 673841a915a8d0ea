"""Constants and builders shared by the Elastic Beanstalk tests (imported by conftest and tests)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-2"
APP = "Contacttracingsite"
ENV = "Contacttracingsite-env"
EFS_ID = "fs-0123456789abcdef0"
ACCOUNT = "123456789012"  # moto's default account
BUCKET = f"elasticbeanstalk-{REGION}-{ACCOUNT}"  # where EB keeps application versions
PLATFORM_ARN = (
    f"arn:aws:elasticbeanstalk:{REGION}::platform/Docker running on 64bit Amazon Linux 2023/4.3.0"
)

DOCKERRUN = {
    "AWSEBDockerrunVersion": "1",
    "Image": {"Name": "public.ecr.aws/example/ct-site:1.0.0", "Update": "true"},
    "Ports": [{"ContainerPort": 8000, "HostPort": 80}],
    "Volumes": [{"HostDirectory": "/efs_data/data", "ContainerDirectory": "/app/data"}],
    "Logging": "/var/log/ctsite",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_project(root: Path, efs_id: str = EFS_ID, dockerrun: dict[str, Any] | None = None) -> Path:
    """A project directory with the repository's EB files, a Dockerrun.aws.json and ctsite.toml."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / ".ebextensions", root / ".ebextensions")
    shutil.copytree(REPO / ".platform", root / ".platform")
    shutil.copy2(REPO / ".ebignore", root / ".ebignore")
    (root / "Dockerrun.aws.json").write_text(json.dumps(dockerrun or DOCKERRUN, indent=2))
    lines = [
        "[aws]",
        f'region = "{REGION}"',
        "[eb]",
        f'application = "{APP}"',
        f'environment = "{ENV}"',
    ]
    if efs_id:
        lines += ["[efs]", f'file_system_id = "{efs_id}"']
    (root / "ctsite.toml").write_text("\n".join(lines) + "\n")
    return root


def when(seconds: int) -> dt.datetime:
    """A fixed UTC time plus `seconds` (event dates for stubbed responses)."""
    return dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


# the HealthStatus enhanced health reports with each Health colour
HEALTH_STATUS = {"Green": "Ok", "Yellow": "Warning", "Red": "Degraded", "Grey": "Unknown"}


def env_description(
    status: str = "Ready", health: str = "Green", version: str = "v-old", **extra: Any
) -> dict[str, Any]:
    """An EnvironmentDescription as Elastic Beanstalk returns it (the keys it always sends,
    HealthStatus included: the colour's usual one unless `extra` says otherwise)."""
    desc: dict[str, Any] = {
        "EnvironmentName": ENV,
        "EnvironmentId": "e-abcdef1234",
        "ApplicationName": APP,
        "VersionLabel": version,
        "SolutionStackName": "64bit Amazon Linux 2023 v4.3.0 running Docker",
        "PlatformArn": PLATFORM_ARN,
        "EndpointURL": "awseb-e-a-AWSEBLoa-1ABCDEFGHIJK-123456789.us-east-2.elb.amazonaws.com",
        "CNAME": "ctsite.us-east-2.elasticbeanstalk.com",
        "DateCreated": when(-86_400),
        "DateUpdated": when(0),
        "Status": status,
        "AbortableOperationInProgress": status in ("Launching", "Updating"),
        "Health": health,
        "HealthStatus": HEALTH_STATUS.get(health, "Unknown"),
        "Tier": {"Name": "WebServer", "Type": "Standard", "Version": "1.0"},
        "EnvironmentArn": f"arn:aws:elasticbeanstalk:{REGION}:{ACCOUNT}:environment/{APP}/{ENV}",
    }
    desc.update(extra)
    return desc


def request_id(*parts: object) -> str:
    """A request id as AWS gives each event (a UUID; derived from `parts`, so stable)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def event(seconds: int, message: str, severity: str = "INFO", **extra: Any) -> dict[str, Any]:
    """An EventDescription as Elastic Beanstalk returns it (RequestId included: ctsite tells
    events apart by date, message and request)."""
    return {
        "EventDate": when(seconds),
        "Message": message,
        "ApplicationName": APP,
        "EnvironmentName": ENV,
        "RequestId": request_id(seconds, message),
        "Severity": severity,
        **extra,
    }


def application_version(
    label: str, created: dt.datetime | None = None, **extra: Any
) -> dict[str, Any]:
    """An ApplicationVersionDescription as Elastic Beanstalk returns it (DateCreated included:
    versions are listed and pruned by it)."""
    created = created or when(0)
    return {
        "ApplicationVersionArn": (
            f"arn:aws:elasticbeanstalk:{REGION}:{ACCOUNT}:applicationversion/{APP}/{label}"
        ),
        "ApplicationName": APP,
        "Description": f"ctsite deploy {label}",
        "VersionLabel": label,
        "SourceBundle": {"S3Bucket": BUCKET, "S3Key": f"{APP}/{label}.zip"},
        "DateCreated": created,
        "DateUpdated": created,
        "Status": "PROCESSED",
        **extra,
    }

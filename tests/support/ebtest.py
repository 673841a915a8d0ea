"""Constants and builders shared by the Elastic Beanstalk tests (imported by conftest and tests)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-2"
APP = "Contacttracingsite"
ENV = "Contacttracingsite-env"
EFS_ID = "fs-0123456789abcdef0"

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


def env_description(
    status: str = "Ready", health: str = "Green", version: str = "v-old", **extra: Any
) -> dict[str, Any]:
    """An EnvironmentDescription as Elastic Beanstalk returns it."""
    desc: dict[str, Any] = {
        "EnvironmentName": ENV,
        "EnvironmentId": "e-abcdef1234",
        "ApplicationName": APP,
        "VersionLabel": version,
        "Status": status,
        "Health": health,
        "CNAME": "ctsite.us-east-2.elasticbeanstalk.com",
        "DateUpdated": when(0),
    }
    desc.update(extra)
    return desc


def event(seconds: int, message: str, severity: str = "INFO") -> dict[str, Any]:
    return {
        "EventDate": when(seconds),
        "Message": message,
        "ApplicationName": APP,
        "EnvironmentName": ENV,
        "Severity": severity,
    }

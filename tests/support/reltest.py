"""Constants and builders shared by the release tests (imported by conftest and the tests)."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-2"
APP = "Contacttracingsite"
ENV = "Contacttracingsite-env"
ACCOUNT = "123456789012"  # moto's default account
PRIVATE_REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/ct-site"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_project(root: Path, repository: str = PRIVATE_REPO, extra_toml: str = "") -> Path:
    """A project: the repository's EB files and .dockerignore, a tiny image context, a store."""
    root.mkdir(parents=True, exist_ok=True)
    for name in (".ebextensions", ".platform"):
        shutil.copytree(REPO / name, root / name)
    for name in (".ebignore", ".dockerignore"):
        shutil.copy2(REPO / name, root / name)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY ctsite /app/ctsite\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "README.md").write_text("# site\n")
    (root / "ctsite").mkdir()
    (root / "ctsite" / "app.py").write_text("print('site')\n")
    store = root / "data" / "compiled"
    (store / "figures").mkdir(parents=True)
    manifest = {
        "schema_version": 1,
        "ctsite_version": "0",
        "compile_key": "0" * 64,
        "conditions": [],
    }  # a (flat, schema 1) store compile may replace
    (store / "manifest.json").write_text(json.dumps(manifest))
    (store / "genes.feather").write_bytes(b"\x01" * 1000)  # a flat store's table
    (store / "figures" / "circos.json").write_text("{}")
    sums = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a  circos.json\n"
    (store / "figures" / "SHA256SUMS").write_text(sums)  # the index `ctsite figures` writes
    dockerrun = {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": f"{repository}:latest", "Update": "true"},
        "Ports": [{"ContainerPort": "8000"}],
        "Volumes": [{"HostDirectory": "/efs_data/data", "ContainerDirectory": "/app/data"}],
    }
    (root / "Dockerrun.aws.json").write_text(json.dumps(dockerrun, indent=2))
    (root / "ctsite.toml").write_text(
        f'[aws]\nregion = "{REGION}"\n[eb]\napplication = "{APP}"\nenvironment = "{ENV}"\n'
        f'[image]\nrepository = "{repository}"\n{extra_toml}'
    )
    return root

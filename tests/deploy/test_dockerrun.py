"""Dockerrun.aws.json: rendering from Settings, pinning, atomic rewrite, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctsite.config import load_settings
from ctsite.deploy import dockerrun
from ctsite.errors import CtsiteError

DIGEST = "sha256:" + "ab" * 32


def settings(root: Path, **env: str):
    return load_settings(root=root, environ={f"CTSITE_{k.upper()}": v for k, v in env.items()})


def test_render_latest_and_pinned(tmp_path):
    s = settings(tmp_path, image_repository="public.ecr.aws/lab/ct-site")
    doc = dockerrun.render(s)
    assert doc == {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": "public.ecr.aws/lab/ct-site:latest", "Update": "true"},
        "Ports": [{"ContainerPort": "8000"}],
        "Volumes": [{"HostDirectory": "/efs_data/data", "ContainerDirectory": "/app/data"}],
    }
    pinned = dockerrun.render(s, DIGEST)
    assert pinned["Image"]["Name"] == f"public.ecr.aws/lab/ct-site@{DIGEST}"
    assert dockerrun.pinned_digest(pinned) == DIGEST
    assert dockerrun.pinned_digest(doc) is None


def test_host_dir_follows_configuration(tmp_path):
    s = settings(tmp_path, efs_mount_dir="/mnt/efs/", remote_data_dir="/site-data/")
    assert dockerrun.render(s)["Volumes"][0]["HostDirectory"] == "/mnt/efs/site-data"


def test_update_keeps_unmanaged_keys_and_is_atomic(tmp_path):
    s = settings(tmp_path, image_repository="reg.example/ct-site")
    path = tmp_path / "Dockerrun.aws.json"
    path.write_text(json.dumps({"AWSEBDockerrunVersion": "1", "Logging": "/var/log/ct"}))
    assert dockerrun.update(s, DIGEST) == path
    doc = json.loads(path.read_text())
    assert doc["Logging"] == "/var/log/ct"
    assert doc["Image"]["Name"] == f"reg.example/ct-site@{DIGEST}"
    dockerrun.update(s)
    assert json.loads(path.read_text())["Image"]["Name"] == "reg.example/ct-site:latest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerrun.aws.json"]


def test_bad_inputs(tmp_path):
    s = settings(tmp_path)
    with pytest.raises(CtsiteError, match="not an image digest"):
        dockerrun.render(s, "sha256:short")
    path = tmp_path / "Dockerrun.aws.json"
    path.write_text("{not json")
    with pytest.raises(CtsiteError, match="not valid JSON"):
        dockerrun.update(s)
    path.write_text("[1, 2]")
    with pytest.raises(CtsiteError, match="JSON object"):
        dockerrun.update(s)
    with pytest.raises(CtsiteError, match="not found"):
        dockerrun.read(tmp_path / "missing.json")


def test_repository_file_matches_the_default_configuration():
    """The committed Dockerrun.aws.json is what ctsite writes for the default settings."""
    root = Path(__file__).resolve().parents[2]
    committed = dockerrun.read(root / "Dockerrun.aws.json")
    expected = dockerrun.render(load_settings(root=root, environ={}), base=committed)
    if dockerrun.pinned_digest(committed):
        expected = dockerrun.render(
            load_settings(root=root, environ={}), dockerrun.pinned_digest(committed), committed
        )
    assert committed == expected

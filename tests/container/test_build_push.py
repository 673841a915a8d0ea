"""`ctsite build-push` end to end against a real Docker engine and a real htpasswd registry."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from ctsite import __version__
from ctsite.config import load_settings
from ctsite.container import engine as ctsite_image
from ctsite.deploy import release_state
from ctsite.deploy.release import image_inputs_hash
from tests.support.fixtures_docker import BASE_IMAGE_SECONDS, PROJECT_RUN_SECONDS, budget

# at most: the base image (test_build_failure_shows_the_failing_step) and four build-pushes
pytestmark = [pytest.mark.docker, budget(BASE_IMAGE_SECONDS, 4 * PROJECT_RUN_SECONDS)]

DIGEST = re.compile(r"pushed \S+@(sha256:[0-9a-f]{64})")


def short_sha(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def pushed_digest(stdout: str) -> str:
    match = DIGEST.search(stdout)
    assert match, stdout
    return match.group(1)


def test_push_with_docker_credentials_tags_digest_and_pin(image_project, registry):
    """Any other registry: the user's docker credentials; all tags pushed; --pin writes digest."""
    image_project.docker_login(registry.host, "tester", registry.users["tester"])
    result = image_project.run("build-push", "--pin")
    assert result.returncode == 0, result.stdout + result.stderr
    commit = short_sha(image_project.root)
    assert registry.tags(image_project.name) == sorted(["latest", __version__, commit])
    digest = pushed_digest(result.stdout)
    for tag in ("latest", __version__, commit):
        assert registry.digest(image_project.name, tag) == digest
    doc = json.loads((image_project.root / "Dockerrun.aws.json").read_text())
    assert doc["AWSEBDockerrunVersion"] == "1"
    assert doc["Image"]["Name"] == f"{image_project.repository}@{digest}"
    assert doc["Ports"] == [{"ContainerPort": "8000"}]
    assert doc["Volumes"] == [
        {"HostDirectory": "/efs_data/data", "ContainerDirectory": "/app/data"}
    ]
    # credentials are never printed nor written by ctsite
    assert registry.users["tester"] not in result.stdout + result.stderr
    assert not list(image_project.root.glob("**/*.json.tmp"))
    # what `release` remembers: a later `release --dry-run` skips build-push (issue 24)
    image = release_state.read_state(image_project.root)["image"]
    s = load_settings(root=image_project.root)
    assert image == {
        "repository": image_project.repository,
        "context_hash": image_inputs_hash(s),
        "digest": digest,
    }


def test_dirty_tree_tag_and_unpinned_dockerrun(image_project, registry):
    image_project.docker_login(registry.host, "tester", registry.users["tester"])
    (image_project.root / "hello.txt").write_text("changed\n")
    result = image_project.run("build-push")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{short_sha(image_project.root)}-dirty" in registry.tags(image_project.name)
    doc = json.loads((image_project.root / "Dockerrun.aws.json").read_text())
    assert doc["Image"]["Name"] == f"{image_project.repository}:latest"


def test_no_push_builds_and_tags_locally_only(image_project, registry, docker_engine):
    result = image_project.run("build-push", "--no-push")
    assert result.returncode == 0, result.stdout + result.stderr
    image = docker_engine.images.get(f"{image_project.image_name}:latest")
    assert f"{image_project.repository}:{__version__}" in image.tags
    assert image.labels.get("io.ctsite.managed") == "true"
    assert re.search(r"Step 2/\d+ : COPY hello.txt /hello.txt", result.stderr)  # streamed
    assert not (image_project.root / "Dockerrun.aws.json").exists()


def test_prune_removes_only_ctsite_dangling_images(image_project, docker_engine, tmp_path_factory):
    # a rebuild at the same (dirty) commit leaves the first build dangling
    (image_project.root / "hello.txt").write_text("first build\n")
    assert image_project.run("build-push", "--no-push", "-q").returncode == 0
    first = docker_engine.images.get(f"{image_project.image_name}:latest").id
    # the user's own dangling image, not built by ctsite: built twice under one tag
    other = tmp_path_factory.mktemp("other")
    (other / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    built = []
    for content in ("one", "two"):
        (other / "a").write_text(image_project.image_name + content)
        image, _ = docker_engine.images.build(path=str(other), tag="ctsite-test-user-image:x")
        built.append(image.id)
    # another ctsite project's dangling image (other image_name)
    for content in ("three", "four"):
        (other / "a").write_text(image_project.image_name + content)
        built.append(
            ctsite_image.build(
                docker_engine, other, "Dockerfile", "ctsite-test-other:x", image_name="other"
            )
        )
    try:
        (image_project.root / "hello.txt").write_text("second build\n")
        result = image_project.run("build-push", "--no-push", "-q", "--prune")
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r"pruned [1-9]\d* dangling ctsite image", result.stdout), result.stdout
        ids = {image.id for image in docker_engine.images.list(all=True)}
        assert first not in ids
        assert built[0] in ids  # the user's dangling image is left alone
        assert built[2] in ids  # and so is another ctsite image's
    finally:
        for image_id in reversed(built):
            docker_engine.images.remove(image_id, force=True)


def test_engine_down_is_one_clear_error(image_project):
    result = image_project.run(
        "build-push", "--no-push", DOCKER_HOST="unix:///nonexistent/docker.sock"
    )
    assert result.returncode == 1
    assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock" in result.stderr
    assert "start Docker" in result.stderr
    assert "Traceback" not in result.stderr


def test_registry_unreachable(image_project, registry):
    toml = image_project.root / "ctsite.toml"
    toml.write_text(toml.read_text().replace(registry.host, "127.0.0.1:9"))
    result = image_project.run("build-push", "-q")
    assert result.returncode == 1
    assert "push of 127.0.0.1:9/" in result.stderr
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_docker_credentials(image_project, registry):
    image_project.docker_login(registry.host, "tester", "wrong-password")
    result = image_project.run("build-push", "-q")
    assert result.returncode == 1
    assert "refused the credentials" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_failure_shows_the_failing_step(image_project, base_image, docker_engine):
    label = f"ctsite.test={image_project.image_name}"
    (image_project.root / "Dockerfile").write_text(
        f"FROM {base_image}\nLABEL {label}\n"
        "RUN echo ok-step\nRUN echo boom-marker-output && exit 3\n"
    )
    try:
        for quiet in ([], ["-q"]):
            result = image_project.run("build-push", "--no-push", *quiet)
            assert result.returncode == 1
            assert "boom-marker-output" in result.stderr
            assert re.search(r"docker build failed at Step 4/\d+ : RUN echo boom", result.stderr)
            assert "returned a non-zero code: 3" in result.stderr
            assert "Traceback" not in result.stderr
    finally:  # the legacy builder keeps the steps before the failure as cache
        for image in docker_engine.images.list(all=True, filters={"label": label}):
            try:
                docker_engine.images.remove(image.id, force=True)
            except Exception:
                pass  # already gone with its child


def test_bad_build_arg_and_missing_dockerfile(image_project):
    result = image_project.run("build-push", "--no-push", "--build-arg", "NOEQUALS")
    assert result.returncode == 1 and "is not KEY=VALUE" in result.stderr
    result = image_project.run("build-push", "--no-push", "--dockerfile", "Nope.Dockerfile")
    assert result.returncode == 1 and "Dockerfile not found" in result.stderr
    result = image_project.run("build-push", "--no-push", "--pin")
    assert result.returncode == 1 and "--pin needs a push" in result.stderr
    result = image_project.run("build-push", CTSITE_IMAGE_REPOSITORY="reg.example/ct-site:v1")
    assert result.returncode == 1 and "not a valid repository name" in result.stderr

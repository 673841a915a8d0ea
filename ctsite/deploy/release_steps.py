"""The I/O side of `ctsite release`: observe the state the plan needs, and run each step.

`observe` gathers an `Observed` snapshot (compile manifest, figures, build-context hash, the
registry, the local record of the last upload, the source bundle, the running version) without
changing anything anywhere. `Steps` runs one pipeline step each by calling the code of the
command that owns it (compile, figures, build-push, upload-data, deploy) and records what a
release must remember (pushed digest, deployed version) in the state file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctsite.config import Settings
from ctsite.deploy import release_state
from ctsite.deploy.release import Observed
from ctsite.errors import CtsiteError

ClientFactory = Callable[..., Any]  # (service, region=None) -> boto3 client
DOCKERFILE = "Dockerfile"


def image_inputs_hash(s: Settings) -> str:
    """The content hash of what goes into the image (build context and build settings)."""
    extra = {"image_name": s.image_name, "platform": s.docker_platform, "dockerfile": DOCKERFILE}
    return release_state.context_hash(s.root, extra, DOCKERFILE)


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except OSError:
                continue
    return total


def _figures_present(store: Path) -> bool:
    folder = store / "figures"
    return folder.is_dir() and any(folder.iterdir())


def _build_bundle(s: Settings, dest: Path) -> Any:
    from ctsite.deploy.bundle import build_bundle

    return build_bundle(s.root, dest, s.efs_file_system_id, s.efs_mount_dir)


def bundle_sha256(s: Settings) -> str:
    with tempfile.TemporaryDirectory(prefix="ctsite-release-") as tmp:
        return str(_build_bundle(s, Path(tmp) / "bundle.zip").sha256)


def observe(s: Settings, client: ClientFactory) -> Observed:
    """Everything the plan needs; reads only (the registry, EB and local files)."""
    from ctsite.deploy import ecr_images, manifest, sync
    from ctsite.deploy.beanstalk import Beanstalk
    from ctsite.deploy.cli_upload import _delete_scope

    compiled = s.compiled_path
    has_spec = bool(s.data)
    up_to_date = False
    if has_spec:
        from ctsite.compile.dataset import parse_data_spec
        from ctsite.compile.fingerprint import up_to_date as check

        up_to_date = check(parse_data_spec(s.data, s.root), compiled) is not None
    state = release_state.read_state(s.root)
    image = state.get("image") or {}
    deployed = state.get("deploy") or {}
    digest = image.get("digest")
    in_registry: bool | None = None
    if digest and image.get("repository") == s.image_repository:
        try:
            repo = ecr_images.repo_for(s.image_repository)
        except CtsiteError:
            in_registry = None  # not ECR: cannot be checked without pulling
        else:
            in_registry = ecr_images.digest_exists(repo, client, str(digest))
    files = sent = deletions = total = 0
    recorded = False
    if s.data_path.is_dir():
        recorded = bool(manifest.read_local_manifest(s.data_path))
        upload = sync.plan_offline(s.data_path, max(2, s.upload_jobs), _delete_scope(s, None))
        files, sent, deletions = len(upload.uploads), upload.upload_bytes, len(upload.deletions)
        total = _tree_bytes(s.data_path)
    bs = Beanstalk(client("elasticbeanstalk"), client("s3"), s.eb_application, s.eb_environment)
    running = bs.environment().get("VersionLabel")
    return Observed(
        has_data_spec=has_spec,
        compile_up_to_date=up_to_date,
        figures_present=_figures_present(compiled),
        context_hash=image_inputs_hash(s),
        recorded_context_hash=image.get("context_hash"),
        repository=s.image_repository,
        recorded_repository=image.get("repository"),
        recorded_digest=digest,
        digest_in_registry=in_registry,
        upload_recorded=recorded,
        upload_files=files,
        upload_bytes=sent,
        upload_deletions=deletions,
        data_bytes=total,
        bundle_sha256=bundle_sha256(s),
        recorded_bundle_sha256=deployed.get("bundle_sha256"),
        recorded_label=deployed.get("label"),
        running_label=str(running) if running else None,
    )


@dataclasses.dataclass
class Steps:
    """One callable per pipeline step (bound to the settings and AWS clients of this release)."""

    s: Settings
    client: ClientFactory
    context_hash: str
    network: str | None = None
    message: str = ""
    poll_s: float = 5.0
    label: str | None = None
    deployed: dict[str, Any] = dataclasses.field(default_factory=dict)

    def actions(self) -> dict[str, Callable[[], str | None]]:
        return {
            "compile": self.compile,
            "figures": self.figures,
            "build-push": self.build_push,
            "upload-data": self.upload,
            "deploy": self.deploy,
            "restart": self.restart,
        }

    def _beanstalk(self) -> Any:
        from ctsite.deploy.beanstalk import Beanstalk

        eb, s3 = self.client("elasticbeanstalk"), self.client("s3")
        return Beanstalk(eb, s3, self.s.eb_application, self.s.eb_environment)

    def compile(self) -> str:
        from ctsite.compile.cli import compile_cmd

        compile_cmd()
        return str(self.s.compiled_path)

    def figures(self) -> str:
        from ctsite.web.cli import figures_cmd

        figures_cmd()
        return ""

    def build_push(self) -> str:
        from ctsite.deploy import dockerrun
        from ctsite.deploy.cli_image import build_push

        build_push(pin=True, network=self.network, quiet=True)
        digest = dockerrun.pinned_digest(dockerrun.read(dockerrun.path_for(self.s)))
        if not digest:
            raise CtsiteError("build-push did not pin the pushed digest in Dockerrun.aws.json")
        release_state.write_state(
            self.s.root,
            "image",
            {
                "repository": self.s.image_repository,
                "context_hash": self.context_hash,
                "digest": digest,
            },
        )
        return digest

    def upload(self) -> str:
        from ctsite.deploy.cli_upload import _delete_scope, _upload

        _upload(self.s, _delete_scope(self.s, None))
        return ""

    def _pushed_digest(self, dockerrun_doc: dict[str, Any]) -> str:
        """The digest the bundle deploys, refusing one that no release has pushed."""
        from ctsite.deploy import dockerrun

        image = release_state.read_state(self.s.root).get("image") or {}
        pushed = image.get("digest")
        pinned = dockerrun.pinned_digest(dockerrun_doc)
        name = str((dockerrun_doc.get("Image") or {}).get("Name", "?"))
        if not pushed or image.get("repository") != self.s.image_repository:
            raise CtsiteError(
                f"refusing to deploy {name}: no image of {self.s.image_repository} was pushed "
                "by a release",
                hint="run `ctsite release --force build-push`",
            )
        if pinned != pushed:
            raise CtsiteError(
                f"refusing to deploy {name}: it is not the pushed image {pushed}",
                hint="run `ctsite release --force build-push` to push and pin the image",
            )
        return str(pushed)

    def deploy(self) -> str:
        from ctsite import __version__
        from ctsite.deploy.beanstalk import check_ready, git_commit, version_label
        from ctsite.deploy.cli_beanstalk import _url, _wait

        s = self.s
        with tempfile.TemporaryDirectory(prefix="ctsite-release-") as tmp:
            now = dt.datetime.now(dt.UTC)
            label = self.label or version_label(__version__, git_commit(s.root), now)
            bundle = _build_bundle(s, Path(tmp) / f"{label}.zip")
            digest = self._pushed_digest(bundle.dockerrun)
            eb = self._beanstalk()
            check_ready(eb.environment())
            eb.publish(bundle.path, label, self.message or f"ctsite release {label}")
        updated = eb.update(label)
        since = (updated.get("DateUpdated") or now) - dt.timedelta(seconds=5)
        final = _wait(eb, s, label, since, float(s.eb_timeout_minutes), self.poll_s)
        release_state.write_state(
            s.root, "deploy", {"label": label, "bundle_sha256": bundle.sha256, "digest": digest}
        )
        self.deployed = final
        return f"{label} at {_url(final)}"

    def restart(self) -> str:
        from ctsite.deploy.chores import restart

        env = restart(self._beanstalk(), poll_s=self.poll_s)
        self.deployed = env
        return f"{env.get('VersionLabel')} restarted"

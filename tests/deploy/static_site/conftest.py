"""Fixtures of the static-site tests: the demo store (built once) and the server's own answers
over it (the Flask app's test client), which the exported files must equal; for publishing, an
export of the demo, two exports of a store whose second version changed one condition, and an
empty bucket with a CloudFront distribution on moto."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from ctsite.config import Settings, load_settings


def plain_settings(root: Path) -> Settings:
    """Settings that ignore the developer's environment and any ctsite.toml."""
    return load_settings(root=root, environ={}, overrides={})


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo dataset, compiled (what `ctsite serve` shows first-time users)."""
    from ctsite.compile.demo import ensure_demo_store

    return ensure_demo_store(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def server_client(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """The website over the demo store, as `ctsite serve` runs it (asked in-process)."""
    from ctsite.web.app import create_app

    app = create_app(plain_settings(tmp_path_factory.mktemp("root")), store_path=demo_store)
    return app.test_client()


def without_url_line(csv: bytes) -> tuple[list[bytes], bytes]:
    """A CSV's lines but its provenance `# url:` line, and that line's value."""
    lines = csv.split(b"\n")
    url = [line for line in lines if line.startswith(b"# url: ")]
    assert len(url) == 1, csv[:400]
    return [line for line in lines if not line.startswith(b"# url: ")], url[0][len(b"# url: ") :]


@dataclass(frozen=True)
class TwoVersions:
    """A project (the demo's inputs, two conditions and their combination) compiled twice, the
    second time with new results for one condition, and an export of each version."""

    project: Path
    first: Path  # the export of the first version
    second: Path  # the export of the second (one condition changed)
    changed: str  # the changed condition's name


def export_of(project: Path, store: Path, folder: Path) -> Path:
    from functools import partial

    from ctsite.deploy.static_site.export_site import export_site
    from ctsite.web.snapshot import AppSnapshot

    export_site(folder, store, partial(AppSnapshot, plain_settings(project)))
    return folder


@pytest.fixture(scope="session")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> TwoVersions:
    from tests.cli.test_upload_publish import change_one_condition, compile_store, make_project

    root = tmp_path_factory.mktemp("two-versions")
    project = make_project(root)
    store = project / "data" / "compiled"
    first = export_of(project, store, root / "first")
    change_one_condition(project)
    compile_store(project)
    second = export_of(project, store, root / "second")
    changed = sorted((project / "inputs").glob("deg_*.h5ad"))[-1].stem.removeprefix("deg_")
    return TwoVersions(project, first, second, changed)


BUCKET = "ctsite-static-test"


def create_distribution(cloudfront: Any, bucket: str) -> str:
    """A distribution in front of the bucket (moto's CloudFront API), its id."""
    origin = f"{bucket}.s3.us-east-2.amazonaws.com"
    answer = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": f"test-{bucket}",
            "Comment": "ctsite test",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "bucket",
                        "DomainName": origin,
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "Compress": True,
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
            },
        }
    )
    return str(answer["Distribution"]["Id"])


@pytest.fixture
def hosting(moto_clients: Any) -> tuple[str, str]:
    """An empty bucket and a distribution in front of it: (bucket, distribution id)."""
    moto_clients("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-east-2"}
    )
    return BUCKET, create_distribution(moto_clients("cloudfront"), BUCKET)


@pytest.fixture(scope="module")
def demo_export(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-export")
    return export_of(root, demo_store, root / "site")


@pytest.fixture(scope="session")
def study_store(tmp_path_factory: pytest.TempPathFactory, real_interactions: Path) -> Path:
    """A study-scale synthetic store (`benchmarks/bench_compile.py`'s generator with the real
    mouse ligand–receptor list; fewer cells and genes than the study, so it compiles in
    seconds): its conditions' ligand effects span dozens of row blocks."""
    from benchmarks import bench_compile
    from tests.figures.conftest import compile_config

    folder = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench_compile, "SHARED_LR", real_interactions)
        config = bench_compile.generate(
            folder, n_types=11, n_targets=250, n_genes=800, n_cells=3000
        )
    return compile_config(config)

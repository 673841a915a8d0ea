"""The journey of issue 24's "Done when": another lab installs ctsite from the wheel and
publishes its own study from its own folder.

The wheel built from this checkout (`python -m build`, as scripts/release.sh builds it) is
installed into a fresh virtualenv outside the source tree (with the system's site-packages, so
no dependency is downloaded again; ctsite itself comes from the wheel: checked). Then, in an
empty folder holding only results files under that lab's names and cell types:

`init --yes` → the lab's [site] texts → `compile` → `figures` → `serve` (Chromium: the lab's
title, citation and DOI on Home; the ContactTracing paper only in the labelled method line; each
figure page's default view draws) → `provision plan` / `apply` (moto's CloudFormation) →
`doctor` → `build-push` (a real registry) → `upload-data` (moto's Transfer Family, a real sshd) → the built
image run on the folder the upload produced shows the same Home → `deploy` (Elastic Beanstalk
stubbed, as the deploy tests do, inside the installed ctsite's process) → `release --dry-run`
says there is nothing to do. README's "Publish your own results" walks the same steps.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.distribution.conftest import BUILD_SECONDS as WHEEL_SECONDS
from tests.distribution.conftest import Artefacts
from tests.support.cli import REPO, Installed, run_python, wait_healthy
from tests.support.components import require_module, unavailable
from tests.support.fixtures_docker import BASE_IMAGE_SECONDS, Registry, budget, free_port
from tests.support.fixtures_sftp import REGION, Sshd, _real_transfer_api

IMAGE_SECONDS = 900  # `ctsite build-push` of the real image from the packaged Dockerfile
pytestmark = [
    pytest.mark.slow,
    pytest.mark.docker,
    pytest.mark.browser,
    pytest.mark.sshd,
    budget(WHEEL_SECONDS, BASE_IMAGE_SECONDS, IMAGE_SECONDS, 600),
]

CIN_DOI = "10.1038/s41586-023-06464-z"
LAB = "liver-atlas"  # the lab's folder: init proposes the title and the AWS names from it
TITLE = "Liver atlas"
CITATION = "Okafor N., Lind P. A single-cell atlas of liver contacts. Hepatology Reports (2026)."
DOI = "10.5555/liver-atlas.2026"
# the lab's own file names and cell types (the demo generator's data, renamed)
FILES = {
    "deg_highCIN_vs_lowCIN.h5ad": "hep_vs_ctrl.h5ad",
    "deg_highCIN_vs_noSTING.h5ad": "hep_vs_ko.h5ad",
    "expression.h5ad": "counts_all.h5ad",
    "interactions.tsv": "lr_pairs.txt",
}
CELL_TYPES = [
    "Hepatocytes", "Kupffer cells", "Stellate cells", "Cholangiocytes",
    "LSEC", "Fibroblasts", "pDC", "ILC1",
]  # fmt: skip
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EB_DRIVER = REPO / "tests" / "support" / "eb_stubbed_cli.py"


# ---------------------------------------------------------------- the lab's ctsite and data


@pytest.fixture(scope="module")
def installed(artefacts: Artefacts, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh virtualenv outside the source tree with ctsite installed from the wheel."""
    home = tmp_path_factory.mktemp("lab-venv")
    venv = home / "venv"
    made = run_python("-m", "venv", "--system-site-packages", str(venv), cwd=home)
    assert made.returncode == 0, made.stderr
    ctsite = Installed(venv)
    pip = ctsite.run_python(
        *("-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", "--no-index"),
        str(artefacts.wheel),
        cwd=home,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return ctsite


def lab_results(where: Path) -> Path:
    """The synthetic demo inputs as another lab's results: other file names, other cell types."""
    import anndata as ad

    from ctsite.compile.demo import CELL_TYPES as DEMO_CELL_TYPES
    from ctsite.compile.demo import write_demo

    source = where.parent / "generated"
    write_demo(source)
    where.mkdir()
    rename = dict(zip(DEMO_CELL_TYPES, CELL_TYPES, strict=True))
    for name, target in FILES.items():
        if not name.endswith(".h5ad"):
            shutil.copy(source / name, where / target)
            continue
        table = ad.read_h5ad(source / name)
        column = "cell type" if "cell type" in table.obs else "Cell Type"
        table.obs[column] = table.obs[column].astype(str).map(rename).astype("category")
        table.write_h5ad(where / target)
    shutil.rmtree(source)
    return where


def set_lines(config: Path, replacements: dict[str, str]) -> None:
    """Edit ctsite.toml as a lab does: each placeholder line replaced by the lab's value."""
    text = config.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"{old!r} not in the ctsite.toml init wrote"
        text = text.replace(old, new, 1)
    config.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- AWS, SFTP and registry peers


@pytest.fixture
def lab_aws(
    moto_endpoint: str, sshd: Sshd, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, str]:
    """The environment of the lab's commands: moto (fresh state) for AWS, Transfer users
    authorized on the real sshd (the upload lands in its root, which plays the EFS), a
    DOCKER_CONFIG of its own, no CTSITE_* of the caller. Not `transfer_to_sshd`: its `moto_aws`
    makes the IAM roles and an EFS that `provision apply` must create itself."""
    from moto.transfer.models import TransferBackend

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    _real_transfer_api(monkeypatch)
    original = TransferBackend.create_user

    def create_user(self, *args, **kwargs):
        if kwargs.get("ssh_public_key_body"):
            sshd.authorize(kwargs["ssh_public_key_body"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TransferBackend, "create_user", create_user)
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTSITE_", "AWS_", "DOCKER_"))}
    env.update(
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        AWS_MAX_ATTEMPTS="2",
        DOCKER_CONFIG=str(docker_config),
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
        # where the upload's SFTP goes in the tests: the real sshd (moto's server has no host)
        CTSITE_SFTP_HOST="127.0.0.1",
        CTSITE_SFTP_PORT=str(sshd.port),
        CTSITE_SFTP_HOST_KEY_FINGERPRINT=sshd.fingerprint,
        CTSITE_REMOTE_DATA_DIR="data",
        CTSITE_TRANSFER_USER="root",  # the Transfer user is uid 0 on EFS; here a system user
    )
    if os.environ.get("DOCKER_HOST"):
        env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    return env


def aws(env: dict[str, str], service: str):
    """A boto3 client of the test on the lab's moto (its fake credentials)."""
    import boto3

    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def built(docker_engine) -> Iterator[list[str]]:
    """Image references the test built: removed afterwards with every tag of the same image."""
    refs: list[str] = []
    yield refs
    for ref in refs:
        try:
            image = docker_engine.images.get(ref)
        except Exception:
            continue
        for tag in image.tags:
            try:
                docker_engine.images.remove(tag, force=True)
            except Exception:
                pass


def docker_login(env: dict[str, str], registry: Registry) -> None:
    auth = base64.b64encode(f"tester:{registry.users['tester']}".encode()).decode()
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    config.write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        unavailable("chromium is not installed (apt-get install chromium)")
    sync_api = require_module("playwright.sync_api", "pip install playwright")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


# what the interactive figure drew: data points of its traces, the trace groups in the SVG, and
# its annotations (an empty view says "No interactions — …", "No chords pass …", "No effects …")
DRAWN = """() => {
    const g = document.getElementById('figure');
    const whole = window.ctsiteFigureLayer.whole(g);  // (a Circos' labels: figure_layer.js)
    const size = (a) => (Array.isArray(a) ? a.length : 0);
    const points = (whole.data || []).reduce(
        (n, t) => n + Math.max(size(t.x), size(t.y), size(t.r), size(t.theta)), 0);
    const notes = ((whole.layout || {}).annotations || []).map((a) => String(a.text || ''));
    return {points, notes, traces: g.querySelectorAll('.main-svg .trace').length};
}"""


def check_site_in_chromium(browser, base: str) -> None:
    """Home shows the lab's identity; the CIN paper only in the method line; each figure's
    default view draws."""
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/")
        assert page.locator("main h1").inner_text().strip() == TITLE
        citation = page.locator(".citation").inner_text()
        assert CITATION in citation and f"doi:{DOI}" in citation
        assert page.locator(f'.citation a[href="https://doi.org/{DOI}"]').count() == 1
        # every mention of the CIN paper (text or link) sits inside a .method-credit line,
        # which says it is the method
        outside = page.evaluate(
            """(doi) => {
                const clone = document.documentElement.cloneNode(true);
                clone.querySelectorAll('.method-credit').forEach((e) => e.remove());
                return clone.outerHTML.includes(doi);
            }""",
            CIN_DOI,
        )
        assert not outside, "the CIN paper appears outside the method-credit line"
        credits = page.locator(".method-credit").all_inner_texts()
        assert credits and all(text.strip().startswith("Method") for text in credits)
        assert (
            any(CIN_DOI in text for text in credits)
            or page.locator(f'.method-credit a[href*="{CIN_DOI}"]').count()
        )
        for name in ("circos", "pairwise", "effects"):
            page.goto(f"{base}/{name}")
            page.hover(".figure-wrap")
            page.wait_for_function(
                "() => { const g = document.getElementById('figure');"
                " return g.dataset.ready &&"
                " !document.querySelector('.figure-card').classList.contains('loading'); }",
                timeout=30000,
            )
            drawn = page.evaluate(DRAWN)
            assert drawn["points"] >= 1 and drawn["traces"] >= 1, f"{name}: {drawn}"
            assert not [n for n in drawn["notes"] if n.startswith("No ")], f"{name}: {drawn}"
            assert page.locator("#figure-error").is_hidden(), name
        assert not errors, errors
    finally:
        page.close()


# ---------------------------------------------------------------- the journey


def home_title(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    return found.group(1).strip() if found else ""


def test_another_lab_publishes_its_study_from_its_own_folder(
    installed: Installed,
    browser,
    lab_aws: dict[str, str],
    sshd: Sshd,
    docker_engine,
    built: list[str],
    registry: Registry,
    base_image: str,
    tmp_path: Path,
) -> None:
    lab = lab_results(tmp_path / LAB)
    env = lab_aws

    def ctsite(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = installed.run_ctsite(*args, cwd=lab, env=env, timeout=timeout)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def ok(*args: str, timeout: float = 300) -> str:
        done = ctsite(*args, timeout=timeout)
        assert done.returncode == 0, f"ctsite {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    # the ctsite that runs is the wheel's, in the virtualenv, not this checkout
    where = installed.run_python(
        "-c", "import ctsite, sys; print(ctsite.__file__); print(ctsite.__version__)", cwd=lab
    )
    assert where.returncode == 0, where.stderr
    module, version = where.stdout.split()
    assert Path(module).is_relative_to(installed.venv), module
    assert not Path(module).is_relative_to(REPO)
    from ctsite import __version__

    assert version == __version__
    bundle = Path(module).parent / "web" / "static" / "vendor" / "plotly-partial.min.js"
    assert bundle.is_file()

    # init → the lab's [site] texts → compile → figures
    ok("init", "--yes")
    config = lab / "ctsite.toml"
    set_lines(
        config,
        {
            '# citation = "Authors. Title. Journal (Year)."': f'citation = "{CITATION}"',
            '# doi = "10.xxxx/xxxxx"': f'doi = "{DOI}"',
            'contact = ""': 'contact = "atlas@liver-lab.example.org"',
            'about = "What was compared, in which samples, and why (shown on the home page)."': (
                'about = "Contacts between liver cell types after hepatocyte injury."'
            ),
        },
    )
    ok("compile")
    ok("figures")

    # serve → Chromium
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = installed.start_ctsite(
        "serve", "--port", str(port), cwd=lab, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        assert wait_healthy(server, port, timeout=120) is not None, (
            tmp_path / "serve.log"
        ).read_text()
        check_site_in_chromium(browser, f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    # provision plan / apply (moto's CloudFormation), then the lab's own names for what it made
    set_lines(
        config,
        {"[provision]\n": '[provision]\nnotification_email = "atlas@liver-lab.example.org"\n'},
    )
    plan = ok("provision", "plan")
    assert f"{LAB}-production" in plan and "AWS::EFS::FileSystem" in plan, plan
    applied = ok("provision", "apply", "--yes", "--poll", "0.05")
    assert "CREATE_COMPLETE" in applied, applied
    # apply names the file system it made, with the line ctsite.toml needs
    said = re.search(r'set \[efs\] file_system_id = "(fs-[0-9a-f]+)"', applied)
    assert said, applied
    efs_id = said.group(1)
    systems = aws(env, "efs").describe_file_systems()["FileSystems"]
    assert [fs["FileSystemId"] for fs in systems] == [efs_id]
    repository = f"{registry.host}/{LAB}-{uuid.uuid4().hex[:6]}"
    set_lines(
        config,
        {
            f'# repository = "public.ecr.aws/<your-alias>/{LAB}"': f'repository = "{repository}"',
            "[aws]\n": f'[efs]\nfile_system_id = "{efs_id}"\n\n[aws]\n',
        },
    )

    # Elastic Beanstalk: stubbed inside the installed ctsite's process (moto lacks its versions,
    # updates and events); the environment the stack would have made exists there
    state = tmp_path / "eb-state.json"
    bucket = f"elasticbeanstalk-{REGION}-123456789012"
    aws(env, "s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    state.write_text(
        json.dumps(
            {"application": LAB, "environment": f"{LAB}-env", "region": REGION,
             "bucket": bucket, "running": None, "versions": []}
        )
    )  # fmt: skip

    def with_eb(*args: str) -> subprocess.CompletedProcess[str]:
        done = installed.run_python(
            str(EB_DRIVER), str(state), "--", *args, cwd=lab, env=env, timeout=300
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    checked = with_eb("doctor")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "deployment files: packaged" in checked.stdout

    # build-push (a real registry)
    docker_login(env, registry)
    ok(
        *("build-push", "--quiet", "--build-arg", f"BASE_IMAGE={base_image}"),
        *("--network", "host"),
        timeout=IMAGE_SECONDS,
    )
    built.append(f"{repository}:latest")
    assert registry.tags(repository.split("/", 1)[1]), "nothing pushed"

    # upload-data (moto's Transfer Family, the real sshd)
    ok("upload-data", "--yes", timeout=600)
    published = sshd.root / "data"
    assert (published / "compiled").is_dir(), sorted(p.name for p in sshd.root.iterdir())

    # the built image, run on the folder the upload produced, shows the lab's Home
    # as uploaded (no chmod): the container's user (uid 10001) reads what the upload wrote
    image = f"{repository}:latest"
    web_port = free_port()
    container = docker_engine.containers.run(
        image,
        detach=True,
        ports={"8000/tcp": ("127.0.0.1", web_port)},
        volumes={str(published): {"bind": "/app/data", "mode": "ro"}},
        environment={"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2"},
    )
    try:
        home = wait_home(f"http://127.0.0.1:{web_port}/")
        assert home_title(home) == TITLE
        assert CITATION in home and f"doi:{DOI}" in home
    finally:
        container.remove(force=True)

    # deploy (Elastic Beanstalk stubbed as above), then the plan
    deployed = with_eb("deploy", "--poll", "0.05")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    running = json.loads(state.read_text())["running"]
    assert running and running in deployed.stdout + deployed.stderr

    planned = with_eb("release", "--dry-run")
    out = planned.stdout + planned.stderr
    assert planned.returncode == 0, out
    assert "nothing to do" in out, out


def wait_home(url: str, timeout: float = 120) -> str:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=5)
            if response.status_code == 200:
                return response.text
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s")

"""`ctsite retire` as the lab's operator runs it (the installed command in a subprocess; AWS on
moto's server; the live site a real HTTP server over the demo store): the production stack made
by `provision apply` (moto creates its EFS file system and mount targets; it skips the EB
environment), the static hosting a bucket with a CloudFront distribution (moto's CloudFront API).

Journey: `retire --dry-run` sends nothing → `retire` (no terminal, no --confirm) publishes the
live version, prints the new address, both sites' costs, the saving, the warning about the
elasticbeanstalk.com address, and deletes nothing → `retire --confirm NAME` deletes the stack and
the EFS file system the stack made, leaving the static site live. And each refusal as one line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.static_site.conftest import create_distribution
from tests.support.cli import cli_env, run_ctsite
from tests.support.servers import serving

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ENV_NAME = "Lab-site-env"
BUCKET = "lab-static-site"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ctsite.compile.demo import ensure_demo_store

    return ensure_demo_store(tmp_path_factory.mktemp("retire-demo"))


@pytest.fixture(scope="module")
def live_site(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The running EB site's stand-in: the ctsite app over the demo store on a real server."""
    from ctsite.config import load_settings
    from ctsite.web.app import create_app

    root = tmp_path_factory.mktemp("live")
    with serving(create_app(load_settings(root=root, environ={}), store_path=demo_store)) as url:
        yield url


@pytest.fixture
def lab(aws_env: str, moto_clients: Any, demo_store: Path, tmp_path: Path) -> Path:
    """The lab's folder: its ctsite.toml, its production stack applied, its static hosting."""
    project = tmp_path / "lab"
    project.mkdir()
    (project / "ctsite.toml").write_text(
        f'[beanstalk]\nenvironment = "{ENV_NAME}"\n'
        '[provision]\nnotification_email = "lab@example.org"\nsolution_stack = ""\n'
        f'[aws]\nregion = "us-east-2"\n[compile]\ncompiled_dir = "{demo_store}"\n'
    )
    applied = ctsite(project, "provision", "apply", "--yes", "--poll", "0.05")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    moto_clients("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-east-2"}
    )
    distribution = create_distribution(moto_clients("cloudfront"), BUCKET)
    with (project / "ctsite.toml").open("a") as fh:
        fh.write(f'[static]\nbucket = "{BUCKET}"\ndistribution_id = "{distribution}"\n')
    return project


def ctsite(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ctsite(
        *args, cwd=cwd, env=cli_env(without=("CTSITE_",), COLUMNS="200"), stdin=subprocess.DEVNULL
    )


def words(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join((result.stdout + result.stderr).split())


def one_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and text in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def stack_alive(moto_clients: Any, name: str) -> bool:
    stacks = moto_clients("cloudformation").list_stacks()["StackSummaries"]
    return any(s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)


def published_version(moto_clients: Any) -> str | None:
    from tests.support.static_bucket import bucket_objects, decoded

    objects = bucket_objects(moto_clients("s3"), BUCKET)
    indexes = [k for k in objects if k.startswith("data/store.") and k.endswith(".json")]
    if not indexes:
        return None
    assert len(indexes) == 1
    return str(json.loads(decoded(objects[indexes[0]]))["version"])


def live_version(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as answer:
        return str(json.loads(answer.read())["store_version"])


def test_retire_journey(lab: Path, live_site: str, moto_clients: Any) -> None:
    efs = moto_clients("efs")
    (made,) = [f["FileSystemId"] for f in efs.describe_file_systems()["FileSystems"]]

    dry = ctsite(lab, "retire", "--live-url", live_site, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    text = words(dry)
    assert "dry run: nothing was sent, deleted or invalidated" in text
    assert f"`ctsite retire --confirm {ENV_NAME}` would delete" in text
    assert published_version(moto_clients) is None

    kept = ctsite(lab, "retire", "--live-url", live_site)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    text = words(kept)
    version = live_version(live_site)
    assert f"runs store version {version}" in text
    assert f"the static site holds store version {version}" in text
    assert "the static site: https://" in text and ".cloudfront.net/" in text
    # both sites' costs and the saving, from provision plan's own formulas
    assert "the Elastic Beanstalk site ≈ $19.43" in text
    assert "the static site ≈ $0.04" in text and "$1.72 at list prices" in text
    assert "saves ≈ $19.39/month" in text
    assert "under a domain your lab owns" in text
    assert f"nothing deleted; `ctsite retire --confirm {ENV_NAME}` deletes" in text
    assert f"the EFS file system {made}" in text
    assert published_version(moto_clients) == version
    assert stack_alive(moto_clients, "ctsite-production")

    wrong = ctsite(lab, "retire", "--live-url", live_site, "--confirm", "production")
    one_error(wrong, "'production' is not the production environment's name: nothing deleted")
    assert stack_alive(moto_clients, "ctsite-production")

    done = ctsite(
        lab, "retire", "--live-url", live_site, "--confirm", ENV_NAME, "--poll", "0.05", "--json"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["deleted"]["stack_name"] == "ctsite-production"
    assert answer["deleted"]["file_system_id"] == made
    assert answer["publish"]["plan"]["version"] == version
    assert not stack_alive(moto_clients, "ctsite-production")
    assert efs.describe_file_systems()["FileSystems"] == []
    assert published_version(moto_clients) == version  # the static site stays


def test_the_warnings_about_the_addresses() -> None:
    """An elasticbeanstalk.com address (the one a paper may print) is gone once deleted and its
    name claimable; without a lab-owned domain the CloudFront address is no lasting one."""
    from ctsite.deploy.retire import LiveSite, address_warnings

    eb = LiveSite("http://lab-site.us-east-2.elasticbeanstalk.com", "v", "f")
    assert eb.eb_address and not LiveSite("http://127.0.0.1:8000", "v", "f").eb_address
    found = address_warnings(eb, "")
    assert len(found) == 2
    assert "lab-site.us-east-2.elasticbeanstalk.com stops answering" in found[0]
    assert "anyone may later create an environment under that name" in found[0]
    assert "under a domain your lab owns" in found[1]
    assert address_warnings(eb, "atlas.example.org") == found[:1]
    assert address_warnings(LiveSite("https://atlas.example.org", "v", "f"), "x.org") == ()


def other_store(demo_store: Path, folder: Path, *, version: str | None = None) -> Path:
    """A copy of the demo store whose live version is renamed to `version`, or (without one)
    whose live version holds other data (another compile time in its manifest)."""
    import shutil

    copy = shutil.copytree(demo_store, folder)
    (live,) = (copy / "versions").iterdir()
    if version is not None:
        live.rename(live.with_name(version))
        return copy
    manifest = json.loads((live / "manifest.json").read_text())
    manifest["created"] = "2001-01-01T00:00:00+00:00"
    (live / "manifest.json").write_text(json.dumps(manifest))
    return copy


def test_a_version_the_local_store_lacks(
    lab: Path, live_site: str, demo_store: Path, moto_clients: Any, tmp_path: Path
) -> None:
    other = other_store(demo_store, tmp_path / "other", version="v20000101T000000Z-other")
    result = ctsite(lab, "retire", "--live-url", live_site, "--data", str(other))
    one_error(result, "which the local store")
    assert published_version(moto_clients) is None


def test_a_local_version_with_other_data(
    lab: Path, live_site: str, demo_store: Path, moto_clients: Any, tmp_path: Path
) -> None:
    other = other_store(demo_store, tmp_path / "other")
    result = ctsite(lab, "retire", "--live-url", live_site, "--data", str(other))
    one_error(result, "differs from the live site's")
    assert published_version(moto_clients) is None


def test_no_live_site(lab: Path) -> None:
    one_error(
        ctsite(lab, "retire", "--live-url", "http://127.0.0.1:9"), "cannot reach the live site"
    )


def test_a_gated_site_is_not_made_public(lab: Path, live_site: str, moto_clients: Any) -> None:
    with (lab / "ctsite.toml").open("a") as fh:
        fh.write('[site]\naccess_code_hash = "scrypt:32768:8:1$abc$def"\n')
    one_error(ctsite(lab, "retire", "--live-url", live_site), "behind an access code")
    assert published_version(moto_clients) is None


def test_staging_sharing_the_file_system_blocks_the_deletion(
    lab: Path, live_site: str, moto_clients: Any
) -> None:
    staged = ctsite(lab, "provision", "apply", "--env", "staging", "--yes", "--poll", "0.05")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    result = ctsite(lab, "retire", "--live-url", live_site, "--confirm", ENV_NAME)
    one_error(result, "the staging stack ctsite-staging shares the EFS file system")
    assert stack_alive(moto_clients, "ctsite-production")
    assert published_version(moto_clients) is not None  # published; the EB site kept


def test_the_live_address_is_the_environments_own(
    lab: Path, live_site: str, moto_clients: Any
) -> None:
    """Without --live-url, the site is read at the production environment's CNAME (moto's
    Elastic Beanstalk leaves CNAME empty, so the one call is answered by botocore's Stubber in
    the shape the real API gives); an environment without one is one clear error (on moto)."""
    from botocore.stub import Stubber

    from ctsite.config import load_settings
    from ctsite.deploy.retire import plan_retire

    settings = load_settings(root=lab, environ={})
    query = {
        "ApplicationName": settings.eb_application,
        "EnvironmentNames": [ENV_NAME],
        "IncludeDeleted": False,
    }
    described = {
        "EnvironmentName": ENV_NAME,
        "ApplicationName": settings.eb_application,
        "CNAME": live_site.removeprefix("http://"),
        "EndpointURL": "203.0.113.7",
        "Status": "Ready",
        "Health": "Green",
    }
    eb = moto_clients("elasticbeanstalk")
    with Stubber(eb) as stub:
        stub.add_response("describe_environments", {"Environments": [described]}, query)
        plan = plan_retire(settings, moto_clients)
        stub.assert_no_pending_responses()
    assert plan.live.url == live_site
    assert plan.live.store_version == live_version(live_site)

    eb.create_application(ApplicationName=settings.eb_application)
    eb.create_environment(
        ApplicationName=settings.eb_application, EnvironmentName=ENV_NAME, SolutionStackName="x"
    )
    one_error(ctsite(lab, "retire"), f"the Elastic Beanstalk environment {ENV_NAME} has no address")


def test_a_hand_made_environment_is_kept(lab: Path, live_site: str, moto_clients: Any) -> None:
    """An environment with no stack of ctsite's: published, never deleted by ctsite."""
    from ctsite.config import load_settings

    application = load_settings(root=lab, environ={}).eb_application
    destroyed = ctsite(
        lab, "provision", "destroy", "--env", "production", "--confirm", ENV_NAME, "--poll", "0.05"
    )
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    eb = moto_clients("elasticbeanstalk")
    eb.create_application(ApplicationName=application)
    eb.create_environment(
        ApplicationName=application, EnvironmentName=ENV_NAME, SolutionStackName="x"
    )
    kept = ctsite(lab, "retire", "--live-url", live_site)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert f"{ENV_NAME} was not made by `ctsite provision apply`" in words(kept)
    refused = ctsite(lab, "retire", "--live-url", live_site, "--confirm", ENV_NAME)
    one_error(refused, "the Elastic Beanstalk site is kept")
    assert published_version(moto_clients) is not None
    assert eb.describe_environments(EnvironmentNames=[ENV_NAME])["Environments"]


@pytest.mark.parametrize("poll", ["0", "-1"])
def test_a_poll_interval_that_is_not_positive_is_refused(
    lab: Path, live_site: str, moto_clients: Any, poll: str
) -> None:
    """(-1 would stop the deletion half-way with Python's sleep error; 0 would poll AWS
    without a pause.)"""
    result = ctsite(lab, "retire", "--live-url", live_site, "--confirm", ENV_NAME, "--poll", poll)
    one_error(result, "--poll must be positive")
    assert result.returncode == 2
    assert stack_alive(moto_clients, "ctsite-production")
    assert published_version(moto_clients) is None


def test_a_mistyped_confirmation_is_refused_before_anything_is_sent(
    lab: Path, live_site: str, moto_clients: Any
) -> None:
    """The operator meant to delete: a typo is said at once, before the export and upload."""
    for typed in ("Lab-site-en", ""):
        result = ctsite(lab, "retire", "--live-url", live_site, "--confirm", typed)
        one_error(result, f"{typed!r} is not the production environment's name: nothing deleted")
        answer = ctsite(lab, "retire", "--live-url", live_site, "--confirm", typed, "--json")
        assert answer.returncode == 1 and "nothing deleted" in json.loads(answer.stdout)["error"]
    assert published_version(moto_clients) is None
    assert stack_alive(moto_clients, "ctsite-production")


def test_retire_after_retire_says_there_is_nothing_left(
    lab: Path, live_site: str, moto_clients: Any
) -> None:
    done = ctsite(lab, "retire", "--live-url", live_site, "--confirm", ENV_NAME, "--poll", "0.05")
    assert done.returncode == 0, done.stdout + done.stderr
    gone = f"nothing to retire: neither the Elastic Beanstalk environment {ENV_NAME} nor its stack"
    for args in (("--live-url", live_site, "--confirm", ENV_NAME), ("--live-url", live_site), ()):
        again = ctsite(lab, "retire", *args)
        one_error(again, gone)
        assert "not made by" not in again.stderr
    answer = ctsite(lab, "retire", "--confirm", ENV_NAME, "--json")
    assert answer.returncode == 1 and gone in json.loads(answer.stdout)["error"]


def test_a_retire_stopped_after_the_stack_names_the_file_system_left(
    lab: Path, live_site: str, moto_clients: Any
) -> None:
    """The stack deleted (as a retire stopped before its EFS step leaves it), the file system
    kept: a second retire deletes nothing it cannot prove it made, and says how to delete it."""
    efs = moto_clients("efs")
    (made,) = [f["FileSystemId"] for f in efs.describe_file_systems()["FileSystems"]]
    with (lab / "ctsite.toml").open("a") as fh:
        fh.write(f'[efs]\nfile_system_id = "{made}"\n')
    destroyed = ctsite(
        lab, "provision", "destroy", "--env", "production", "--confirm", ENV_NAME, "--poll", "0.05"
    )
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    again = ctsite(lab, "retire", "--live-url", live_site, "--confirm", ENV_NAME)
    one_error(again, "nothing to retire")
    assert f"aws efs delete-file-system --file-system-id {made}" in " ".join(again.stderr.split())
    assert [f["FileSystemId"] for f in efs.describe_file_systems()["FileSystems"]] == [made]


def test_json_carries_the_saving_and_the_warnings(lab: Path, live_site: str) -> None:
    """A script reading --json gets what the text says: both sites' totals, the saving, the
    warnings (the address) and what --confirm would delete."""
    result = ctsite(lab, "retire", "--live-url", live_site, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert (plan["eb_monthly_usd"], plan["static"]["monthly_usd"], plan["saving_usd"]) == (
        19.43, 0.04, 19.39,
    )  # fmt: skip
    assert plan["environment"] == ENV_NAME and plan["stack_name"] == "ctsite-production"
    assert [w for w in plan["warnings"] if "under a domain your lab owns" in w]
    assert plan["file_system_id"].startswith("fs-") and plan["blockers"] == []
    assert json.loads(result.stdout)["deleted"] is None


@pytest.mark.parametrize(
    ("at", "said"),
    [
        ("ctsite-production: deleting", "the stack ctsite-production may be being deleted"),
        ("deleting the EFS file system", "the stack ctsite-production is deleted, the EFS"),
    ],
    ids=["stack", "file-system"],
)
def test_ctrl_c_during_the_deletion_says_what_is_left(
    lab: Path, live_site: str, moto_clients: Any, at: str, said: str
) -> None:
    """Stopped while the stack or the file system is being deleted: not "cleaned up", but
    what is left and the command that finishes it (once the stack is gone, nothing proves any
    more that ctsite made the file system, so a re-run would only name it)."""
    from ctsite.config import load_settings
    from ctsite.deploy.reporter import NullReporter
    from ctsite.deploy.retire import delete_eb_site, plan_retire

    class StopAt(NullReporter):
        def info(self, message: str) -> None:
            if at in message:
                raise KeyboardInterrupt

    plan = plan_retire(load_settings(root=lab, environ={}), moto_clients, live_url=live_site)
    made = plan.file_system_id
    with pytest.raises(KeyboardInterrupt) as stop:
        delete_eb_site(plan, moto_clients, ENV_NAME, poll_s=0.05, reporter=StopAt())
    outcome = " ".join(str(getattr(stop.value, "outcome", "")).split())
    assert said in outcome, outcome
    assert f"aws efs delete-file-system --file-system-id {made}" in outcome
    efs = moto_clients("efs").describe_file_systems()["FileSystems"]
    assert [f["FileSystemId"] for f in efs] == [made]

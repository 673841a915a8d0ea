"""Publishing into the runbook's AWS names needs a yes (issue 24): a command that would push or
deploy with names this site did not set says so once and, without a terminal or --yes, refuses
before it touches anything; dry runs only plan and never ask. `provision apply` against moto is
tests/deploy/provision/test_stack.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.config import RUNBOOK_NAMES, inherited_names, load_settings
from tests.support.cli import cli_env, run_ctsite

REFUSED = "error: refusing to publish into the runbook's AWS names without confirmation"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("build-push",), "image_repository = public.ecr.aws/d6q7u0s0/ct-site"),
        (("deploy",), "eb_environment = Contacttracingsite-env"),
        (("upload-data", "--restart"), "eb_application = Contacttracingsite"),
    ],
)
def test_inherited_names_are_refused_without_yes(tmp_path: Path, args, named) -> None:
    done = run_ctsite(*args, cwd=tmp_path, env=cli_env(without=("CTSITE_", "AWS_")))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error")]
    assert errors == [REFUSED], done.stderr
    assert named in done.stderr and "pass --yes" in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written (no Dockerrun, no bundle)


def test_dry_runs_never_ask(tmp_path: Path) -> None:
    done = run_ctsite("deploy", "--dry-run", cwd=tmp_path, env=cli_env(without=("CTSITE_",)))
    assert "runbook" not in done.stderr


def test_the_release_dry_run_says_a_real_release_would_ask(tmp_path: Path) -> None:
    """The plan that shows everything: a real release (without a terminal, without --yes)
    refuses the runbook's names, so its dry run names them, once, without asking."""
    from tests.cli.test_any_folder import offline

    done = run_ctsite("release", "--dry-run", cwd=tmp_path, env=offline(tmp_path))
    said = [ln for ln in (done.stdout + done.stderr).splitlines() if "runbook's AWS names" in ln]
    assert len(said) == 1, done.stdout + done.stderr
    assert "image_repository = public.ecr.aws/d6q7u0s0/ct-site" in said[0]
    assert "eb_environment = Contacttracingsite-env" in said[0]
    assert "a real release asks first" in said[0] and "--yes" in said[0]
    own = tmp_path / "own"
    own.mkdir()
    (own / "ctsite.toml").write_text(
        '[image]\nrepository = "localhost:5000/x"\n'
        '[beanstalk]\napplication = "a"\nenvironment = "a-env"\n'
        '[provision]\nstaging_environment = "a-staging"\nefs_name = "a-data"\n'
    )
    done = run_ctsite("release", "--dry-run", cwd=own, env=offline(tmp_path))
    assert "release plan" in done.stdout.splitlines(), done.stdout + done.stderr  # (it planned)
    assert "runbook" not in done.stdout + done.stderr


def test_a_name_set_anywhere_is_the_sites_own(tmp_path: Path) -> None:
    s = load_settings(root=tmp_path, environ={})
    assert inherited_names(s) == list(RUNBOOK_NAMES)
    (tmp_path / "ctsite.toml").write_text('[beanstalk]\napplication = "Contacttracingsite"\n')
    s = load_settings(root=tmp_path, environ={"CTSITE_IMAGE_REPOSITORY": "localhost:5000/x"})
    assert "eb_application" not in inherited_names(s)  # the runbook's lab, on purpose
    assert "image_repository" not in inherited_names(s)
    assert inherited_names(s, ("eb_environment", "serve_port")) == ["eb_environment"]

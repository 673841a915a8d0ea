"""`ctsite config` through the real CLI: every key under its section with its source, secrets
masked (the `secret` of their field), in the table and in `--json`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.cli import cli_env, run_ctsite

HASH = "pbkdf2:not-a-real-hash-but-a-value-to-hide"
KEY = "k" * 40


def config(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "ctsite.toml").write_text(
        f'[site]\naccess_code_hash = "{HASH}"\nhost = "0.0.0.0"\n[eb]\nkeep_versions = 5\n'
    )
    env = cli_env(without=("CTSITE_", "AWS_"), COLUMNS="200", CTSITE_SITE_SECRET_KEY=KEY)
    done = run_ctsite("config", *args, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_config_json_masks_secrets_and_names_sources(tmp_path: Path) -> None:
    done = config(tmp_path, "--json")
    assert HASH not in done.stdout and KEY not in done.stdout
    sections = json.loads(done.stdout)["sections"]
    assert list(sections) == [
        "site",
        "compile",
        "aws",
        "image",
        "beanstalk",
        "transfer",
        "provision",
        "figures",
        "static",
    ]
    site = sections["site"]
    assert site["site_access_code_hash"] == {"value": "(set)", "source": "ctsite.toml"}
    assert site["site_secret_key"] == {"value": "(set)", "source": "env CTSITE_SITE_SECRET_KEY"}
    assert site["serve_host"] == {"value": "0.0.0.0", "source": "ctsite.toml"}
    assert sections["beanstalk"]["eb_keep_versions"] == {"value": 5, "source": "ctsite.toml"}
    assert sections["transfer"]["sftp_port"] == {"value": 22, "source": "default"}


def test_config_table_masks_secrets(tmp_path: Path) -> None:
    done = config(tmp_path)
    assert HASH not in done.stdout and KEY not in done.stdout
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if "│" in line}
    assert "(set)" in rows["site_access_code_hash"] and "(set)" in rows["site_secret_key"]
    assert "'0.0.0.0'" in rows["serve_host"] and "ctsite.toml" in rows["serve_host"]

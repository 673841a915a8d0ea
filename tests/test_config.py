"""Settings in sections, with every older spelling (flat key, prefix table, CTSITE_*) still valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.config import SECTIONS, load_settings, section_of, setting_keys
from ctsite.errors import ConfigError


def settings(tmp_path: Path, toml: str, **env: str):
    (tmp_path / "ctsite.toml").write_text(toml)
    return load_settings(root=tmp_path, environ=env)


def test_every_key_in_exactly_one_section() -> None:
    keys = [key for names in SECTIONS.values() for key in names.values()]
    assert sorted(keys) == sorted(setting_keys())
    assert section_of("eb_application") == "beanstalk" and section_of("sftp_port") == "transfer"


@pytest.mark.parametrize(
    "toml",
    [
        'eb_application = "App"\nsftp_port = 2200\n',  # flat keys
        '[eb]\napplication = "App"\n[sftp]\nport = 2200\n',  # tables named after the prefix
        '[beanstalk]\napplication = "App"\n[transfer]\nsftp_port = 2200\n',  # sections
        '[beanstalk]\neb_application = "App"\n[transfer]\nsftp_port = 2200\n',  # full keys
    ],
)
def test_old_and_sectioned_files_mean_the_same(tmp_path: Path, toml: str) -> None:
    s = settings(tmp_path, toml)
    assert s.eb_application == "App" and s.sftp_port == 2200
    assert s.section("beanstalk")["application"] == "App"
    assert s.section("transfer")["sftp_port"] == 2200


def test_environment_variables_old_and_sectioned(tmp_path: Path) -> None:
    s = settings(tmp_path, "", CTSITE_EB_APPLICATION="A", CTSITE_TRANSFER_SFTP_PORT="23")
    assert s.eb_application == "A" and s.sftp_port == 23
    s = settings(
        tmp_path, "", CTSITE_BEANSTALK_APPLICATION="B", CTSITE_IMAGE_PLATFORM="linux/arm64"
    )
    assert s.eb_application == "B" and s.docker_platform == "linux/arm64"
    assert s.sources["eb_application"] == "env CTSITE_BEANSTALK_APPLICATION"


def test_unknown_names_still_fail(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        settings(tmp_path, "[beanstalk]\nnope = 1\n")
    s = settings(tmp_path, "", CTSITE_BEANSTALK_NOPE="x", CTSITE_EB_APLICATION="y")
    assert s.warnings == (
        "ignoring the environment variable CTSITE_BEANSTALK_NOPE: not a ctsite setting",
        "ignoring the environment variable CTSITE_EB_APLICATION: not a ctsite setting; "
        "did you mean CTSITE_EB_APPLICATION?",
    )

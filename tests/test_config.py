"""Settings in sections, with every older spelling (flat key, prefix table, CTSITE_*) still valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctsite.config import (
    RANGES,
    SECRETS,
    SECTIONS,
    TYPES,
    Settings,
    Spec,
    derive_sections,
    load_settings,
    section_of,
    setting,
    setting_keys,
)
from ctsite.errors import ConfigError

# Today's tables as they were written by hand before issue 23 (each key declared three times);
# the tables derived from the fields must stay equal to them.
OLD_SECTIONS: dict[str, dict[str, str]] = {
    "site": {
        "proxy_hops": "site_proxy_hops",
        "forwarded_hops": "site_forwarded_hops",
        "title": "site_title",
        "subtitle": "site_subtitle",
        "contact": "site_contact",
        "about": "site_about",
        "method_url": "site_method_url",
        # issue 24: the study's identity
        "short_title": "site_short_title",
        "citation": "site_citation",
        "doi": "site_doi",
        "paper_url": "site_paper_url",
        "data_links": "site_data_links",
        "license": "site_license",
        "method_credit": "site_method_credit",
        "demo": "site_demo",
        "access_code_hash": "site_access_code_hash",
        "secret_key": "site_secret_key",
        "session_hours": "site_session_hours",
        "login_rate": "site_login_rate",
        "login_global_rate": "site_login_global_rate",
        "cache_size": "site_cache_size",
        "host": "serve_host",
        "port": "serve_port",
        "data_dir": "data_dir",
        "demo_dir": "demo_dir",
    },
    "compile": {
        "compiled_dir": "compiled_dir",
        "jobs": "compile_jobs",
        "block_rows": "compile_block_rows",
        "keep_versions": "compile_keep_versions",
    },
    "image": {
        "repository": "image_repository",
        "name": "image_name",
        "platform": "docker_platform",
    },
    "aws": {
        "region": "aws_region",
        "profile": "aws_profile",
    },
    "beanstalk": {
        "application": "eb_application",
        "environment": "eb_environment",
        "timeout_minutes": "eb_timeout_minutes",
        "keep_versions": "eb_keep_versions",
        "service_role": "eb_service_role",
        "instance_role": "eb_instance_role",
        "notification_topic": "eb_notification_topic",
    },
    "transfer": {
        "efs_file_system_id": "efs_file_system_id",
        "efs_mount_dir": "efs_mount_dir",
        "logging_role": "transfer_logging_role",
        "user_role": "transfer_user_role",
        "user": "transfer_user",
        "home_directory": "transfer_home_directory",
        "max_age_hours": "transfer_max_age_hours",
        "hourly_cost": "transfer_hourly_cost",
        "gb_cost": "transfer_gb_cost",
        "online_timeout": "transfer_online_timeout",
        "scheduler_role": "transfer_scheduler_role",
        "sftp_host": "sftp_host",
        "sftp_port": "sftp_port",
        "sftp_host_key_fingerprint": "sftp_host_key_fingerprint",
        "sftp_stall_timeout": "sftp_stall_timeout",
        "upload_jobs": "upload_jobs",
        "remote_data_dir": "remote_data_dir",
    },
    "provision": {
        "stack_prefix": "provision_stack_prefix",
        "instance_type": "provision_instance_type",
        "notification_email": "provision_notification_email",
        "load_balanced": "provision_load_balanced",
        "min_instances": "provision_min_instances",
        "max_instances": "provision_max_instances",
        "scaling_metric": "provision_scaling_metric",
        "certificate_arn": "provision_certificate_arn",
        "efs_name": "provision_efs_name",
        "solution_stack": "provision_solution_stack",
        "staging_environment": "staging_environment",
        "staging_data_dir": "staging_data_dir",
        "alarm_memory_percent": "provision_alarm_memory_percent",
        "alarm_5xx_percent": "provision_alarm_5xx_percent",
        "alarm_health": "provision_alarm_health",
        "price_instance_hourly": "price_instance_hourly",
        "price_load_balancer_hourly": "price_load_balancer_hourly",
        "price_public_ipv4_hourly": "price_public_ipv4_hourly",
        "price_efs_gb_month": "price_efs_gb_month",
        "price_data_gb": "price_data_gb",
    },
    # issue 24: the figures' default views (empty: chosen from the data at compile time)
    "figures": {
        "effects_cell_type": "figures_effects_cell_type",
        "effects_seeds": "figures_effects_seeds",
        "pairwise_cell_type1": "figures_pairwise_cell_type1",
        "pairwise_cell_type2": "figures_pairwise_cell_type2",
    },
    # issue 27: the static site on S3 + CloudFront, and its list prices
    "static": {
        "domain": "static_domain",
        "certificate_arn": "static_certificate_arn",
        "price_class": "static_price_class",
        "monthly_views": "static_monthly_views",
        "requests_per_view": "static_requests_per_view",
        "bytes_per_view": "static_bytes_per_view",
        "site_gb": "static_site_gb",
        "price_s3_gb_month": "price_s3_gb_month",
        "price_s3_get_per_1000": "price_s3_get_per_1000",
        "price_cloudfront_gb": "price_cloudfront_gb",
        "price_cloudfront_https_per_10000": "price_cloudfront_https_per_10000",
        "price_cloudfront_function_per_million": "price_cloudfront_function_per_million",
        "bucket": "static_bucket",
        "distribution_id": "static_distribution_id",
    },
}
OLD_RANGES: dict[str, tuple[float | None, float | None]] = {
    "compile_jobs": (1, 64),
    "compile_block_rows": (0, None),
    "compile_keep_versions": (1, None),
    "site_session_hours": (0, None),
    "site_cache_size": (0, None),
    "serve_port": (1, 65535),
    "site_proxy_hops": (0, 10),
    "site_forwarded_hops": (0, 10),
    "eb_timeout_minutes": (1, None),
    "eb_keep_versions": (1, 1000),
    "transfer_max_age_hours": (0, None),
    "transfer_hourly_cost": (0, None),
    "transfer_gb_cost": (0, None),
    "transfer_online_timeout": (1, None),
    "sftp_port": (1, 65535),
    "upload_jobs": (1, 64),
    "provision_min_instances": (1, None),
    "provision_max_instances": (1, None),
    "provision_alarm_memory_percent": (1, 100),
    "provision_alarm_5xx_percent": (0, 100),
    "price_instance_hourly": (0, None),
    "price_load_balancer_hourly": (0, None),
    "price_public_ipv4_hourly": (0, None),
    "price_efs_gb_month": (0, None),
    "price_data_gb": (0, None),
    "static_monthly_views": (0, None),
    "static_requests_per_view": (0, None),
    "static_bytes_per_view": (0, None),
    "static_site_gb": (0, None),
    "price_s3_gb_month": (0, None),
    "price_s3_get_per_1000": (0, None),
    "price_cloudfront_gb": (0, None),
    "price_cloudfront_https_per_10000": (0, None),
    "price_cloudfront_function_per_million": (0, None),
}


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


def test_derived_tables_equal_the_hand_written_ones() -> None:
    assert list(SECTIONS) == list(OLD_SECTIONS)  # the order `unknown section` hints list them in
    assert SECTIONS == OLD_SECTIONS
    assert RANGES == OLD_RANGES


def test_secrets_are_the_keys_config_always_masked() -> None:
    # before issue 23 `ctsite config` masked the keys ending in _hash or _secret_key
    assert SECRETS == {k for k in setting_keys() if k.endswith(("_hash", "_secret_key"))}
    assert SECRETS == {"site_access_code_hash", "site_secret_key"}


def test_every_default_is_valid_for_its_own_field(tmp_path: Path) -> None:
    defaults = {key: value for key, value, _ in Settings().items()}
    assert {key: type(value) for key, value in defaults.items()} == TYPES
    # each default passes its own type and range checks, as if it were written in ctsite.toml
    assert load_settings(root=tmp_path, environ={}, overrides=defaults) == Settings()
    assert all(TYPES[key] in (int, float) for key in RANGES)


def test_declaration_mistakes_fail_at_import() -> None:
    with pytest.raises(ValueError, match="unknown section 'nope'"):
        setting(1, "nope")
    twice = {k: Spec("site", "port", None, False) for k in ("serve_port", "site_port")}
    with pytest.raises(ValueError, match="two settings are named 'port' in \\[site\\]"):
        derive_sections(twice)


def test_an_unknown_key_gets_a_did_you_mean_and_a_hint_that_works(tmp_path: Path) -> None:
    """`[site] titel`: the close key of that section, and the keys of [site] (not `ctsite
    config`, which fails on the same key)."""
    (tmp_path / "ctsite.toml").write_text('[site]\ntitel = "Mine"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(root=tmp_path, environ={})
    error = caught.value
    assert "[site] titel" in error.message and "did you mean title?" in error.message
    assert error.hint is not None and "ctsite config" not in error.hint
    assert "title" in error.hint and "subtitle" in error.hint  # the section's keys
    (tmp_path / "ctsite.toml").write_text('[aws]\nregoin = "eu-west-1"\n')
    with pytest.raises(ConfigError, match="did you mean region"):
        load_settings(root=tmp_path, environ={})


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Editors on Windows (Notepad) save UTF-8 with a byte order mark: the file was refused as
    "not valid TOML: Invalid statement (at line 1, column 1)", a character no one can see."""
    (tmp_path / "ctsite.toml").write_bytes(b'\xef\xbb\xbf[site]\ntitle = "Gut atlas \xc3\x98"\n')
    s = load_settings(root=tmp_path, environ={})
    assert s.site_title == "Gut atlas Ø"

"""One configuration object for every ctsite command.

Values are resolved in this order, each layer overriding the one before:
defaults (the lab's runbook) ← `ctsite.toml` ← `CTSITE_<KEY>` environment variables ← CLI options.
`Settings.sources` remembers where every value came from (shown by `ctsite config`).

Scalar settings are flat keys (`aws_region`, `sftp_port`, …), grouped in sections (site, compile,
image, aws, beanstalk, transfer: `SECTIONS`). In `ctsite.toml` a key may be written at the top
level, in a table named after its prefix (`[aws] region = ...` is `aws_region`, `[eb]
application` is `eb_application`), or in its section under its short name (`[beanstalk]
application`, `[transfer] sftp_port`); `CTSITE_<KEY>` and `CTSITE_<SECTION>_<NAME>` variables
both work. The `[data]` table is different: it describes the dataset to compile
(see `ctsite.compile.dataset`).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctsite.errors import ConfigError

CONFIG_FILE = "ctsite.toml"
ENV_PREFIX = "CTSITE_"
# CTSITE_* variables read by command-line options (Typer `envvar=`), not settings.
CLI_ENV = frozenset({"CONFIG", "YES", "VERBOSE", "QUIET", "DEBUG", "MAX_DELETE"})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every scalar setting of ctsite, with the lab's runbook values as defaults."""

    # --- paths (relative paths are relative to the project root) ---
    data_dir: str = "data"
    compiled_dir: str = "data/compiled"
    demo_dir: str = "data/demo"
    # --- compile ---
    compile_jobs: int = 2
    compile_block_rows: int = 0  # rows per input block; 0: automatic (about 1 MiB per dense block)
    # store versions kept after a compile (the current and the previous are always kept)
    compile_keep_versions: int = 2
    # --- website ---
    site_title: str = "ContactTracing: CIN and STING in the tumour ecosystem"
    site_subtitle: str = (
        "Non-cell-autonomous cancer progression from chromosomal instability "
        "(Li et al., Nature 2023)"
    )
    site_contact: str = ""
    site_about: str = ""  # home-page study summary (empty: the CIN/STING study's text)
    site_method_url: str = "https://github.com/LaughneyLab/ContactTracing_tutorial"
    site_access_code_hash: str = ""
    site_secret_key: str = ""  # signs the gate's session cookies: a secret, keep it out of git
    site_session_hours: float = 12.0  # from the login, however much the session is used
    site_login_rate: str = "5/minute;30/hour"  # failed access codes allowed per client address
    # failed access codes allowed per instance, all clients together ("" = no ceiling); while
    # it is full, an address with no failure in its window still has one code checked
    site_login_global_rate: str = "100/hour"
    site_cache_size: int = 256
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    # --- AWS (names only; account ids are looked up at run time) ---
    aws_region: str = "us-east-2"
    aws_profile: str = ""
    # --- image ---
    image_repository: str = "public.ecr.aws/d6q7u0s0/ct-site"
    image_name: str = "ct-site"
    docker_platform: str = "linux/amd64"
    # --- Elastic Beanstalk ---
    eb_application: str = "Contacttracingsite"
    eb_environment: str = "Contacttracingsite-env"
    eb_timeout_minutes: int = 30
    eb_keep_versions: int = 10  # also the application's version lifecycle (set by deploy)
    eb_service_role: str = "aws-elasticbeanstalk-service-role"  # lets EB apply that lifecycle
    eb_instance_role: str = "aws-elasticbeanstalk-ec2-role"  # the instances' role and profile
    eb_notification_topic: str = ""  # SNS topic ARN for `ctsite alerts` (default: the env's)
    # --- EFS and Transfer Family ---
    efs_file_system_id: str = ""
    efs_mount_dir: str = "/efs_data"
    transfer_logging_role: str = "AWSTransferLoggingAccess"
    # The upload user's own role (writes to EFS); never the instances' role, which only reads.
    transfer_user_role: str = "ctsite-transfer-user"
    transfer_user: str = "ctsite-upload"
    transfer_home_directory: str = ""
    transfer_max_age_hours: float = 2.0
    transfer_hourly_cost: float = 0.30
    transfer_gb_cost: float = 0.04
    transfer_online_timeout: int = 900
    transfer_scheduler_role: str = "ctsite-transfer-reaper"  # safety net; "" = none
    sftp_host: str = ""
    sftp_port: int = 22
    sftp_host_key_fingerprint: str = ""
    sftp_stall_timeout: float = 60.0  # seconds without progress before a link gives up
    upload_jobs: int = 4
    remote_data_dir: str = "data"
    # --- provision ---
    # `ctsite provision`: the hosting as a CloudFormation stack per environment (production owns
    # the shared EFS, security group, IAM roles, EB application). `[provision]`, `[staging]` and
    # `[price]` tables in ctsite.toml.
    provision_stack_prefix: str = "ctsite"
    provision_instance_type: str = "t3.small"
    provision_notification_email: str = ""  # the environment's SNS e-mail subscription
    provision_load_balanced: bool = False  # False: one instance with an Elastic IP
    provision_min_instances: int = 1
    provision_max_instances: int = 4
    provision_scaling_metric: str = "CPUUtilization"  # or RequestCount
    provision_certificate_arn: str = ""  # ACM certificate: HTTPS on a load balancer
    provision_efs_name: str = "contacttracing_site_fs"
    provision_solution_stack: str = ""  # empty: the newest Amazon Linux 2023 Docker stack
    staging_environment: str = "Contacttracingsite-staging"
    staging_data_dir: str = "staging"  # the staging copy's folder on the same EFS
    site_proxy_hops: int = 0  # proxies in front of gunicorn trusted for X-Forwarded-Proto
    # X-Forwarded-For entries trusted for the client's address (the login limit's key): the
    # proxies that append one (EB: nginx 1, + the load balancer 2; `ctsite serve`: 0)
    site_forwarded_hops: int = 0
    # Monthly cost estimates of `provision plan` (USD, us-east-2 on-demand list prices, 2026;
    # a month is 730 hours). Update them for another region or instance type.
    price_instance_hourly: float = 0.0208  # t3.small
    price_load_balancer_hourly: float = 0.0225  # ALB, plus ~0.008 per LCU-hour (ignored)
    price_public_ipv4_hourly: float = 0.005  # each public IPv4 address (the Elastic IP)
    price_efs_gb_month: float = 0.30  # EFS Standard; Infrequent Access is 0.016
    price_data_gb: float = 2.0  # the compiled store's size on EFS, for the estimate

    # Not a setting: where the values came from and the dataset description.
    root: Path = dataclasses.field(default=Path("."), compare=False)
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    def path(self, value: str) -> Path:
        """Resolve a path setting against the project root."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def compiled_path(self) -> Path:
        return self.path(self.compiled_dir)

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    @property
    def home_directory(self) -> str:
        """The Transfer user's home on EFS: configured, or the file system's root."""
        if self.transfer_home_directory:
            return self.transfer_home_directory
        return f"/{self.efs_file_system_id}" if self.efs_file_system_id else ""

    def section(self, name: str) -> dict[str, Any]:
        """One section's values under their short names (`s.section("beanstalk")["application"]`)."""
        if name not in SECTIONS:
            raise ConfigError(f"unknown section {name!r}", hint=f"one of {', '.join(SECTIONS)}")
        return {short: getattr(self, key) for short, key in SECTIONS[name].items()}

    def items(self) -> list[tuple[str, Any, str]]:
        """(key, value, source) for every scalar setting, in declaration order."""
        return [(k, getattr(self, k), self.sources.get(k, "default")) for k in setting_keys()]


_NOT_SETTINGS = {"root", "sources", "data", "warnings"}

# section -> {name inside the section: flat key}; every setting is in exactly one section.
SECTIONS: dict[str, dict[str, str]] = {
    "site": {
        "proxy_hops": "site_proxy_hops",
        "forwarded_hops": "site_forwarded_hops",
        "title": "site_title",
        "subtitle": "site_subtitle",
        "contact": "site_contact",
        "about": "site_about",
        "method_url": "site_method_url",
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
    "aws": {"region": "aws_region", "profile": "aws_profile"},
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
        "price_instance_hourly": "price_instance_hourly",
        "price_load_balancer_hourly": "price_load_balancer_hourly",
        "price_public_ipv4_hourly": "price_public_ipv4_hourly",
        "price_efs_gb_month": "price_efs_gb_month",
        "price_data_gb": "price_data_gb",
    },
}

# Valid ranges (inclusive; None: unbounded) of the numeric settings, checked when read.
RANGES: dict[str, tuple[float | None, float | None]] = {
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
    "price_instance_hourly": (0, None),
    "price_load_balancer_hourly": (0, None),
    "price_public_ipv4_hourly": (0, None),
    "price_efs_gb_month": (0, None),
    "price_data_gb": (0, None),
}


def range_text(key: str) -> str:
    """`1..65535`, `≥ 0`: the valid range of a numeric setting in words."""
    low, high = RANGES[key]
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g}..{high:g}"


def check_range(key: str, value: Any, source: str) -> Any:
    """`value` if it lies in the valid range of `key`; else a ConfigError naming all four."""
    if key not in RANGES or isinstance(value, bool):
        return value
    low, high = RANGES[key]
    if (low is not None and value < low) or (high is not None and value > high):
        wanted = f"≥ {low:g}" if high is None else f"from {low:g} to {high:g}"
        raise ConfigError(
            f"{source}: {key} = {value!r} is out of range (valid: {range_text(key)})",
            hint=f"set {key} to a value {wanted}, or remove it to use the default",
        )
    return value


def section_of(key: str) -> str:
    """The section a flat setting key belongs to."""
    for section, names in SECTIONS.items():
        if key in names.values():
            return section
    raise KeyError(key)


def resolve_key(table: str, name: str) -> str:
    """The flat key of `name` written in table `[table]` (prefix form first, then section form).

    Unknown combinations come back as `table_name` so the caller reports them as unknown.
    """
    flat = f"{table}_{name}"
    if flat in setting_keys():
        return flat
    names = SECTIONS.get(table, {})
    if name in names:
        return names[name]
    if name in names.values():
        return name
    return flat


def setting_keys() -> list[str]:
    return [f.name for f in dataclasses.fields(Settings) if f.name not in _NOT_SETTINGS]


def _setting_types() -> dict[str, type]:
    hints = {"str": str, "int": int, "float": float, "bool": bool}
    return {
        f.name: hints[f.type] if isinstance(f.type, str) else f.type
        for f in dataclasses.fields(Settings)
        if f.name not in _NOT_SETTINGS
    }


def _coerce(key: str, value: Any, source: str) -> Any:
    """Check/convert one value to its setting's type and range; env/CLI strings are parsed."""
    return check_range(key, _typed(key, value, source), source)


def _typed(key: str, value: Any, source: str) -> Any:
    """Check/convert one value to its setting's type; strings from env/CLI are parsed."""
    kind = _setting_types()[key]
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        try:
            if kind is bool:
                if text.lower() in {"1", "true", "yes", "on"}:
                    return True
                if text.lower() in {"0", "false", "no", "off", ""}:
                    return False
                raise ValueError(text)
            return kind(text)
        except ValueError:
            raise ConfigError(
                f"{source}: {key} must be {kind.__name__}, got {value!r}",
                hint=f"fix {key} or remove it to use the default",
            ) from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            f"{source}: {key} must be {kind.__name__}, got {type(value).__name__} {value!r}",
            hint=f"fix {key} or remove it to use the default",
        )
    return value


def _flatten_file(doc: dict[str, Any], path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a parsed ctsite.toml into flat scalar settings and the [data] table."""
    keys = set(setting_keys())
    flat: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for name, value in doc.items():
        if name == "data":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [data] must be a table")
            data = value
        elif isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[resolve_key(name, sub)] = subvalue
        else:
            flat[name] = value
    unknown = sorted(set(flat) - keys)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s): {', '.join(unknown)}",
            hint="run `ctsite config` to list the valid keys",
        )
    return flat, data


def _not_a_config_file(path: Path) -> str:
    """Why `path` is no configuration file, in words ("not found" only when nothing is there)."""
    if path.is_dir():
        return f"{path} is a folder, not a configuration file"
    if os.path.lexists(path):
        return f"{path} is not a regular file (a broken link, a pipe or a device)"
    return f"configuration file not found: {path}"


def find_root(start: Path | None = None) -> Path:
    """The project root: the nearest directory (upwards) holding ctsite.toml, else the cwd."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if os.path.lexists(candidate / CONFIG_FILE):  # a folder of that name is an error, later
            return candidate
    return here


def load_settings(
    root: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve the configuration: defaults ← ctsite.toml ← CTSITE_* ← overrides (CLI)."""
    env = os.environ if environ is None else environ
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
    if config_file is not None:
        config_file = config_file.resolve()
        if not config_file.is_file():
            raise ConfigError(_not_a_config_file(config_file))
        root = root or config_file.parent
    root = (root or find_root()).resolve()
    path = config_file or root / CONFIG_FILE
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    data: dict[str, Any] = {}
    if not path.is_file() and os.path.lexists(path):  # never silently ignored
        raise ConfigError(_not_a_config_file(path))
    if path.is_file():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
        flat, data = _flatten_file(doc, path)
        for key, value in flat.items():
            values[key] = _coerce(key, value, str(path))
            sources[key] = str(path.name)
    keys = setting_keys()
    warnings: list[str] = []
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name[len(ENV_PREFIX) :] in CLI_ENV:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in keys:
            section, _, short = key.partition("_")
            key = resolve_key(section, short) if short else key
        if key not in keys:
            warnings.append(unknown_variable(name, keys))
            continue
        values[key] = _coerce(key, value, f"environment variable {name}")
        sources[key] = f"env {name}"
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in keys:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = _coerce(key, value, f"command line ({key})")
        sources[key] = "command line"
    return Settings(root=root, sources=sources, data=data, warnings=tuple(warnings), **values)


def unknown_variable(name: str, keys: list[str]) -> str:
    """The warning for an unknown CTSITE_* variable, naming the closest setting if any."""
    close = difflib.get_close_matches(name[len(ENV_PREFIX) :].lower(), keys, n=1, cutoff=0.6)
    closest = f"; did you mean {ENV_PREFIX}{close[0].upper()}?" if close else ""
    return f"ignoring the environment variable {name}: not a ctsite setting{closest}"

"""One configuration object for every ctsite command.

Values are resolved in this order, each layer overriding the one before:
defaults (the lab's runbook) ← `ctsite.toml` ← `CTSITE_<KEY>` environment variables ← CLI options.
`Settings.sources` remembers where every value came from (shown by `ctsite config`).

Scalar settings are flat keys (`aws_region`, `sftp_port`, …), grouped in sections (site, compile,
image, aws, beanstalk, transfer, provision, figures, static: `SECTIONS`). In `ctsite.toml` a key
may be written at the top level, in a table named after its prefix (`[aws] region = ...` is
`aws_region`, `[eb] application` is `eb_application`), or in its section under its short name
(`[beanstalk] application`, `[transfer] sftp_port`); `CTSITE_<KEY>` and
`CTSITE_<SECTION>_<NAME>` variables both work. The `[data]` table is different: it describes the dataset to compile
(see `ctsite.compile.dataset`).

Each setting is declared once, as a field of `Settings` made by `setting()`: its type, default,
section, short name, valid range and whether it is a secret. `SECTIONS`, `RANGES` and `SECRETS`
are derived from those fields.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from ctsite.errors import ConfigError

CONFIG_FILE = "ctsite.toml"
ENV_PREFIX = "CTSITE_"
# CTSITE_* variables read by command-line options (Typer `envvar=`), not settings.
CLI_ENV = frozenset({"CONFIG", "YES", "VERBOSE", "QUIET", "DEBUG", "MAX_DELETE"})

Scalar = str | int | float | bool  # the value of one setting
Range = tuple[float | None, float | None]  # inclusive bounds; None: unbounded
S = TypeVar("S", bound=Scalar)

# The sections, in the order an unknown-section error lists them, and the prefix a key drops
# to get its short name there (`eb_application` is `application` in [beanstalk]).
SECTION_PREFIXES: dict[str, str] = {
    "site": "site_",
    "compile": "compile_",
    "image": "image_",
    "aws": "aws_",
    "beanstalk": "eb_",
    "transfer": "transfer_",
    "provision": "provision_",
    "figures": "figures_",
    "static": "static_",
}


@dataclasses.dataclass(frozen=True)
class Spec:
    """What ctsite knows about one setting besides its type and default (see `setting`)."""

    section: str
    short: str  # its name in the section; "": the key without the section's prefix
    valid: Range | None  # checked when the value is read; None: any value of its type
    secret: bool  # `ctsite config` shows "(set)", never the value


_SPEC = "ctsite.setting"  # the metadata key of a field's Spec


def setting(
    default: S, section: str, *, short: str = "", valid: Range | None = None, secret: bool = False
) -> S:
    """A `Settings` field: its default plus its `Spec`, so every fact about a key is in one line."""
    if section not in SECTION_PREFIXES:
        raise ValueError(f"unknown section {section!r}")
    spec = Spec(section=section, short=short, valid=valid, secret=secret)
    return dataclasses.field(default=default, metadata={_SPEC: spec})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every scalar setting of ctsite, with the lab's runbook values as defaults.

    Each is declared once, by `setting()`; the fields' order is the order `ctsite config` lists
    the keys (and, by each section's first key, the sections).
    """

    # --- paths (relative paths are relative to the project root) ---
    data_dir: str = setting("data", "site")
    compiled_dir: str = setting("data/compiled", "compile")
    demo_dir: str = setting("data/demo", "site")
    # --- compile ---
    compile_jobs: int = setting(2, "compile", valid=(1, 64))
    # rows per input block; 0: automatic (about 1 MiB per dense block)
    compile_block_rows: int = setting(0, "compile", valid=(0, None))
    # store versions kept after a compile (the current and the previous are always kept)
    compile_keep_versions: int = setting(2, "compile", valid=(1, None))
    # --- website ---
    # --- the study's identity: compiled into the store (`ctsite.store.identity`), so it
    # reaches every site that serves the data; empty texts are not shown ---
    site_title: str = setting("ContactTracing results", "site")
    # the topbar and tab titles (empty: the title)
    site_short_title: str = setting("", "site")
    site_subtitle: str = setting("", "site")
    site_contact: str = setting("", "site")
    # home-page study summary (empty: a neutral description of the site)
    site_about: str = setting("", "site")
    # how to cite the study, as text (empty: no citation, no CITATION.cff)
    site_citation: str = setting("", "site")
    # the study's DOI: 10.1234/abcd, doi:… or its https://doi.org/ link
    site_doi: str = setting("", "site")
    # "Read the paper" (empty: the DOI's link; neither: no button)
    site_paper_url: str = setting("", "site")
    # "GEO GSE12345=https://…; Code=https://…": label=URL pairs joined by ";"
    site_data_links: str = setting("", "site")
    site_license: str = setting("", "site")
    # the method's own labelled line ("Method: …"), kept apart from the study's citation
    site_method_credit: str = setting(
        "ContactTracing — Li et al., Nature 2023, doi:10.1038/s41586-023-06464-z", "site"
    )
    site_method_url: str = setting("https://github.com/LaughneyLab/ContactTracing_tutorial", "site")
    # synthetic demo data: every page says so (`ctsite demo` sets it)
    site_demo: bool = setting(False, "site")
    site_access_code_hash: str = setting("", "site", secret=True)
    # signs the gate's session cookies: a secret, keep it out of git
    site_secret_key: str = setting("", "site", secret=True)
    # from the login, however much the session is used
    site_session_hours: float = setting(12.0, "site", valid=(0, None))
    # failed access codes allowed per client address
    site_login_rate: str = setting("5/minute;30/hour", "site")
    # failed access codes allowed per instance, all clients together ("" = no ceiling); while
    # it is full, an address with no failure in its window still has one code checked
    site_login_global_rate: str = setting("100/hour", "site")
    site_cache_size: int = setting(256, "site", valid=(0, None))
    serve_host: str = setting("127.0.0.1", "site", short="host")
    serve_port: int = setting(8000, "site", short="port", valid=(1, 65535))
    # --- AWS (names only; account ids are looked up at run time) ---
    aws_region: str = setting("us-east-2", "aws")
    aws_profile: str = setting("", "aws")
    # --- image ---
    image_repository: str = setting("public.ecr.aws/d6q7u0s0/ct-site", "image")
    image_name: str = setting("ct-site", "image")
    docker_platform: str = setting("linux/amd64", "image", short="platform")
    # --- Elastic Beanstalk ---
    eb_application: str = setting("Contacttracingsite", "beanstalk")
    eb_environment: str = setting("Contacttracingsite-env", "beanstalk")
    eb_timeout_minutes: int = setting(30, "beanstalk", valid=(1, None))
    # also the application's version lifecycle (set by deploy)
    eb_keep_versions: int = setting(10, "beanstalk", valid=(1, 1000))
    # lets EB apply that lifecycle
    eb_service_role: str = setting("aws-elasticbeanstalk-service-role", "beanstalk")
    # the instances' role and profile
    eb_instance_role: str = setting("aws-elasticbeanstalk-ec2-role", "beanstalk")
    # SNS topic ARN for `ctsite alerts` (default: the env's)
    eb_notification_topic: str = setting("", "beanstalk")
    # --- EFS and Transfer Family ---
    efs_file_system_id: str = setting("", "transfer")
    efs_mount_dir: str = setting("/efs_data", "transfer")
    transfer_logging_role: str = setting("AWSTransferLoggingAccess", "transfer")
    # The upload user's own role (writes to EFS); never the instances' role, which only reads.
    transfer_user_role: str = setting("ctsite-transfer-user", "transfer")
    transfer_user: str = setting("ctsite-upload", "transfer")
    transfer_home_directory: str = setting("", "transfer")
    transfer_max_age_hours: float = setting(2.0, "transfer", valid=(0, None))
    transfer_hourly_cost: float = setting(0.30, "transfer", valid=(0, None))
    transfer_gb_cost: float = setting(0.04, "transfer", valid=(0, None))
    transfer_online_timeout: int = setting(900, "transfer", valid=(1, None))
    # safety net; "" = none
    transfer_scheduler_role: str = setting("ctsite-transfer-reaper", "transfer")
    sftp_host: str = setting("", "transfer")
    sftp_port: int = setting(22, "transfer", valid=(1, 65535))
    sftp_host_key_fingerprint: str = setting("", "transfer")
    # seconds without progress before a link gives up
    sftp_stall_timeout: float = setting(60.0, "transfer")
    upload_jobs: int = setting(4, "transfer", valid=(1, 64))
    remote_data_dir: str = setting("data", "transfer")
    # --- provision ---
    # `ctsite provision`: the hosting as a CloudFormation stack per environment (production owns
    # the shared EFS, security group, IAM roles, EB application). `[provision]`, `[staging]` and
    # `[price]` tables in ctsite.toml.
    provision_stack_prefix: str = setting("ctsite", "provision")
    provision_instance_type: str = setting("t3.small", "provision")
    # the environment's SNS e-mail subscription
    provision_notification_email: str = setting("", "provision")
    # False: one instance with an Elastic IP
    provision_load_balanced: bool = setting(False, "provision")
    provision_min_instances: int = setting(1, "provision", valid=(1, None))
    provision_max_instances: int = setting(4, "provision", valid=(1, None))
    provision_scaling_metric: str = setting("CPUUtilization", "provision")  # or RequestCount
    # ACM certificate: HTTPS on a load balancer
    provision_certificate_arn: str = setting("", "provision")
    provision_efs_name: str = setting("contacttracing_site_fs", "provision")
    # empty: the newest Amazon Linux 2023 Docker stack
    provision_solution_stack: str = setting("", "provision")
    staging_environment: str = setting("Contacttracingsite-staging", "provision")
    # the staging copy's folder on the same EFS
    staging_data_dir: str = setting("staging", "provision")
    # CloudWatch alarms of each environment, sent to its SNS topic: memory in use (the
    # CloudWatch agent's mem_used_percent, worst instance), share of 5xx responses, and the
    # enhanced-health level (Warning, Degraded or Severe) at which it alarms
    provision_alarm_memory_percent: float = setting(90.0, "provision", valid=(1, 100))
    provision_alarm_5xx_percent: float = setting(5.0, "provision", valid=(0, 100))
    provision_alarm_health: str = setting("Degraded", "provision")
    # proxies in front of gunicorn trusted for X-Forwarded-Proto
    site_proxy_hops: int = setting(0, "site", valid=(0, 10))
    # X-Forwarded-For entries trusted for the client's address (the login limit's key): the
    # proxies that append one (EB: nginx 1, + the load balancer 2; `ctsite serve`: 0)
    site_forwarded_hops: int = setting(0, "site", valid=(0, 10))
    # Monthly cost estimates of `provision plan` (USD, us-east-2 on-demand list prices, 2026;
    # a month is 730 hours). Update them for another region or instance type.
    price_instance_hourly: float = setting(0.0208, "provision", valid=(0, None))  # t3.small
    # ALB, plus ~0.008 per LCU-hour (ignored)
    price_load_balancer_hourly: float = setting(0.0225, "provision", valid=(0, None))
    # each public IPv4 address (the Elastic IP)
    price_public_ipv4_hourly: float = setting(0.005, "provision", valid=(0, None))
    # EFS Standard; Infrequent Access is 0.016
    price_efs_gb_month: float = setting(0.30, "provision", valid=(0, None))
    # the compiled store's size on EFS, for the estimate
    price_data_gb: float = setting(2.0, "provision", valid=(0, None))
    # --- the figures' default views, compiled into the store; empty: chosen from the data so
    # that every default view draws something (`ctsite.figures.choose`) ---
    figures_effects_cell_type: str = setting("", "figures")
    # seed ligands of the Ligand-effects page, comma-separated ("Ccl2, Apoe")
    figures_effects_seeds: str = setting("", "figures")
    figures_pairwise_cell_type1: str = setting("", "figures")
    figures_pairwise_cell_type2: str = setting("", "figures")
    # --- the static site on S3 + CloudFront (`ctsite provision plan|apply --env static`) ---
    # the site's own address (an alias of the distribution); needs static_certificate_arn
    static_domain: str = setting("", "static")
    # an ACM certificate for static_domain, in us-east-1 (CloudFront reads it only there)
    static_certificate_arn: str = setting("", "static")
    # PriceClass_100 (North America, Europe, Israel), PriceClass_200 or PriceClass_All
    static_price_class: str = setting("PriceClass_100", "static")
    # the traffic `provision plan --env static` prices: page views a month
    static_monthly_views: int = setting(10_000, "static", valid=(0, None))
    # without an export folder (`--export DIR`): what one view fetches, an estimate — the first
    # view of a figure page makes about ten requests and fetches about 2 MB (compressed)
    static_requests_per_view: float = setting(10.0, "static", valid=(0, None))
    static_bytes_per_view: int = setting(2_000_000, "static", valid=(0, None))
    # the bucket's size without an export folder: the study-scale store (~15 MB) + pages (~5 MB)
    static_site_gb: float = setting(0.02, "static", valid=(0, None))
    # List prices of the static hosting (USD, 2026-12: aws.amazon.com/s3/pricing (us-east-2,
    # S3 Standard) and aws.amazon.com/cloudfront/pricing (United States, Mexico and Canada);
    # a GB is 2^30 bytes, as AWS bills). Data from S3 to CloudFront is free.
    price_s3_gb_month: float = setting(0.023, "static", valid=(0, None))
    # S3 GET requests, per 1,000
    price_s3_get_per_1000: float = setting(0.0004, "static", valid=(0, None))
    # CloudFront data transfer out to the internet, per GB (the first 10 TB of a month)
    price_cloudfront_gb: float = setting(0.085, "static", valid=(0, None))
    # CloudFront HTTPS requests, per 10,000
    price_cloudfront_https_per_10000: float = setting(0.01, "static", valid=(0, None))
    # CloudFront Functions invocations, per million
    price_cloudfront_function_per_million: float = setting(0.10, "static", valid=(0, None))
    # --- the static site's hosting (`ctsite publish-site`): the S3 bucket it is published to
    # and the CloudFront distribution in front of it ("": publish to the bucket alone) ---
    static_bucket: str = setting("", "static")
    static_distribution_id: str = setting("", "static")

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

    def section(self, name: str) -> dict[str, Scalar]:
        """One section's values under their short names (`s.section("beanstalk")["application"]`)."""
        if name not in SECTIONS:
            raise ConfigError(f"unknown section {name!r}", hint=f"one of {', '.join(SECTIONS)}")
        return {short: getattr(self, key) for short, key in SECTIONS[name].items()}

    def items(self) -> list[tuple[str, Scalar, str]]:
        """(key, value, source) for every scalar setting, in declaration order."""
        return [(k, getattr(self, k), self.sources.get(k, "default")) for k in setting_keys()]


def _specs() -> dict[str, Spec]:
    """Every setting's Spec by key, in declaration order (fields without one are not settings)."""
    return {f.name: f.metadata[_SPEC] for f in dataclasses.fields(Settings) if _SPEC in f.metadata}


def derive_sections(specs: Mapping[str, Spec]) -> dict[str, dict[str, str]]:
    """section -> {short name: flat key}; every setting is in exactly one section."""
    sections: dict[str, dict[str, str]] = {name: {} for name in SECTION_PREFIXES}
    for key, spec in specs.items():
        short = spec.short or key.removeprefix(SECTION_PREFIXES[spec.section])
        if short in sections[spec.section]:
            raise ValueError(f"two settings are named {short!r} in [{spec.section}]")
        sections[spec.section][short] = key
    return sections


SPECS: dict[str, Spec] = _specs()
SECTIONS: dict[str, dict[str, str]] = derive_sections(SPECS)
# Valid ranges of the numeric settings, checked when read.
RANGES: dict[str, Range] = {key: spec.valid for key, spec in SPECS.items() if spec.valid}
SECRETS: frozenset[str] = frozenset(key for key, spec in SPECS.items() if spec.secret)
_KINDS: dict[str, type[Scalar]] = {"str": str, "int": int, "float": float, "bool": bool}
# How a message names each type: the TOML words a user writes, not Python's.
_KIND_WORDS: dict[type[Scalar], str] = {
    str: "text (in quotes)",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}
# Each setting's type, from its annotation (a string: `from __future__ import annotations`).
TYPES: dict[str, type[Scalar]] = {
    f.name: _KINDS[str(f.type)] for f in dataclasses.fields(Settings) if f.name in SPECS
}


def section_of(key: str) -> str:
    """The section a flat setting key belongs to (KeyError if it is not a setting)."""
    return SPECS[key].section


def resolve_key(table: str, name: str) -> str:
    """The flat key of `name` written in table `[table]` (prefix form first, then section form).

    Unknown combinations come back as `table_name` so the caller reports them as unknown.
    """
    flat = f"{table}_{name}"
    if flat in SPECS:
        return flat
    names = SECTIONS.get(table, {})
    if name in names:
        return names[name]
    if name in names.values():
        return name
    return flat


# The runbook's own AWS names (the original lab's resources): a site that has not named its own
# would create, push to or deploy into those. `ctsite init` writes a site's own names.
RUNBOOK_NAMES: tuple[str, ...] = (
    "image_repository",
    "eb_application",
    "eb_environment",
    "staging_environment",
    "provision_efs_name",
)


def inherited_names(s: Settings, keys: tuple[str, ...] = RUNBOOK_NAMES) -> list[str]:
    """Which of `keys` (runbook names) this configuration inherits: set by no file, variable or
    option, so still the runbook's. A name set on purpose, even to the runbook's value, is the
    site's own (the runbook's lab publishes into its own names)."""
    return [key for key in keys if key in RUNBOOK_NAMES and key not in s.sources]


def setting_keys() -> list[str]:
    """Every setting's flat key, in declaration order."""
    return list(SPECS)


def range_text(key: str) -> str:
    """`1..65535`, `≥ 0`: the valid range of a numeric setting in words."""
    low, high = RANGES[key]
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g}..{high:g}"


def check_range(key: str, value: Scalar, source: str, written: str | None = None) -> Scalar:
    """`value` if it lies in the valid range of `key`; else a ConfigError naming all four
    (the setting as the user wrote it, `written`, e.g. `[serve] port`)."""
    if key not in RANGES or isinstance(value, bool | str):
        return value
    name = written or key
    low, high = RANGES[key]
    if (low is not None and value < low) or (high is not None and value > high):
        wanted = f"≥ {low:g}" if high is None else f"from {low:g} to {high:g}"
        raise ConfigError(
            f"{source}: {name} = {value!r} is out of range (valid: {range_text(key)})",
            hint=f"set {name} to a value {wanted}, or remove it to use the default",
        )
    return value


def _coerce(key: str, value: object, source: str, written: str | None = None) -> Scalar:
    """Check/convert one value to its setting's type and range; env/CLI strings are parsed.
    Errors name the setting as `written` in the file (`[site] title`), else by its key."""
    return check_range(key, _typed(key, value, source, written or key), source, written)


def _typed(key: str, value: object, source: str, name: str) -> Scalar:
    """Check/convert one value to its setting's type; strings from env/CLI are parsed."""
    kind = TYPES[key]
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
                f"{source}: {name} must be {_KIND_WORDS[kind]}, got {value!r}",
                hint=f"fix {name} or remove it to use the default",
            ) from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            f"{source}: {name} must be {_KIND_WORDS[kind]}, got {type(value).__name__} {value!r}",
            hint=f"fix {name} or remove it to use the default",
        )
    return value


def _flatten_file(
    doc: dict[str, Any], path: Path
) -> tuple[dict[str, object], dict[str, Any], dict[str, str]]:
    """Split a parsed ctsite.toml into flat scalar settings, the [data] table, and each
    setting's key as the file wrote it (`[site] title`), for messages."""
    keys = set(setting_keys())
    flat: dict[str, object] = {}
    written: dict[str, str] = {}
    data: dict[str, Any] = {}
    unknown: list[tuple[str, str]] = []  # (table or "", name) as written
    for name, value in doc.items():
        if name == "data":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [data] must be a table")
            data = value
        elif isinstance(value, dict):
            for sub, subvalue in value.items():
                key = resolve_key(name, sub)
                flat[key] = subvalue
                written[key] = _written(name, sub)
                if key not in keys:
                    unknown.append((name, sub))
        else:
            flat[name] = value
            if name not in keys:
                unknown.append(("", name))
    if unknown:
        table, name = unknown[0]
        raise ConfigError(
            f"{path}: unknown setting(s): {', '.join(_written(t, n) for t, n in unknown)}"
            + _did_you_mean(table, name),
            hint=_known_keys_hint(table),
        )
    return flat, data, written


def _written(table: str, name: str) -> str:
    """A key as the file wrote it: `[site] titel`, or a top-level `titel`."""
    return f"[{table}] {name}" if table else name


def table_names(table: str) -> list[str]:
    """The names a table may hold: its section's short names and, for a prefix table such as
    [eb] or [efs], the keys it prefixes (empty: no such table)."""
    names = dict.fromkeys(SECTIONS.get(table, {}))
    names.update(dict.fromkeys(k[len(table) + 1 :] for k in SPECS if k.startswith(table + "_")))
    return list(names)


def _did_you_mean(table: str, name: str) -> str:
    """ "; did you mean title?": the closest name of the same table (top level: any key)."""
    known = table_names(table) if table else setting_keys()
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _known_keys_hint(table: str) -> str:
    """What the table may hold instead (`ctsite config` would fail on the same file)."""
    if table and table_names(table):
        return f"[{table}] takes: {', '.join(table_names(table))} (README: Configuration)"
    if table:
        return f"the sections are: {', '.join(SECTIONS)}, data (README: Configuration)"
    return "write each setting in its section, e.g. [site] title (README: Configuration)"


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
    overrides: Mapping[str, object] | None = None,
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
    # each value checked against its own field's type by _coerce (a per-key fact mypy cannot see)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    data: dict[str, Any] = {}
    if not path.is_file() and os.path.lexists(path):  # never silently ignored
        raise ConfigError(_not_a_config_file(path))
    if path.is_file():
        try:
            # utf-8-sig: a byte order mark (Windows editors write one) is not TOML's concern
            doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
        flat, data, written = _flatten_file(doc, path)
        for key, value in flat.items():
            values[key] = _coerce(key, value, str(path), written.get(key))
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

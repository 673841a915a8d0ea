"""The static site's stack (`--env static`): its parameters from `[static]`, checked, and the
traffic of an export folder for the plan's cost.

A bad domain, certificate ARN or price class is one `ConfigError` naming the setting, before
anything is asked of AWS. The cost itself is `ctsite.deploy.provision.static_cost`.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from ctsite.config import Settings
from ctsite.deploy.provision.static_cost import Traffic
from ctsite.deploy.static_site.destination import previous_export
from ctsite.errors import ConfigError, CtsiteError
from ctsite.figures import FIGURES

PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)
CERTIFICATE = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[0-9a-f-]{36}$")
# What a first view of a figure page fetches besides its page: the content-hashed files.
VIEW_FOLDERS = ("static", "data")


def stack_parameters(settings: Settings) -> dict[str, str]:
    """The static template's parameter values, from `[static]`."""
    domain = settings.static_domain.strip().lower().rstrip(".")
    arn = settings.static_certificate_arn.strip()
    if domain and not DOMAIN.match(domain):
        raise ConfigError(
            f"static_domain {settings.static_domain!r} is not a domain name",
            hint='set [static] domain to a host name such as "atlas.example.org"',
        )
    if arn:
        found = CERTIFICATE.match(arn)
        if not found:
            raise ConfigError(
                f"static_certificate_arn {arn!r} is not an ACM certificate ARN",
                hint="copy it from `aws acm list-certificates --region us-east-1`",
            )
        if found.group(1) != "us-east-1":
            raise ConfigError(
                f"static_certificate_arn is in {found.group(1)}: CloudFront reads "
                "certificates only from us-east-1",
                hint=f"request one for {domain or 'static_domain'} in us-east-1 "
                "(aws acm request-certificate --region us-east-1)",
            )
    if bool(domain) != bool(arn):
        missing = "static_certificate_arn" if domain else "static_domain"
        raise ConfigError(
            f"static_domain and static_certificate_arn go together: {missing} is not set",
            hint="set both (the site's address and its us-east-1 certificate), or neither",
        )
    if settings.static_price_class not in PRICE_CLASSES:
        raise ConfigError(
            f"static_price_class must be one of {', '.join(PRICE_CLASSES)}, "
            f"got {settings.static_price_class!r}"
        )
    return {"DomainName": domain, "CertificateArn": arn, "PriceClass": settings.static_price_class}


def _sent(path: Path) -> int:
    """The bytes a file costs on the wire: gzip-compressed when that is smaller (CloudFront
    compresses, and a publish may store it compressed)."""
    body = path.read_bytes()
    return min(len(body), len(gzip.compress(body, compresslevel=6, mtime=0)))


def export_traffic(settings: Settings, folder: Path) -> Traffic:
    """The traffic of an export folder: its size in the bucket, and a first view of its largest
    figure page — the page plus every content-hashed script and data file (an upper bound: a
    view fetches no more), each counted compressed, one request each."""
    if previous_export(folder) is None:
        raise CtsiteError(
            f"{folder} is not a folder `ctsite export-site` wrote",
            hint="pass the folder of an export (ctsite export-site DIR), or leave --export out",
        )
    files = [p for p in folder.rglob("*") if p.is_file()]
    pages = [folder / name / "index.html" for name in FIGURES if (folder / name).is_dir()]
    if not pages:
        raise CtsiteError(f"{folder} has no figure page", hint="export the site again")
    page = max(pages, key=lambda p: p.stat().st_size)
    fetched = [page] + [p for p in files if p.relative_to(folder).parts[0] in VIEW_FOLDERS]
    return Traffic(
        settings.static_monthly_views,
        float(len(fetched)),
        sum(_sent(p) for p in fetched),
        sum(p.stat().st_size for p in files),
        str(folder),
    )

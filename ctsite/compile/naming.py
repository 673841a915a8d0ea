"""The name `ctsite init` proposes for a site, and the AWS names it derives from it.

A lab's site must not be called "ContactTracing results: results" nor publish into the
runbook's own AWS names (`Contacttracingsite`, …): the title comes from the project's folder
(the first of the configuration's folder, the results folder and the folder above it whose name
says more than "results" or "data"), humanised; the AWS names from its slug.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from pathlib import Path

FALLBACK_TITLE = "ContactTracing results"
FALLBACK_SLUG = "my-site"
# Folder names that say nothing about the study.
_GENERIC = frozenset(
    {
        "", "analysis", "contacttracing", "ct", "ctsite", "data", "deg", "degs", "home",
        "input", "inputs", "out", "output", "outputs", "project", "result", "results", "site",
        "src", "tmp", "work",
    }
)  # fmt: skip
SLUG_MAX = 30  # an EB environment name ("<slug>-staging") may have at most 40 characters


@dataclasses.dataclass(frozen=True)
class AwsNames:
    """The AWS names a site of this slug publishes into (written by `ctsite init`)."""

    application: str
    environment: str
    staging_environment: str
    efs_name: str
    stack_prefix: str  # the CloudFormation stacks: <prefix>-production, <prefix>-staging
    image_name: str
    repository_name: str  # the ECR repository's name; its registry (alias) is the lab's own


def _generic(name: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", name.lower()) in _GENERIC


def humanise(name: str) -> str:
    """`lung_tumour-atlas` → `Lung tumour atlas` (capitals the name has are kept)."""
    words = " ".join(re.split(r"[_\-.\s]+", name)).strip()
    return words[:1].upper() + words[1:]


def propose_title(results_dir: Path, config_dir: Path) -> str:
    """The project's name, humanised: from the first folder whose name is not generic."""
    results = results_dir.resolve()
    for folder in (config_dir.resolve(), results, results.parent):
        if not _generic(folder.name) and humanise(folder.name).isprintable():
            return humanise(folder.name)
    return FALLBACK_TITLE


def slug(title: str) -> str:
    """`Lung Tumour Atlas` → `lung-tumour-atlas`: lower-case ASCII letters, digits and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    text = text[:SLUG_MAX].rstrip("-")
    return text if len(text) >= 2 else FALLBACK_SLUG


def aws_names(site_slug: str) -> AwsNames:
    """The site's own AWS names (EB application and environments, EFS, image)."""
    return AwsNames(
        application=site_slug,
        environment=f"{site_slug}-env",
        staging_environment=f"{site_slug}-staging",
        efs_name=f"{site_slug}-data",
        stack_prefix=site_slug,
        image_name=site_slug,
        repository_name=site_slug,
    )

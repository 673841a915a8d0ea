"""Where the static site is published: its S3 bucket and CloudFront distribution.

`[static] bucket` and `[static] distribution_id` when set; otherwise the outputs of the stack
`ctsite provision apply --env static` made (`<provision_stack_prefix>-static`), so a lab that
provisioned its hosting with ctsite publishes without copying ids into ctsite.toml.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctsite.aws.clients import ClientFactory
from ctsite.aws.cloudformation import CloudFormation
from ctsite.config import Settings
from ctsite.deploy.provision import environments
from ctsite.deploy.provision.stack import site_outputs
from ctsite.errors import CtsiteError


@dataclass(frozen=True)
class Hosting:
    """The static site's bucket, its distribution ("" when none) and where they came from."""

    bucket: str
    distribution_id: str
    source: str  # "[static] bucket" or "stack <name>"


def static_hosting(settings: Settings, client: ClientFactory) -> Hosting:
    """The configured bucket, else the static stack's; a clear error when there is neither."""
    if settings.static_bucket:
        return Hosting(settings.static_bucket, settings.static_distribution_id, "[static] bucket")
    target = environments.resolve_stack(settings, environments.STATIC)
    cfn = CloudFormation(client, target.region or None)
    found = cfn.stack(target.stack_name)
    outputs = site_outputs(cfn, target.stack_name) if found else {}
    bucket = outputs.get("BucketName", "")
    if not bucket:
        raise CtsiteError(
            f"no bucket to publish to: [static] bucket is not set and there is no stack "
            f"{target.stack_name} in {settings.aws_region}",
            hint="`ctsite provision apply --env static` creates the hosting (or set [static] "
            "bucket in ctsite.toml, or pass --bucket)",
        )
    distribution = settings.static_distribution_id or outputs.get("DistributionId", "")
    return Hosting(bucket, distribution, f"stack {target.stack_name}")

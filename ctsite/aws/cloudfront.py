"""CloudFront: what `publish-site` asks of the static site's distribution — its address, and an
invalidation of the pages it just switched (the content-hashed files never need one)."""

from __future__ import annotations

import uuid

from ctsite.aws.clients import ClientFactory, aws_errors, error_code
from ctsite.errors import CtsiteError

MISSING_HINT = (
    "fix [static] distribution_id (`ctsite provision apply --env static` prints it), "
    "or leave it empty to publish to the bucket alone"
)


def domain_name(client: ClientFactory, distribution_id: str) -> str:
    """The distribution's `*.cloudfront.net` name; one clear line when it does not exist."""
    import botocore.exceptions

    with aws_errors(f"read the CloudFront distribution {distribution_id}"):
        try:
            answer = client("cloudfront").get_distribution(Id=distribution_id)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "NoSuchDistribution":
                raise CtsiteError(
                    f"the CloudFront distribution {distribution_id} does not exist",
                    hint=MISSING_HINT,
                ) from None
            raise
    return str(answer["Distribution"]["DomainName"])


def invalidate(client: ClientFactory, distribution_id: str, paths: list[str]) -> str:
    """Ask CloudFront to drop its cached copies of `paths` (`/`, `/circos*`); the invalidation's
    id. The caller reference is unique, so a retried request never merges with another."""
    with aws_errors(f"invalidate pages of the CloudFront distribution {distribution_id}"):
        answer = client("cloudfront").create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": list(paths)},
                "CallerReference": f"ctsite-{uuid.uuid4()}",
            },
        )
    return str(answer["Invalidation"]["Id"])

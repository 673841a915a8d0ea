"""`provision check --env static`: the static site's bucket against the template.

Reads (through `ctsite.aws.s3`) the bucket's public access block, default encryption,
versioning and policy, and returns one `Difference` per mismatch with the command that fixes
it; then the stack's drift (a drift detection that fails is one line too: the check could
not confirm that part). The expected values are the template's own (`static.yaml`), so the
template stays the one definition. Nothing is changed.
"""

from __future__ import annotations

import json
from typing import Any

from ctsite.aws import s3
from ctsite.aws.clients import ClientFactory
from ctsite.aws.cloudformation import CloudFormation, load_template
from ctsite.deploy.provision import environments
from ctsite.deploy.provision.environments import Target
from ctsite.deploy.provision.template import Difference, drift_difference
from ctsite.errors import CtsiteError

SERVICE = "cloudfront.amazonaws.com"


def _bucket_properties() -> dict[str, Any]:
    doc = load_template(environments.template_text(environments.STATIC_TEMPLATE))
    return dict(doc["Resources"]["Bucket"]["Properties"])


def _statements(text: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        return []
    found = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [s for s in ([found] if isinstance(found, dict) else found) if isinstance(s, dict)]


def _only_the_distribution(statement: dict[str, Any], source_arn: str) -> bool:
    """An Allow statement that grants CloudFront alone, on this distribution's behalf."""
    principal = statement.get("Principal")
    if not isinstance(principal, dict) or principal.get("Service") != SERVICE:
        return False
    condition = (statement.get("Condition") or {}).get("StringEquals") or {}
    return bool(condition.get("AWS:SourceArn") == source_arn)


def check_bucket(client: ClientFactory, bucket: str, distribution_arn: str) -> list[Difference]:
    """Every way the bucket differs from the template: public, unencrypted, versioned, or
    readable by anything but the distribution `distribution_arn`."""
    props = _bucket_properties()
    diffs: list[Difference] = []
    want_block = {k: bool(v) for k, v in props["PublicAccessBlockConfiguration"].items()}
    have_block = s3.public_access_block(client, bucket)
    if any(not have_block.get(k) for k in want_block):
        flags = ",".join(f"{k}=true" for k in want_block)
        diffs.append(
            Difference(
                f"S3 {bucket} public access block",
                ", ".join(k for k, v in have_block.items() if v) or "none",
                "every public access blocked",
                f"aws s3api put-public-access-block --bucket {bucket} "
                f"--public-access-block-configuration {flags}",
            )
        )
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    want_sse = rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    have_sse = s3.encryption(client, bucket)
    if have_sse != want_sse:
        config = json.dumps(
            {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": want_sse}}]}
        )
        diffs.append(
            Difference(
                f"S3 {bucket} default encryption",
                have_sse,
                want_sse,
                f"aws s3api put-bucket-encryption --bucket {bucket} "
                f"--server-side-encryption-configuration '{config}'",
            )
        )
    have_versioning = s3.versioning(client, bucket)
    if have_versioning == "Enabled":  # the template never enables it
        diffs.append(
            Difference(
                f"S3 {bucket} versioning",
                have_versioning,
                "off",
                f"aws s3api put-bucket-versioning --bucket {bucket} "
                "--versioning-configuration Status=Suspended",
            )
        )
    allows = [s for s in _statements(s3.policy(client, bucket)) if s.get("Effect") == "Allow"]
    if not allows or not all(_only_the_distribution(s, distribution_arn) for s in allows):
        diffs.append(
            Difference(
                f"S3 {bucket} policy",
                f"{len(allows)} Allow statement(s), not all {SERVICE} on the distribution's behalf",
                f"s3:GetObject for {SERVICE} with AWS:SourceArn {distribution_arn} only",
                "`ctsite provision apply --env static` (it rewrites the policy)",
            )
        )
    return diffs


def check_static(
    client: ClientFactory, target: Target, account: str, region: str = ""
) -> list[Difference]:
    """`provision check --env static`: the stack's bucket, then the stack's drift."""
    cfn = CloudFormation(client, region or None)
    if cfn.stack(target.stack_name) is None:
        raise CtsiteError(
            f"no stack {target.stack_name}: the static site is not provisioned",
            hint="ctsite provision apply --env static",
        )
    found = cfn.resources(target.stack_name)
    bucket, distribution = found.get("Bucket", ""), found.get("Distribution", "")
    if not bucket:
        raise CtsiteError(
            f"the stack {target.stack_name} has no bucket",
            hint="ctsite provision apply --env static",
        )
    arn = f"arn:aws:cloudfront::{account}:distribution/{distribution}"
    diffs = check_bucket(client, bucket, arn)
    try:
        drifts = cfn.drift(target.stack_name)
    except CtsiteError as exc:  # the bucket's lines stand; what could not be checked is said
        return [
            *diffs,
            Difference(
                f"stack {target.stack_name} drift",
                f"not detected ({exc.message})",
                "detected",
                "retry `ctsite provision check --env static`, or detect drift in the "
                "CloudFormation console",
            ),
        ]
    return diffs + [drift_difference(d, environments.STATIC) for d in drifts]

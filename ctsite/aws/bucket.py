"""S3: what `provision check --env static` reads of the static site's bucket (its public access
block, default encryption, versioning and policy). Reads only; an unset configuration is an
empty value, never an error."""

from __future__ import annotations

from ctsite.aws.clients import ClientFactory, aws_errors


def _missing(exc: BaseException, *codes: str) -> bool:
    """Whether a ClientError says the bucket has no such configuration (its code is one of
    `codes`): S3 answers an unset configuration with an error."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) in codes


def public_access_block(client: ClientFactory, bucket: str) -> dict[str, bool]:
    """The bucket's public access block flags ({} when it has none)."""
    import botocore.exceptions

    with aws_errors(f"read the public access block of s3://{bucket}"):
        try:
            found = client("s3").get_public_access_block(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            if _missing(exc, "NoSuchPublicAccessBlockConfiguration"):
                return {}
            raise
    config = found.get("PublicAccessBlockConfiguration") or {}
    return {str(k): bool(v) for k, v in config.items()}


def encryption(client: ClientFactory, bucket: str) -> str:
    """The bucket's default encryption algorithm ("" when it has none)."""
    import botocore.exceptions

    with aws_errors(f"read the encryption of s3://{bucket}"):
        try:
            found = client("s3").get_bucket_encryption(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            if _missing(exc, "ServerSideEncryptionConfigurationNotFoundError"):
                return ""
            raise
    rules = (found.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    default = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
    return str(default.get("SSEAlgorithm", ""))


def versioning(client: ClientFactory, bucket: str) -> str:
    """The bucket's versioning status: "" (never enabled), Enabled or Suspended."""
    with aws_errors(f"read the versioning of s3://{bucket}"):
        return str(client("s3").get_bucket_versioning(Bucket=bucket).get("Status", ""))


def policy(client: ClientFactory, bucket: str) -> str:
    """The bucket policy's JSON text ("" when it has none)."""
    import botocore.exceptions

    with aws_errors(f"read the policy of s3://{bucket}"):
        try:
            return str(client("s3").get_bucket_policy(Bucket=bucket).get("Policy", ""))
        except botocore.exceptions.ClientError as exc:
            if _missing(exc, "NoSuchBucketPolicy"):
                return ""
            raise

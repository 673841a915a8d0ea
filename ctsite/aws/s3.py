"""S3: the objects ctsite handles — EB source bundles, and the static site's bucket.

The static site's calls (`publish-site`): a bucket check that says in one line why a bucket
cannot be used, a listing (key, size), a HEAD that reads back what a PUT stored (size, ETag,
headers, the SHA-256 kept in user metadata), a PUT with every header a host replays, and batch
deletes. S3 applies a PUT atomically: a reader sees the old object or the new one, never half.

And what `provision check --env static` reads of that bucket (its public access block, default
encryption, versioning and policy): reads only; an unset configuration is an empty value, never
an error.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from ctsite.aws.clients import ClientFactory, aws_errors, error_code
from ctsite.errors import CtsiteError

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys


@dataclass(frozen=True)
class ObjectHead:
    """What S3 holds for one object (a HEAD's answer)."""

    size: int
    etag: str  # without quotes
    content_type: str
    cache_control: str
    content_encoding: str
    metadata: dict[str, str] = field(default_factory=dict)
    encryption: str = ""  # "AES256", "aws:kms", … ("" when S3 says nothing)


def put_bytes(client: ClientFactory, bucket: str, key: str, body: bytes) -> None:
    """One PutObject (a bundle is a few kB); errors become one CtsiteError line."""
    with aws_errors(f"upload the source bundle to s3://{bucket}/{key}"):
        client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def get_bytes(client: ClientFactory, bucket: str, key: str) -> bytes:
    with aws_errors(f"read the source bundle s3://{bucket}/{key}"):
        return bytes(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def check_bucket(client: ClientFactory, bucket: str) -> None:
    """Raise the one line that says why `bucket` cannot be used (missing, not ours)."""
    import botocore.exceptions

    with aws_errors(f"reach the bucket s3://{bucket}"):
        try:
            client("s3").head_bucket(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            code = error_code(exc)
            if code in {"404", "NoSuchBucket", "NotFound"}:
                raise CtsiteError(
                    f"the bucket {bucket} does not exist",
                    hint="create it with `ctsite provision apply --env static`, "
                    "or fix [static] bucket",
                ) from None
            if code in {"403", "AccessDenied", "Forbidden"}:
                raise CtsiteError(
                    f"no access to the bucket {bucket} (it may be another account's)",
                    hint="check [static] bucket and the AWS identity's permissions",
                ) from None
            raise


def list_sizes(client: ClientFactory, bucket: str) -> dict[str, int]:
    """Every object's key → size (one LIST request per 1,000 objects)."""
    found: dict[str, int] = {}
    with aws_errors(f"list the bucket s3://{bucket}"):
        for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                found[str(item["Key"])] = int(item["Size"])
    return found


def head(client: ClientFactory, bucket: str, key: str) -> ObjectHead | None:
    """What S3 holds at `key` (None when nothing)."""
    import botocore.exceptions

    with aws_errors(f"read back s3://{bucket}/{key}"):
        try:
            answer = client("s3").head_object(Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
    return ObjectHead(
        size=int(answer.get("ContentLength", 0)),
        etag=str(answer.get("ETag", "")).strip('"'),
        content_type=str(answer.get("ContentType", "")),
        cache_control=str(answer.get("CacheControl", "")),
        content_encoding=str(answer.get("ContentEncoding", "")),
        metadata={str(k): str(v) for k, v in answer.get("Metadata", {}).items()},
        encryption=str(answer.get("ServerSideEncryption", "")),
    )


def get_object(client: ClientFactory, bucket: str, key: str) -> bytes | None:
    """The bytes stored at `key` as stored (None when nothing)."""
    import botocore.exceptions

    with aws_errors(f"read s3://{bucket}/{key}"):
        try:
            answer = client("s3").get_object(Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return bytes(answer["Body"].read())


def put_object(
    client: ClientFactory,
    bucket: str,
    key: str,
    body: bytes,
    *,
    content_type: str,
    cache_control: str,
    content_encoding: str = "",
    metadata: dict[str, str] | None = None,
) -> None:
    """One PutObject with its headers; Content-MD5 makes S3 refuse bytes damaged on the way."""
    extra: dict[str, object] = {}
    if content_encoding:
        extra["ContentEncoding"] = content_encoding
    md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    with aws_errors(f"upload s3://{bucket}/{key}"):
        client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            CacheControl=cache_control,
            ContentMD5=md5,
            Metadata=metadata or {},
            **extra,
        )


def delete_keys(client: ClientFactory, bucket: str, keys: list[str]) -> list[str]:
    """Delete `keys` (in batches of 1,000, in the order given); the keys S3 refused."""
    failed: list[str] = []
    with aws_errors(f"delete objects of s3://{bucket}"):
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = client("s3").delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            failed += [str(e.get("Key", "")) for e in answer.get("Errors", [])]
    return failed


def public_access_block(client: ClientFactory, bucket: str) -> dict[str, bool]:
    """The bucket's public access block flags ({} when it has none)."""
    import botocore.exceptions

    with aws_errors(f"read the public access block of s3://{bucket}"):
        try:
            found = client("s3").get_public_access_block(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
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
            if error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
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
            if error_code(exc) == "NoSuchBucketPolicy":
                return ""
            raise

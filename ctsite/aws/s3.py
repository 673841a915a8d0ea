"""S3: put and get the small objects ctsite handles (EB source bundles)."""

from __future__ import annotations

from typing import Any

from ctsite.aws.clients import aws_errors


def put_bytes(s3: Any, bucket: str, key: str, body: bytes) -> None:
    """One PutObject (a bundle is a few kB); errors become one CtsiteError line."""
    with aws_errors(f"upload the source bundle to s3://{bucket}/{key}"):
        s3.put_object(Bucket=bucket, Key=key, Body=body)


def get_bytes(s3: Any, bucket: str, key: str) -> bytes:
    with aws_errors(f"read the source bundle s3://{bucket}/{key}"):
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

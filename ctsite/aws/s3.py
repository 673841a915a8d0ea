"""S3: put and get the small objects ctsite handles (EB source bundles)."""

from __future__ import annotations

from ctsite.aws.clients import ClientFactory, aws_errors


def put_bytes(client: ClientFactory, bucket: str, key: str, body: bytes) -> None:
    """One PutObject (a bundle is a few kB); errors become one CtsiteError line."""
    with aws_errors(f"upload the source bundle to s3://{bucket}/{key}"):
        client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def get_bytes(client: ClientFactory, bucket: str, key: str) -> bytes:
    with aws_errors(f"read the source bundle s3://{bucket}/{key}"):
        return bytes(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

"""Registry credentials for `ctsite build-push`, handed to the Docker SDK in memory only.

- `public.ecr.aws/...`: a token from boto3 `ecr-public get_authorization_token` (always in
  us-east-1, whatever the site's region);
- `<account>.dkr.ecr.<region>.amazonaws.com/...`: a token from boto3 `ecr` in that region;
- any other registry: nothing here — the Docker SDK uses the user's existing docker credentials.
Credentials are never written to disk or printed (`RegistryAuth` hides the password in repr).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from typing import Any

from ctsite.config import Settings
from ctsite.errors import CtsiteError

ECR_PUBLIC_HOST = "public.ecr.aws"
ECR_PUBLIC_REGION = "us-east-1"
DOCKER_HUB = "docker.io"
_ECR_PRIVATE = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_PATH = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)


@dataclasses.dataclass(frozen=True)
class RegistryAuth:
    """Credentials for one registry host."""

    registry: str
    username: str
    password: str = dataclasses.field(repr=False)

    def auth_config(self) -> dict[str, str]:
        """The form the Docker SDK's push/pull take."""
        return {"username": self.username, "password": self.password}


def split_repository(repository: str) -> tuple[str, str]:
    """`host/path/name` → (host, path/name); a name without a registry host is Docker Hub's."""
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return DOCKER_HUB, repository


def check_repository(repository: str) -> str:
    """The repository unchanged if it is a valid name without tag or digest, else a clear error."""
    _, path = split_repository(repository)
    if "@" in repository or ":" in path or not _PATH.match(path):
        raise CtsiteError(
            f"image_repository {repository!r} is not a valid repository name",
            hint="use host/path/name in lower case, without :tag or @digest "
            "(ctsite adds the tags itself), e.g. public.ecr.aws/alias/ct-site",
        )
    return repository


def registry_kind(host: str) -> str:
    """'ecr-public', 'ecr' or 'other'."""
    if host == ECR_PUBLIC_HOST:
        return "ecr-public"
    if _ECR_PRIVATE.match(host):
        return "ecr"
    return "other"


def decode_token(token: str, registry: str) -> RegistryAuth:
    """An ECR authorization token is base64 of `user:password` (the user is `AWS`)."""
    try:
        text = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CtsiteError(
            f"the authorization token for {registry} is not valid base64",
            hint="retry; if it persists, check the AWS endpoint in use (AWS_ENDPOINT_URL)",
        ) from None
    username, sep, password = text.partition(":")
    if not sep or not username or not password:
        raise CtsiteError(
            f"the authorization token for {registry} is not of the form user:password",
            hint="retry; if it persists, check the AWS endpoint in use (AWS_ENDPOINT_URL)",
        )
    return RegistryAuth(registry=registry, username=username, password=password)


def ecr_public_auth(client: Any, registry: str = ECR_PUBLIC_HOST) -> RegistryAuth:
    """Credentials for ECR Public from an `ecr-public` boto3 client (must be in us-east-1)."""
    from ctsite.deploy.aws import aws_errors

    with aws_errors("get an ECR Public login token (ecr-public get-authorization-token)"):
        data = client.get_authorization_token()["authorizationData"]
    return decode_token(data["authorizationToken"], registry)


def ecr_auth(client: Any, registry: str) -> RegistryAuth:
    """Credentials for a private ECR registry from an `ecr` boto3 client of its region."""
    from ctsite.deploy.aws import aws_errors

    with aws_errors(f"get an ECR login token for {registry} (ecr get-authorization-token)"):
        items = client.get_authorization_token()["authorizationData"]
    if not items:
        raise CtsiteError(f"ECR returned no authorization data for {registry}")
    return decode_token(items[0]["authorizationToken"], registry)


def resolve_auth(settings: Settings, repository: str) -> RegistryAuth | None:
    """Credentials for the registry holding `repository`, or None to use docker's own."""
    from ctsite.deploy import aws

    host, _ = split_repository(repository)
    kind = registry_kind(host)
    if kind == "ecr-public":
        return ecr_public_auth(aws.client(settings, "ecr-public", region=ECR_PUBLIC_REGION), host)
    if kind == "ecr":
        match = _ECR_PRIVATE.match(host)
        region = match.group(2) if match else settings.aws_region
        return ecr_auth(aws.client(settings, "ecr", region=region), host)
    return None

"""Image repository names and registry credentials, handed to the Docker SDK in memory only.

`split_repository` / `registry_kind` tell ECR Public, private ECR and other registries apart;
ECR login tokens come from `ctsite.aws.ecr` and are decoded here (`decode_token`). For any other
registry the Docker SDK uses the user's existing docker credentials. Credentials are never
written to disk or printed (`RegistryAuth` hides the password in repr).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re

from ctsite.errors import CtsiteError

ECR_PUBLIC_HOST = "public.ecr.aws"
ECR_PUBLIC_REGION = "us-east-1"
DOCKER_HUB = "docker.io"
ECR_PRIVATE = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
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
    if ECR_PRIVATE.match(host):
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

"""THE client factory (boto3 clients built from Settings) and THE botocore-error translation.

`client_factory(settings)` returns a `ClientFactory`: `factory("transfer")` or
`factory("ecr-public", "us-east-1")` gives a cached client for the configured profile and region.
The one injection style: workflows hold a `ClientFactory` and hand it on; every adapter function
takes it as its first argument and every adapter class (`Beanstalk`, `CloudFormation`) is built
from it, asking it for the clients of its own service(s). A raw boto3 client never leaves
`ctsite/aws/`, so the service calls stay here (tests inject a factory built on moto or a Stubber).
boto3 honours the standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` variables itself, so
no endpoint is ever hard-coded here. Wrap AWS calls in `with aws_errors("create the server"):`
(or use it as a decorator) so every botocore failure becomes one clear line with a hint; where a
particular AWS error code means something (not found, already gone), catch that `ClientError`
inside the `with` block and re-raise the rest for `aws_errors` to word.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from ctsite.config import Settings
from ctsite.errors import CtsiteError


class ClientFactory(Protocol):
    """service (and region, retry budget) → a boto3 client; what workflows hand to adapters."""

    def __call__(
        self, service: str, region: str | None = None, max_attempts: int | None = None
    ) -> Any: ...


_CREDENTIAL_HINT = (
    "configure AWS credentials (aws configure, AWS_PROFILE / aws_profile, or "
    "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY)"
)


def session(settings: Settings) -> Any:
    """A boto3 Session for the configured profile (if any) and region."""
    import boto3
    import botocore.exceptions

    try:
        return boto3.Session(
            profile_name=settings.aws_profile or None,
            region_name=settings.aws_region or None,
        )
    except botocore.exceptions.ProfileNotFound as exc:
        raise CtsiteError(
            f"AWS profile {settings.aws_profile!r} not found: {exc}",
            hint="fix aws_profile (CTSITE_AWS_PROFILE) or add the profile to ~/.aws/config",
        ) from None


def client(
    settings: Settings, service: str, region: str | None = None, max_attempts: int | None = None
) -> Any:
    """A boto3 client for `service` in `region` (default: the configured aws_region); botocore's
    standard retries, `max_attempts` of them when given (else AWS_MAX_ATTEMPTS or its default)."""
    import botocore.config

    retries: dict[str, Any] = {"mode": "standard"}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts  # the first call included
    config = botocore.config.Config(retries=retries)
    with aws_errors(f"create the AWS {service} client"):
        return session(settings).client(
            service, region_name=region or settings.aws_region or None, config=config
        )


def client_factory(settings: Settings) -> ClientFactory:
    """boto3 clients for `settings`, built once per (service, region)."""
    cache: dict[tuple[str, str | None, int | None], Any] = {}

    def make(service: str, region: str | None = None, max_attempts: int | None = None) -> Any:
        key = (service, region, max_attempts)
        if key not in cache:
            cache[key] = client(settings, service, region, max_attempts)
        return cache[key]

    return make


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def describe_error(action: str, exc: BaseException) -> CtsiteError:
    """The CtsiteError for a botocore/boto3 exception raised while doing `action`."""
    import botocore.exceptions as bex

    if isinstance(exc, bex.ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "Unknown")
        message = err.get("Message") or str(exc)
        hint = "check the configuration values used by this command (`ctsite config`)"
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            hint = "the AWS identity lacks a permission for this action; check its IAM policy"
        elif code in {
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "SignatureDoesNotMatch",
        }:
            hint = _CREDENTIAL_HINT
        elif code in {"Throttling", "ThrottlingException", "RequestLimitExceeded"}:
            hint = "AWS is throttling requests; wait a minute and retry"
        elif "NotFound" in code or code in {"NoSuchEntity", "InvalidRequestException"}:
            hint = "check that the named resource exists in region and account in use"
        return CtsiteError(f"could not {action}: AWS {code}: {message}", hint=hint)
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return CtsiteError(f"could not {action}: no AWS credentials found", hint=_CREDENTIAL_HINT)
    if isinstance(exc, bex.NoRegionError):
        return CtsiteError(
            f"could not {action}: no AWS region configured",
            hint="set aws_region in ctsite.toml or CTSITE_AWS_REGION",
        )
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectionClosedError):
        return CtsiteError(
            f"could not {action}: cannot reach the AWS endpoint: {exc}",
            hint="check the network, aws_region and AWS_ENDPOINT_URL if set",
        )
    if isinstance(exc, bex.WaiterError):
        last = getattr(exc, "last_response", None) or {}
        reason = getattr(exc, "reason", str(exc))
        detail = last.get("Error", {}).get("Message") if isinstance(last, dict) else None
        return CtsiteError(
            f"could not {action}: gave up waiting: {reason}" + (f" ({detail})" if detail else ""),
            hint="look at the resource in the AWS console; it may be stuck or failed",
        )
    if isinstance(exc, bex.ProfileNotFound):
        return CtsiteError(
            f"could not {action}: {exc}",
            hint="fix aws_profile (CTSITE_AWS_PROFILE) or add the profile to ~/.aws/config",
        )
    if isinstance(exc, bex.ParamValidationError):
        return CtsiteError(
            f"could not {action}: invalid parameter: {exc}",
            hint="check the configuration values used by this command (`ctsite config`)",
        )
    return CtsiteError(f"could not {action}: {exc}", hint="check the AWS configuration")


class aws_errors(contextlib.ContextDecorator):
    """Context manager / decorator: botocore exceptions inside become one CtsiteError line."""

    def __init__(self, action: str):
        self.action = action

    def __enter__(self) -> aws_errors:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            return
        import botocore.exceptions as bex
        from botocore.parsers import ResponseParserError  # an endpoint's non-AWS answer

        if isinstance(exc, bex.BotoCoreError | bex.ClientError | ResponseParserError):
            raise describe_error(self.action, exc) from None

"""IAM and STS: who the credentials are, and the ARN of a role named in the configuration."""

from __future__ import annotations

from typing import Any

from ctsite.aws.clients import ClientFactory, aws_errors, describe_error, error_code
from ctsite.errors import CtsiteError


def identity(client: ClientFactory) -> dict[str, Any]:
    """STS GetCallerIdentity: the account and ARN of the current credentials."""
    with aws_errors("check the AWS credentials (sts get-caller-identity)"):
        return dict(client("sts").get_caller_identity())


def role_arn(client: ClientFactory, name: str, setting: str = "") -> str:
    """The ARN of an IAM role given by name (an ARN is returned unchanged).

    Looked up with IAM GetRole, so a typo fails clearly (naming `setting`, the key to fix); if
    the identity may not call GetRole, the ARN is built from the account id instead.
    """
    import botocore.exceptions

    if name.startswith("arn:"):
        return name
    action = f"find the IAM role {name!r}" + (f" ({setting})" if setting else "")
    try:
        return str(client("iam").get_role(RoleName=name)["Role"]["Arn"])
    except botocore.exceptions.ClientError as exc:
        code = error_code(exc)
        if "AccessDenied" in code:
            return f"arn:aws:iam::{identity(client)['Account']}:role/{name}"
        if code == "NoSuchEntity":
            where = f", or set {setting} (CTSITE_{setting.upper()})" if setting else ""
            raise CtsiteError(
                f"IAM role {name!r} not found",
                hint=f"create it in IAM (`ctsite provision check` prints how){where}",
            ) from None
        raise describe_error(action, exc) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise describe_error(action, exc) from None

"""IAM and STS: who the credentials are, the ARN of a role named in the configuration, and a
role's trust, attached and inline policies as `provision check` compares them."""

from __future__ import annotations

from typing import Any

from ctsite.aws.clients import ClientFactory, aws_errors, error_code
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
    with aws_errors(f"find the IAM role {name!r}" + (f" ({setting})" if setting else "")):
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
            raise


def role(client: ClientFactory, name: str) -> dict[str, Any] | None:
    """The role's description (with its `AssumeRolePolicyDocument`); None when it is missing."""
    import botocore.exceptions

    with aws_errors(f"read the IAM role {name}"):
        try:
            return dict(client("iam").get_role(RoleName=name)["Role"])
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise


def attached_policies(client: ClientFactory, name: str) -> set[str]:
    """The ARNs of the managed policies attached to the role."""
    with aws_errors(f"list the policies of the IAM role {name}"):
        pages = client("iam").get_paginator("list_attached_role_policies").paginate(RoleName=name)
        return {str(p["PolicyArn"]) for page in pages for p in page["AttachedPolicies"]}


def inline_policy(client: ClientFactory, name: str, policy: str) -> Any:
    """The document of the role's inline policy `policy` as IAM returns it (a dict, or
    URL-encoded JSON text); None where the role has no such policy."""
    import botocore.exceptions

    with aws_errors(f"read the policy {policy} of the IAM role {name}"):
        try:
            found = client("iam").get_role_policy(RoleName=name, PolicyName=policy)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
    return found["PolicyDocument"]

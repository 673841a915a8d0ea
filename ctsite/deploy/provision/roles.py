"""`provision check` for the IAM roles: each live role against the template's definition of it.

The template is the one definition of a role: whom it trusts, the AWS managed policies it
attaches and its inline policies. A live role differs where
- it is missing: the fix creates it as the template does (create-role, attach, put-role-policy);
- it trusts other services than the template's role (a hand-made instance role is often also
  trusted by transfer.amazonaws.com, to serve as the upload user's role);
- an AWS managed policy of the template is not attached, or one the template does not attach
  is (AWSTransferFullAccess, AmazonElasticFileSystemClientFullAccess: broader than the site
  needs, so whoever took over an instance could start SFTP servers and rewrite the data);
- an inline policy of the template is missing or allows other actions or resources.
Customer managed policies (the stack's own statistics policy, the account's) and inline policies
the template does not name are the account's own business and are not judged. Nothing is changed.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any
from urllib.parse import unquote

from ctsite.aws import iam
from ctsite.aws.clients import ClientFactory
from ctsite.aws.cloudformation import load_template
from ctsite.deploy.provision.template import UNKNOWN, Difference, resolve

AWS_MANAGED = re.compile(r"^arn:[\w-]+:iam::aws:policy/")
INSTANCE_ROLE = "InstanceRole"
TRANSFER_USER_ROLE = "TransferUserRole"


def _known(value: Any) -> bool:
    """True when no part of a resolved template fragment waits for a created resource."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(_known(v) for v in value.values())
    if isinstance(value, list):
        return all(_known(v) for v in value)
    return True


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def trusted_services(document: Any) -> set[str]:
    """The services a trust policy lets assume the role (Allow + sts:AssumeRole)."""
    services: set[str] = set()
    for statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        if "sts:AssumeRole" not in _as_list(statement.get("Action")):
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            services.update(str(s) for s in _as_list(principal.get("Service")))
    return services


def grants(document: Any) -> set[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """A policy as comparable (effect, actions, resources) statements (conditions aside)."""
    return {
        (
            str(s.get("Effect", "")),
            tuple(sorted(str(a) for a in _as_list(s.get("Action")))),
            tuple(sorted(str(r) for r in _as_list(s.get("Resource")))),
        )
        for s in _statements(document)
    }


def _summary(document: Any) -> str:
    return "; ".join(
        f"{effect} {', '.join(actions)} on {', '.join(resources)}"
        for effect, actions, resources in sorted(grants(document))
    )


def _quoted(document: Any) -> str:
    return shlex.quote(json.dumps(document, separators=(",", ":")))


def _document(value: Any) -> Any:
    """A policy document as IAM returns it: a dict, or URL-encoded JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(unquote(value))
        except ValueError:
            return {}
    return value or {}


class RoleSpec:
    """What the template defines for one role, for the known parameter values."""

    def __init__(self, template: str, logical_id: str, values: dict[str, str]) -> None:
        doc = load_template(template)
        conditions = doc.get("Conditions") or {}
        props = doc["Resources"][logical_id]["Properties"]
        self.logical_id = logical_id
        trust = resolve(props["AssumeRolePolicyDocument"], values, conditions)
        self.trust: dict[str, Any] | None = trust if _known(trust) else None
        arns = resolve(props.get("ManagedPolicyArns", []), values, conditions)
        self.managed = [a for a in arns if isinstance(a, str) and AWS_MANAGED.match(a)]
        self.inline: dict[str, Any] = {}
        for policy in props.get("Policies", []):
            document = resolve(policy["PolicyDocument"], values, conditions)
            if _known(document):
                self.inline[str(policy["PolicyName"])] = document

    def create_commands(self, name: str) -> str:
        """One shell line that makes the role as the template does (or where to do it)."""
        if self.trust is None:
            return "create it with `ctsite provision apply` or in the IAM console"
        commands = [
            f"aws iam create-role --role-name {name} "
            f"--assume-role-policy-document {_quoted(self.trust)}"
        ]
        commands += [
            f"aws iam attach-role-policy --role-name {name} --policy-arn {arn}"
            for arn in self.managed
        ]
        commands += [
            f"aws iam put-role-policy --role-name {name} --policy-name {policy} "
            f"--policy-document {_quoted(document)}"
            for policy, document in self.inline.items()
        ]
        if self.logical_id == INSTANCE_ROLE:
            commands += [
                f"aws iam create-instance-profile --instance-profile-name {name}",
                f"aws iam add-role-to-instance-profile --instance-profile-name {name} "
                f"--role-name {name}",
            ]
        return " && ".join(commands)


def _inline(client: ClientFactory, name: str, policy: str) -> Any:
    """The inline policy's document, or None where the role has no such policy."""
    found = iam.inline_policy(client, name, policy)
    return None if found is None else _document(found)


def check_role(client: ClientFactory, name: str, spec: RoleSpec) -> list[Difference]:
    """Every difference between the live role `name` and the template's `spec` of it."""
    role = iam.role(client, name)
    if role is None:
        return [Difference(f"IAM role {name}", "missing", "present", spec.create_commands(name))]
    diffs = []
    if spec.trust is not None:
        have = trusted_services(_document(role.get("AssumeRolePolicyDocument")))
        want = trusted_services(spec.trust)
        if have != want:
            diffs.append(
                Difference(
                    f"IAM role {name} trust",
                    ", ".join(sorted(have)) or "no service",
                    ", ".join(sorted(want)),
                    f"aws iam update-assume-role-policy --role-name {name} "
                    f"--policy-document {_quoted(spec.trust)}",
                )
            )
    attached = iam.attached_policies(client, name)
    for arn in spec.managed:
        if arn not in attached:
            diffs.append(
                Difference(
                    f"IAM role {name} policy {arn.rsplit('/', 1)[-1]}",
                    "not attached",
                    "attached",
                    f"aws iam attach-role-policy --role-name {name} --policy-arn {arn}",
                )
            )
    for arn in sorted(attached):
        if AWS_MANAGED.match(arn) and arn not in spec.managed:
            diffs.append(
                Difference(
                    f"IAM role {name} policy {arn.rsplit('/', 1)[-1]}",
                    "attached",
                    "not attached (more than the role needs)",
                    f"aws iam detach-role-policy --role-name {name} --policy-arn {arn}",
                )
            )
    for policy, document in spec.inline.items():
        live = _inline(client, name, policy)
        if live is None or grants(live) != grants(document):
            diffs.append(
                Difference(
                    f"IAM role {name} inline policy {policy}",
                    "missing" if live is None else _summary(live),
                    _summary(document),
                    f"aws iam put-role-policy --role-name {name} --policy-name {policy} "
                    f"--policy-document {_quoted(document)}",
                )
            )
    return diffs


def check_roles(
    client: ClientFactory, roles: dict[str, str], template: str, values: dict[str, str]
) -> list[Difference]:
    """Each role of `roles` (template logical id → live name) against the template.

    `values` are the template's parameters plus what is known of the account (AWS::AccountId,
    AWS::Region, FileSystem: the file system id), so trust and inline policies resolve fully.
    An upload user sharing the instances' role is one difference of its own: the template gives
    it a role of its own, which the fix creates.
    """
    diffs = []
    shared = roles.get(TRANSFER_USER_ROLE) == roles.get(INSTANCE_ROLE)
    for logical, name in roles.items():
        if logical == TRANSFER_USER_ROLE and shared:
            default = load_template(template)["Parameters"]["TransferUserRoleName"]["Default"]
            own = RoleSpec(template, logical, {**values, "TransferUserRoleName": default})
            diffs.append(
                Difference(
                    "Transfer Family upload user role",
                    f"the instances' role {name}",
                    f"a role of its own ({default})",
                    f'set transfer_user_role = "{default}" ([transfer] user_role in ctsite.toml) '
                    f"and create it: {own.create_commands(default)}",
                )
            )
            continue
        diffs += check_role(client, name, RoleSpec(template, logical, values))
    return diffs

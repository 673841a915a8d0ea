"""`provision check`: compare a live (hand-made) environment with the template's values.

Reads (through the adapters of `ctsite.aws`) the EB option settings, the EFS file system's
lifecycle/backup/throughput, the NFS rules of the security groups on its mount targets and the
IAM roles (`provision.roles`), and returns one `Difference` per mismatch with the command that
fixes it. Nothing is changed. The expected values are read from
the template itself (`resolve` evaluates its Ref/If/Join/Sub for given parameters), so the
template stays the one definition of the configuration.
"""

from __future__ import annotations

import json
from typing import Any

from ctsite.aws import ec2, efs
from ctsite.aws.beanstalk import Beanstalk, option_values
from ctsite.aws.clients import ClientFactory
from ctsite.aws.cloudformation import CloudFormation, load_template
from ctsite.aws.iam import identity
from ctsite.config import Settings
from ctsite.deploy.provision import environments
from ctsite.deploy.provision.environments import Target
from ctsite.deploy.provision.roles import check_roles
from ctsite.deploy.provision.template import UNKNOWN, Difference, drift_difference, resolve
from ctsite.errors import CtsiteError

__all__ = ["UNKNOWN", "Difference", "check", "check_environment", "expected_options", "resolve"]

# Placement options that differ legitimately between a hand-made and a provisioned environment.
SKIP_NAMESPACES = {"aws:ec2:vpc"}


def expected_options(template: str, params: dict[str, str]) -> dict[tuple[str, str], str]:
    """(namespace, option) → value the template sets on the EB environment (known ones only)."""
    doc = load_template(template)
    conditions = doc.get("Conditions") or {}
    env = doc["Resources"]["Environment"]["Properties"]
    out: dict[tuple[str, str], str] = {}
    for item in resolve(env["OptionSettings"], params, conditions):
        if not isinstance(item, dict) or item.get("Value") is UNKNOWN:
            continue
        if item["Namespace"] in SKIP_NAMESPACES:
            continue
        out[item["Namespace"], item["OptionName"]] = str(item["Value"])
    return out


def _live_options(
    client: ClientFactory, application: str, environment: str
) -> dict[tuple[str, str], str]:
    found = Beanstalk(client, application, environment).configuration_settings()
    if not found:
        raise CtsiteError(f"no configuration for {environment}", hint="check eb_environment")
    return option_values(found[0])


def _contains(have: object, want: object) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            key in have and _contains(have[key], value) for key, value in want.items()
        )
    return have == want


def same_option(live: str, value: str) -> bool:
    """Whether a live option value is the template's. A JSON document (the enhanced-health
    ConfigDocument) matches when every entry the template sets is live: Elastic Beanstalk
    stores it with its own defaults added and its keys in its own order."""
    if not value.startswith("{"):
        return live == value
    try:
        return _contains(json.loads(live or "{}"), json.loads(value))
    except ValueError:
        return False


def _option_fix(environment: str, namespace: str, option: str, value: str) -> str:
    """The update-environment line; JSON syntax for a JSON value (its commas would split the
    shorthand's fields)."""
    if value.startswith("{"):
        setting = json.dumps([{"Namespace": namespace, "OptionName": option, "Value": value}])
        return (
            f"aws elasticbeanstalk update-environment --environment-name {environment} "
            f"--option-settings '{setting}'"
        )
    return (
        f"aws elasticbeanstalk update-environment --environment-name {environment} "
        f"--option-settings 'Namespace={namespace},OptionName={option},Value={value}'"
    )


def check_options(
    client: ClientFactory,
    application: str,
    environment: str,
    template: str,
    params: dict[str, str],
) -> list[Difference]:
    live = _live_options(client, application, environment)
    diffs = []
    for (namespace, option), value in sorted(expected_options(template, params).items()):
        if not same_option(live.get((namespace, option), ""), value):
            diffs.append(
                Difference(
                    f"EB {namespace} {option}",
                    live.get((namespace, option), ""),
                    value,
                    _option_fix(environment, namespace, option, value),
                )
            )
    return diffs


def check_efs(
    client: ClientFactory, file_system_id: str, template: str, region: str = ""
) -> list[Difference]:
    """Lifecycle, backups, throughput and the NFS rules of the mount targets' security groups."""
    props = load_template(template)["Resources"]["FileSystem"]["Properties"]
    fs_id = file_system_id
    diffs = []
    fs = efs.file_system(client, fs_id, region)
    lifecycle = efs.lifecycle_policies(client, fs_id)
    want_ia = props["LifecyclePolicies"][0]["TransitionToIA"]
    have_ia = next((p["TransitionToIA"] for p in lifecycle if "TransitionToIA" in p), "")
    if have_ia != want_ia:
        diffs.append(
            Difference(
                f"EFS {fs_id} lifecycle",
                have_ia,
                want_ia,
                f"aws efs put-lifecycle-configuration --file-system-id {fs_id} "
                f"--lifecycle-policies TransitionToIA={want_ia}",
            )
        )
    backup = efs.backup_status(client, fs_id)
    want_backup = props["BackupPolicy"]["Status"]
    if backup != want_backup:
        diffs.append(
            Difference(
                f"EFS {fs_id} automatic backups",
                backup,
                want_backup,
                f"aws efs put-backup-policy --file-system-id {fs_id} "
                f"--backup-policy Status={want_backup}",
            )
        )
    if fs.get("ThroughputMode") != props["ThroughputMode"]:
        diffs.append(
            Difference(
                f"EFS {fs_id} throughput mode",
                str(fs.get("ThroughputMode", "")),
                props["ThroughputMode"],
                f"aws efs update-file-system --file-system-id {fs_id} "
                f"--throughput-mode {props['ThroughputMode']}",
            )
        )
    return diffs + _check_nfs_rules(client, fs_id)


def _allows_nfs(rules: list[dict[str, Any]]) -> bool:
    for rule in rules:
        if rule.get("IpProtocol") == "-1":
            return True
        if rule.get("IpProtocol") == "tcp" and rule.get("FromPort", 0) <= 2049 <= rule.get(
            "ToPort", 0
        ):
            return True
    return False


def _check_nfs_rules(client: ClientFactory, fs_id: str) -> list[Difference]:
    targets = efs.mount_targets(client, fs_id)
    groups: set[str] = set()
    for target in targets:
        groups.update(efs.mount_target_security_groups(client, target["MountTargetId"]))
    described = ec2.security_groups(client, sorted(groups))
    if not targets:
        return [
            Difference(
                f"EFS {fs_id} mount targets",
                "none",
                "one per availability zone",
                f"aws efs create-mount-target --file-system-id {fs_id} --subnet-id <subnet> "
                "--security-groups <sg>",
            )
        ]
    diffs = []
    for group in described:
        gid = group["GroupId"]
        if not _allows_nfs(group.get("IpPermissions", [])):
            diffs.append(
                Difference(
                    f"security group {gid} inbound NFS",
                    "no rule for TCP 2049",
                    "TCP 2049 from the group itself",
                    f"aws ec2 authorize-security-group-ingress --group-id {gid} --protocol tcp "
                    f"--port 2049 --source-group {gid}",
                )
            )
        if not _allows_nfs(group.get("IpPermissionsEgress", [])):
            diffs.append(
                Difference(
                    f"security group {gid} outbound NFS",
                    "no rule for TCP 2049",
                    "TCP 2049 to the group itself",
                    f"aws ec2 authorize-security-group-egress --group-id {gid} --ip-permissions "
                    f"'IpProtocol=tcp,FromPort=2049,ToPort=2049,UserIdGroupPairs=[{{GroupId={gid}}}]'",
                )
            )
    return diffs


def check(
    client: ClientFactory,
    application: str,
    environment: str,
    file_system_id: str,
    roles: dict[str, str],
    template: str,
    params: dict[str, str],
    account: str = "",
    region: str = "",
) -> list[Difference]:
    """Every difference between the live environment and the template (nothing is changed).

    `client` is the client factory; `roles` maps the template's role logical ids
    (TransferUserRole, InstanceRole, TransferLoggingRole) to the live role names; `account` and
    `region` complete the roles' policies (their file system ARN, the trust's source account).
    """

    diffs = check_options(client, application, environment, template, params)
    if file_system_id:
        diffs += check_efs(client, file_system_id, template, region)
    else:
        diffs.append(
            Difference(
                "EFS file system",
                "not configured",
                "contacttracing_site_fs",
                "set efs_file_system_id in ctsite.toml (or provision it)",
            )
        )
    known = dict(params)
    if file_system_id:
        known["FileSystem"] = file_system_id
    if account:
        known["AWS::AccountId"] = account
    if region:
        known["AWS::Region"] = region
    return diffs + check_roles(client, roles, template, known)


def check_environment(
    settings: Settings, target: Target, client: ClientFactory
) -> list[Difference]:
    """`provision check`: the live environment against the template, plus stack drift if the
    environment was provisioned."""
    params = environments.stack_parameters(settings, target, "", environments.Network("", []))
    roles = {  # the upload user's own role first: its fix comes before the instance role's
        "TransferUserRole": settings.transfer_user_role,
        "InstanceRole": settings.eb_instance_role,
        "TransferLoggingRole": settings.transfer_logging_role,
    }
    template = environments.template_text()
    diffs = check(
        client,
        settings.eb_application,
        target.eb_environment,
        settings.efs_file_system_id,
        roles,
        template,
        params,
        account=str(identity(client)["Account"]),
        region=settings.aws_region,
    )
    cfn = CloudFormation(client)
    if cfn.stack(target.stack_name) is not None:
        diffs += [drift_difference(d, target.name) for d in cfn.drift(target.stack_name)]
    return diffs

"""`provision check`: compare a live (hand-made) environment with the template's values.

Reads the EB option settings, the EFS file system's lifecycle/backup/throughput, the NFS rules of
the security groups on its mount targets and the IAM roles (`provision.roles`), and returns one
`Difference` per mismatch with the command that fixes it. Nothing is changed. The expected values are read from
the template itself (`resolve` evaluates its Ref/If/Join/Sub for given parameters), so the
template stays the one definition of the configuration.
"""

from __future__ import annotations

from typing import Any

from ctsite.aws.clients import aws_errors, describe_error
from ctsite.aws.cloudformation import load_template
from ctsite.deploy.provision.roles import check_roles
from ctsite.deploy.provision.template import UNKNOWN, Difference, resolve
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


def _live_options(eb: Any, application: str, environment: str) -> dict[tuple[str, str], str]:
    with aws_errors(f"read the option settings of {environment}"):
        found = eb.describe_configuration_settings(
            ApplicationName=application, EnvironmentName=environment
        )["ConfigurationSettings"]
    if not found:
        raise CtsiteError(f"no configuration for {environment}", hint="check eb_environment")
    return {
        (str(o["Namespace"]), str(o["OptionName"])): str(o.get("Value", ""))
        for o in found[0].get("OptionSettings", [])
    }


def check_options(
    eb: Any, application: str, environment: str, template: str, params: dict[str, str]
) -> list[Difference]:
    live = _live_options(eb, application, environment)
    diffs = []
    for (namespace, option), value in sorted(expected_options(template, params).items()):
        if live.get((namespace, option), "") != value:
            diffs.append(
                Difference(
                    f"EB {namespace} {option}",
                    live.get((namespace, option), ""),
                    value,
                    f"aws elasticbeanstalk update-environment --environment-name {environment} "
                    f"--option-settings 'Namespace={namespace},OptionName={option},Value={value}'",
                )
            )
    return diffs


def check_efs(efs: Any, ec2: Any, file_system_id: str, template: str) -> list[Difference]:
    """Lifecycle, backups, throughput and the NFS rules of the mount targets' security groups."""
    props = load_template(template)["Resources"]["FileSystem"]["Properties"]
    fs_id = file_system_id
    diffs = []
    with aws_errors(f"describe the EFS file system {fs_id}"):
        fs = efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]
        lifecycle = efs.describe_lifecycle_configuration(FileSystemId=fs_id)["LifecyclePolicies"]
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
    backup = _backup_status(efs, fs_id)
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
    return diffs + _check_nfs_rules(efs, ec2, fs_id)


def _backup_status(efs: Any, fs_id: str) -> str:
    import botocore.exceptions

    try:
        return str(efs.describe_backup_policy(FileSystemId=fs_id)["BackupPolicy"]["Status"])
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "PolicyNotFound":
            return "DISABLED"  # never set: no automatic backups
        raise describe_error(f"read the backup policy of {fs_id}", exc) from None


def _allows_nfs(rules: list[dict[str, Any]]) -> bool:
    for rule in rules:
        if rule.get("IpProtocol") == "-1":
            return True
        if rule.get("IpProtocol") == "tcp" and rule.get("FromPort", 0) <= 2049 <= rule.get(
            "ToPort", 0
        ):
            return True
    return False


def _check_nfs_rules(efs: Any, ec2: Any, fs_id: str) -> list[Difference]:
    with aws_errors(f"read the mount targets of {fs_id}"):
        targets = efs.describe_mount_targets(FileSystemId=fs_id)["MountTargets"]
        groups: set[str] = set()
        for target in targets:
            groups.update(
                efs.describe_mount_target_security_groups(MountTargetId=target["MountTargetId"])[
                    "SecurityGroups"
                ]
            )
        described = (
            ec2.describe_security_groups(GroupIds=sorted(groups))["SecurityGroups"]
            if groups
            else []
        )
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
    client: Any,
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

    `client(service)` gives boto3 clients; `roles` maps the template's role logical ids
    (TransferUserRole, InstanceRole, TransferLoggingRole) to the live role names; `account` and
    `region` complete the roles' policies (their file system ARN, the trust's source account).
    """

    diffs = check_options(client("elasticbeanstalk"), application, environment, template, params)
    if file_system_id:
        diffs += check_efs(client("efs"), client("ec2"), file_system_id, template)
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
    return diffs + check_roles(client("iam"), roles, template, known)


def check_environment(settings: Any, target: Any, client: Any) -> list[Difference]:
    """`provision check`: the live environment against the template, plus stack drift if the
    environment was provisioned."""
    from ctsite.aws.cloudformation import CloudFormation
    from ctsite.aws.iam import identity
    from ctsite.deploy.provision import environments

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
    cfn = CloudFormation(client("cloudformation"))
    if cfn.stack(target.stack_name) is not None:
        for drift in cfn.drift(target.stack_name):
            diffs.append(
                Difference(
                    f"stack resource {drift.logical_id} ({drift.resource_type})",
                    drift.status.lower()
                    + (": " + "; ".join(drift.differences) if drift.differences else ""),
                    "as in the template",
                    f"undo the manual change, or run `ctsite provision apply --env {target.name}`",
                )
            )
    return diffs

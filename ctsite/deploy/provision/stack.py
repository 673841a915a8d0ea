"""The provision workflow: plan, apply and destroy an environment's CloudFormation stack.

Plain functions with explicit arguments that return dataclasses and report progress through a
`report(text)` callback; they never print, prompt or exit. The template and its parameter values
come from `ctsite.deploy.provision.environments`; the URL swap is `ctsite.deploy.provision.swap`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from ctsite.aws import cloudwatch
from ctsite.aws.clients import ClientFactory
from ctsite.aws.cloudformation import FAILED_STACK, ChangeSet, CloudFormation, StackEvent
from ctsite.config import RUNBOOK_NAMES, Settings
from ctsite.deploy.pricing import FREE_ALARM_METRICS, AlarmTier
from ctsite.deploy.provision.check import resolve
from ctsite.deploy.provision.environments import Target
from ctsite.deploy.provision.static_cost import StaticCost, Traffic
from ctsite.errors import ConfigError, CtsiteError

# The configured names a stack creates: every runbook name (see `inherited_names`).
NAMES: tuple[str, ...] = RUNBOOK_NAMES

Report = Callable[[str], None]
HOURS_PER_MONTH = 730


def _quiet(_: str) -> None:
    return None


# ---------------------------------------------------------------- plan


@dataclasses.dataclass(frozen=True)
class Row:
    action: str  # add | modify | replace | remove
    logical_id: str
    resource_type: str
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class CostLine:
    item: str
    monthly_usd: float


@dataclasses.dataclass
class Plan:
    stack_name: str
    new_stack: bool
    unchanged: bool
    rows: list[Row]
    parameter_changes: list[tuple[str, str, str]]  # (key, deployed, new)
    costs: list[CostLine]
    change_set_id: str = ""
    alarms: AlarmTier | None = None  # the stack's alarm metrics against the free tier
    hosting: StaticCost | None = None  # the static site's running cost (--env static)

    @property
    def monthly_usd(self) -> float:
        if self.hosting is not None:
            return self.hosting.monthly_usd
        return round(sum(c.monthly_usd for c in self.costs), 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack_name,
            "new_stack": self.new_stack,
            "unchanged": self.unchanged,
            "changes": [dataclasses.asdict(r) for r in self.rows],
            "parameters": [
                {"key": k, "deployed": a, "new": b} for k, a, b in self.parameter_changes
            ],
            "cost": [dataclasses.asdict(c) for c in self.costs],
            "monthly_usd": self.monthly_usd,
            "alarms": None
            if self.alarms is None
            else {
                "stack": self.alarms.stack,
                "others": self.alarms.others,
                "total": self.alarms.total,
                "free": FREE_ALARM_METRICS,
                "within_free_tier": self.alarms.within_free_tier,
                "monthly_usd": self.alarms.monthly_usd,
            },
            "hosting": None if self.hosting is None else self.hosting.to_json(),
        }


def _effective(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """Every template parameter's value: given, else its default."""
    out = {}
    for key, spec in (template.get("Parameters") or {}).items():
        if key in given:
            out[key] = given[key]
        elif isinstance(spec, dict) and "Default" in spec:
            out[key] = str(spec["Default"])
    return out


def _references(value: Any) -> set[str]:
    """Names a template fragment refers to (Ref, ${Sub} names)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(re.findall(r"\$\{([A-Za-z0-9]+)\}", str(text)))
            found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _rows(
    change_set: ChangeSet,
    old: dict[str, Any],
    new: dict[str, Any],
    existing: set[str],
    changed: set[str],
    params: dict[str, str],
) -> list[Row]:
    """Change-set rows, cross-checked with the templates: a resource whose condition is false is
    not added, and an emulator that reports an existing resource as Add (or nothing at all for a
    parameter change) is corrected from the deployed template."""
    old_res, new_res = old.get("Resources") or {}, new.get("Resources") or {}
    conditions = new.get("Conditions") or {}

    def wanted(logical: str) -> bool:
        condition = (new_res.get(logical) or {}).get("Condition")
        return not condition or bool(resolve({"Condition": condition}, params, conditions))

    rows: dict[str, Row] = {}
    for c in change_set.changes:
        action = c.action.lower()
        if action in {"add", "modify"} and not wanted(c.logical_id):
            continue  # its condition is false: CloudFormation will not create it
        if action == "add" and c.logical_id in existing:
            same = old_res.get(c.logical_id) == new_res.get(c.logical_id)
            if same and not (_references(new_res.get(c.logical_id)) & changed):
                continue
            action = "modify"
        if action == "modify" and c.replacement == "True":
            action = "replace"
        detail = "may be replaced" if c.replacement == "Conditional" else ""
        rows[c.logical_id] = Row(action, c.logical_id, c.resource_type, detail)
    if existing and not rows:
        for logical in sorted(set(old_res) & set(new_res)):
            if not wanted(logical):
                continue
            uses = sorted(_references(new_res[logical]) & changed)
            if uses or old_res.get(logical) != new_res[logical]:
                detail = f"uses {', '.join(uses)}" if uses else "properties changed"
                rows[logical] = Row("modify", logical, str(new_res[logical].get("Type")), detail)
    order = {"add": 0, "replace": 1, "modify": 2, "remove": 3}
    return sorted(rows.values(), key=lambda r: (order.get(r.action, 9), r.logical_id))


def estimate_costs(settings: Settings, rows: list[Row], params: dict[str, str]) -> list[CostLine]:
    """Monthly cost of what the plan adds, from the configured price table (price_*)."""
    lines: list[CostLine] = []
    added = {r.resource_type for r in rows if r.action == "add"}
    month = HOURS_PER_MONTH
    if "AWS::ElasticBeanstalk::Environment" in added:
        count = int(params.get("MinInstances", "1"))
        balanced = params.get("EnvironmentType") == "LoadBalanced"
        if not balanced:
            count = 1
        kind = params.get("InstanceType", "")
        lines.append(
            CostLine(f"{count} × {kind} instance", count * settings.price_instance_hourly * month)
        )
        if balanced:
            lines.append(
                CostLine("application load balancer", settings.price_load_balancer_hourly * month)
            )
        ips = count + (2 if balanced else 0)
        lines.append(
            CostLine(
                f"{ips} public IPv4 address(es)", ips * settings.price_public_ipv4_hourly * month
            )
        )
        lines.append(
            CostLine(
                f"{settings.price_data_gb:g} GB of data on EFS",
                settings.price_data_gb * settings.price_efs_gb_month,
            )
        )
    return [CostLine(c.item, round(c.monthly_usd, 2)) for c in lines]


def plan(
    cfn: CloudFormation,
    settings: Settings,
    stack_name: str,
    template: str,
    params: dict[str, str],
    report: Report = _quiet,
    now: dt.datetime | None = None,
) -> Plan:
    """Compare the stack with the template and parameters; a change set unless nothing changed."""
    from ctsite.aws.cloudformation import load_template

    new = load_template(template)
    current = cfn.stack(stack_name)
    status = str((current or {}).get("StackStatus", ""))
    if status in {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}:
        raise CtsiteError(
            f"the stack {stack_name} is {status} (a failed creation) and cannot be updated",
            hint="destroy it (`ctsite provision destroy`) and apply again",
        )
    if status.endswith("IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise CtsiteError(f"the stack {stack_name} is busy ({status})", hint="wait and retry")
    creating = current is None or status == "REVIEW_IN_PROGRESS"
    old: dict[str, Any] = {}
    changes: list[tuple[str, str, str]] = []
    existing: set[str] = set()
    if not creating:
        old, deployed = cfn.deployed(stack_name)
        wanted = _effective(new, params)
        changes = [
            (k, deployed.get(k, ""), v) for k, v in sorted(wanted.items()) if deployed.get(k) != v
        ]
        if old == new and not changes:
            report(f"{stack_name}: nothing changed")
            return Plan(stack_name, False, True, [], [], [])
        existing = set(cfn.resources(stack_name))
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    report(f"{stack_name}: computing the change set")
    change_set_id = cfn.create_change_set(
        stack_name,
        f"ctsite-{stamp}",
        template,
        params,
        create=creating,
        tags={"ctsite:stack": stack_name},
    )
    described = cfn.change_set(change_set_id)
    if described.empty:
        cfn.delete_change_set(change_set_id)
        return Plan(stack_name, False, True, [], changes, [])
    if described.status == "FAILED":
        raise CtsiteError(
            f"CloudFormation rejected the change set: {described.reason}",
            hint="fix the configuration value it names (`ctsite config`) and plan again",
        )
    rows = _rows(described, old, new, existing, {k for k, _, _ in changes}, _effective(new, params))
    costs = estimate_costs(settings, rows, params)
    return Plan(stack_name, creating, False, rows, changes, costs, change_set_id)


def template_alarms(template: str, params: dict[str, str]) -> dict[str, int]:
    """The alarms the template creates for `params`: name → alarm metrics it counts as."""
    from ctsite.aws.cloudformation import load_template

    doc = load_template(template)
    conditions = doc.get("Conditions") or {}
    values = _effective(doc, params)
    found: dict[str, int] = {}
    for logical, spec in (doc.get("Resources") or {}).items():
        if spec.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        condition = spec.get("Condition")
        if condition and not resolve({"Condition": condition}, values, conditions):
            continue
        props = resolve(spec.get("Properties") or {}, values, conditions)
        name = props.get("AlarmName")
        found[name if isinstance(name, str) else logical] = cloudwatch.metric_count(props)
    return found


def alarm_tier(
    client: ClientFactory, target: Target, template: str, params: dict[str, str]
) -> AlarmTier:
    """The stack's alarm metrics and the region's others (its own alarms, once created, are
    not counted twice)."""
    own = template_alarms(template, params)
    others = [
        a for a in cloudwatch.alarms(client, region=target.region or None) if a.name not in own
    ]
    return AlarmTier(sum(own.values()), sum(a.metrics for a in others))


def discard(cfn: CloudFormation, result: Plan) -> None:
    """Drop a plan's change set (and the empty stack a first plan creates)."""
    if not result.change_set_id:
        return
    cfn.delete_change_set(result.change_set_id)
    current = cfn.stack(result.stack_name)
    if result.new_stack and current and current.get("StackStatus") == "REVIEW_IN_PROGRESS":
        cfn.delete(result.stack_name)


# ---------------------------------------------------------------- apply, destroy


@dataclasses.dataclass(frozen=True)
class Outcome:
    stack_name: str
    status: str
    events: list[StackEvent]
    file_system_id: str = ""  # the EFS file system the stack made or shares ("": none known)


def _describe(event: StackEvent) -> str:
    reason = f": {event.reason}" if event.reason else ""
    return f"{event.logical_id} ({event.resource_type}) {event.status}{reason}"


def _first_failure(events: list[StackEvent]) -> StackEvent | None:
    failed = [e for e in events if e.failed and e.reason]
    real = [e for e in failed if "cancelled" not in e.reason.lower()]
    return (real or failed)[0] if failed else None


def apply(
    cfn: CloudFormation, result: Plan, report: Report = _quiet, poll_s: float = 5.0
) -> Outcome:
    """Execute the plan's change set and follow the stack events until it settles."""
    if result.unchanged or not result.change_set_id:
        return Outcome(result.stack_name, "UNCHANGED", [])
    seen = {e.event_id for e in cfn.events(result.stack_name)}
    cfn.execute_change_set(result.change_set_id)
    events: list[StackEvent] = []

    def on_event(event: StackEvent) -> None:
        events.append(event)
        report(_describe(event))

    final = cfn.follow(result.stack_name, on_event, seen=seen, poll_s=poll_s)
    status = str((final or {}).get("StackStatus", "DELETE_COMPLETE"))
    if status in FAILED_STACK or "ROLLBACK" in status:
        cause = _first_failure(events)
        why = _describe(cause) if cause else str((final or {}).get("StackStatusReason", ""))
        hint = (
            "the stack is back to its previous state; fix the cause and run plan again"
            if not result.new_stack
            else "nothing was kept; fix the cause, then `ctsite provision destroy` the "
            "rolled-back stack and apply again"
        )
        raise CtsiteError(
            f"{result.stack_name} failed: {why}; CloudFormation rolled back ({status})",
            hint=hint,
        )
    return Outcome(result.stack_name, status, events, _file_system_id(cfn, result.stack_name))


def site_outputs(cfn: CloudFormation, stack_name: str) -> dict[str, str]:
    """The static site's stack outputs (bucket, distribution id and domain, URL); the bucket
    from the stack's resources while its outputs are missing (moto computes none here)."""
    found = cfn.outputs(stack_name)
    if not found.get("BucketName"):
        bucket = cfn.resources(stack_name).get("Bucket", "")
        found = {"BucketName": bucket, **found} if bucket else found
    return found


def _file_system_id(cfn: CloudFormation, stack_name: str) -> str:
    """The stack's FileSystemId output, else the physical id of its FileSystem resource (the
    outputs can be missing while a stack settles, and moto computes none for this template)."""
    found = cfn.outputs(stack_name).get("FileSystemId", "")
    return found or cfn.resources(stack_name).get("FileSystem", "")


def destroy(
    cfn: CloudFormation,
    target: Target,
    confirm: str | None = None,
    report: Report = _quiet,
    poll_s: float = 5.0,
) -> Outcome:
    """Delete a non-production stack; production only when `confirm` is its EB environment name.

    The EFS file system, the EB application and the ECR repository are kept (DeletionPolicy).
    """
    if target.production and confirm != target.eb_environment:
        raise CtsiteError(
            f"refusing to destroy the production environment {target.eb_environment}",
            hint=f"type its name to confirm: --confirm {target.eb_environment}",
        )
    if cfn.stack(target.stack_name) is None:
        report(f"{target.stack_name}: no such stack, nothing to destroy")
        return Outcome(target.stack_name, "ABSENT", [])
    seen = {e.event_id for e in cfn.events(target.stack_name)}
    report(f"{target.stack_name}: deleting")
    cfn.delete(target.stack_name)
    events: list[StackEvent] = []

    def on_event(event: StackEvent) -> None:
        events.append(event)
        report(_describe(event))

    final = cfn.follow(target.stack_name, on_event, seen=seen, poll_s=poll_s)
    status = "DELETE_COMPLETE" if final is None else str(final.get("StackStatus"))
    if status != "DELETE_COMPLETE":
        cause = _first_failure(events)
        raise CtsiteError(
            f"{target.stack_name} was not deleted ({status})"
            + (f": {_describe(cause)}" if cause else ""),
            hint="remove what blocks it (see the reason), then destroy again",
        )
    return Outcome(target.stack_name, status, events)


# ---------------------------------------------------------------- one call per command


def cloudformation(client: ClientFactory, target: Target) -> CloudFormation:
    """CloudFormation in the target's region (the registry's is us-east-1)."""
    return CloudFormation(client, target.region or None)


def eb_costs(settings: Settings) -> list[CostLine] | None:
    """What the production Elastic Beanstalk environment costs a month, line by line
    (`estimate_costs` of a new one); None when the `provision_*` settings are bad."""
    from ctsite.deploy.provision import environments

    try:
        params = environments.stack_parameters(
            settings,
            environments.resolve_environment(settings, environments.PRODUCTION),
            "",
            environments.Network("", []),
        )
    except ConfigError:
        return None
    added = [Row("add", "Environment", "AWS::ElasticBeanstalk::Environment")]
    return estimate_costs(settings, added, params)


def eb_estimate(settings: Settings) -> float | None:
    """The production Elastic Beanstalk environment's monthly total, to compare the static
    site with; None when the `provision_*` settings are bad."""
    lines = eb_costs(settings)
    return None if lines is None else round(sum(c.monthly_usd for c in lines), 2)


def plan_environment(
    settings: Settings,
    target: Target,
    client: ClientFactory,
    report: Report = _quiet,
    traffic: Traffic | None = None,
) -> Plan:
    """Look up the platform and network, fill in the parameters and plan `target`'s stack.

    The static site's plan carries its running cost (`hosting`) for `traffic` (default: the
    `static_*` estimate), beside the Elastic Beanstalk site's.
    """
    from ctsite.deploy.provision import environments, static
    from ctsite.deploy.provision.static_cost import static_cost

    cfn = cloudformation(client, target)
    if target.template == environments.STATIC_TEMPLATE:
        params = static.stack_parameters(settings)
        text = environments.template_text(target.template)
        result = plan(cfn, settings, target.stack_name, text, params, report)
        result.hosting = static_cost(
            settings, traffic or Traffic.estimate(settings), eb_estimate(settings)
        )
        return result
    if target.template == environments.REGISTRY_TEMPLATE:
        params = {"RepositoryName": environments.repository_name(settings)}
        text = environments.template_text(target.template)
        return plan(cfn, settings, target.stack_name, text, params, report)
    report("looking up the Elastic Beanstalk platform and the default VPC")
    stack = settings.provision_solution_stack or environments.lookup_solution_stack(client)
    network = environments.lookup_network(client)
    shared = None if target.production else environments.shared_ids(cfn, client, settings)
    params = environments.stack_parameters(settings, target, stack, network, shared)
    text = environments.template_text()
    result = plan(cfn, settings, target.stack_name, text, params, report)
    result.alarms = alarm_tier(client, target, text, params)
    return result

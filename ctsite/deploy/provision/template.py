"""What every part of `provision check` shares: the template evaluated for known values, and
the `Difference` each check reports.

`resolve` evaluates a template fragment's Ref/If/Equals/Not/And/Or/Join/Sub for given parameter
values (plus any pseudo parameter or resource id the caller knows: AWS::AccountId, AWS::Region,
FileSystem); what needs a resource that only exists once the stack does is UNKNOWN.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ctsite.aws.cloudformation import Drift

UNKNOWN = object()  # a value only known once the stack exists (a resource's id or attribute)


@dataclasses.dataclass(frozen=True)
class Difference:
    """One way the live environment differs from the template, with the one line that fixes it."""

    what: str
    live: str
    expected: str
    fix: str

    def line(self) -> str:
        return (
            f"{self.what}: is {self.live or '(unset)'}, template says {self.expected} → {self.fix}"
        )


def drift_difference(drift: Drift, env: str) -> Difference:
    """One stack resource changed by hand (CloudFormation's drift detection), with its fix."""
    return Difference(
        f"stack resource {drift.logical_id} ({drift.resource_type})",
        drift.status.lower() + (": " + "; ".join(drift.differences) if drift.differences else ""),
        "as in the template",
        f"undo the manual change, or run `ctsite provision apply --env {env}`",
    )


def _condition(name: str, conditions: dict[str, Any], params: dict[str, str]) -> bool:
    return bool(resolve(conditions[name], params, conditions))


def resolve(value: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    """Evaluate a template fragment for `params`; UNKNOWN where it needs a created resource."""
    if isinstance(value, list):
        return [resolve(v, params, conditions) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: resolve(v, params, conditions) for k, v in value.items()}
    ((key, arg),) = value.items()
    if key == "Ref":
        if arg == "AWS::NoValue":
            return None
        if arg == "AWS::Partition":
            return "aws"
        return params.get(arg, UNKNOWN)
    if key == "Condition":
        return _condition(arg, conditions, params)
    if key == "Fn::If":
        name, yes, no = arg
        return resolve(yes if _condition(name, conditions, params) else no, params, conditions)
    if key == "Fn::Equals":
        a, b = (resolve(v, params, conditions) for v in arg)
        return str(a) == str(b)
    if key == "Fn::Not":
        return not resolve(arg[0], params, conditions)
    if key == "Fn::And":
        return all(resolve(v, params, conditions) for v in arg)
    if key == "Fn::Or":
        return any(resolve(v, params, conditions) for v in arg)
    if key == "Fn::Join":
        sep, items = arg
        parts = resolve(items, params, conditions)
        if isinstance(parts, str):
            parts = parts.split(",")
        return UNKNOWN if UNKNOWN in parts else sep.join(str(p) for p in parts)
    if key == "Fn::Sub" and isinstance(arg, str):
        text = arg.replace("${AWS::Partition}", "aws")
        for name, val in params.items():
            text = text.replace("${" + name + "}", val)
        return UNKNOWN if "${" in text else text
    if key.startswith("Fn::"):
        return UNKNOWN
    return {key: resolve(arg, params, conditions)}

"""CloudFormation adapter: stacks, change sets, stack events and drift, through a client factory.

No printing and no decisions: the provision workflow (`ctsite.deploy.provision`) decides what to
do with what this returns. Every botocore failure becomes one `CtsiteError` with a hint. Templates
are read with `load_template`, which understands the short intrinsic-function tags (`!Ref`,
`!Sub`, `!If`, ...) so a deployed template can be compared with a new one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import yaml

from ctsite.aws.clients import ClientFactory, aws_errors
from ctsite.errors import CtsiteError

CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
DONE = ("_COMPLETE", "_FAILED")
FAILED_STACK = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_FAILED",
    "UPDATE_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
    "IMPORT_ROLLBACK_FAILED",
}


@dataclasses.dataclass(frozen=True)
class StackEvent:
    """One line of a stack's history (newest events come first from AWS; we keep them in order)."""

    event_id: str
    timestamp: dt.datetime | None
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")


@dataclasses.dataclass(frozen=True)
class Change:
    """One resource change of a change set."""

    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # True | False | Conditional | "" (not a modify)


@dataclasses.dataclass(frozen=True)
class ChangeSet:
    id: str
    status: str
    reason: str
    changes: list[Change]

    @property
    def empty(self) -> bool:
        return self.status == "FAILED" and any(text in self.reason for text in NO_CHANGES)


@dataclasses.dataclass(frozen=True)
class Drift:
    logical_id: str
    resource_type: str
    status: str  # MODIFIED | DELETED | NOT_CHECKED | IN_SYNC
    differences: list[str]


def _tag_constructor(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's `!Tag` short forms."""


_TemplateLoader.add_multi_constructor("!", _tag_constructor)


def load_template(body: str | dict[str, Any]) -> dict[str, Any]:
    """A template (YAML or JSON text, or the dict boto3 parsed) as a plain dict."""
    if isinstance(body, dict):
        return body
    try:
        doc = yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CtsiteError(f"the CloudFormation template is not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or "Resources" not in doc:
        raise CtsiteError("the CloudFormation template has no Resources section")
    return doc


def _client_error_code(exc: BaseException) -> tuple[str, str]:
    response = getattr(exc, "response", None) or {}
    err = response.get("Error", {})
    return str(err.get("Code", "")), str(err.get("Message", ""))


class CloudFormation:
    """One region's CloudFormation (`region`; None: the configured one), through the factory."""

    def __init__(self, client: ClientFactory, region: str | None = None):
        self.client = client("cloudformation", region)

    # ------------------------------------------------------------ stacks
    def stack(self, name: str) -> dict[str, Any] | None:
        """The stack's description, or None if there is none (or only a deleted one)."""
        import botocore.exceptions

        with aws_errors(f"describe the stack {name!r}"):
            try:
                stacks = self.client.describe_stacks(StackName=name)["Stacks"]
            except botocore.exceptions.ClientError as exc:
                code, message = _client_error_code(exc)
                if code == "ValidationError" and "does not exist" in message:
                    return None
                raise
        live = [s for s in stacks if s.get("StackStatus") != "DELETE_COMPLETE"]
        return live[0] if live else None

    def deployed(self, name: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The stack's current template (as a dict) and parameter values."""
        with aws_errors(f"read the template of the stack {name!r}"):
            body = self.client.get_template(StackName=name, TemplateStage="Original")
            stack = self.client.describe_stacks(StackName=name)["Stacks"][0]
        params = {
            str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
            for p in stack.get("Parameters", [])
        }
        return load_template(body["TemplateBody"]), params

    def outputs(self, name: str) -> dict[str, str]:
        stack = self.stack(name)
        if stack is None:
            return {}
        return {str(o["OutputKey"]): str(o["OutputValue"]) for o in stack.get("Outputs") or []}

    def resources(self, name: str) -> dict[str, str]:
        """Logical id → physical id of the stack's resources."""
        found: dict[str, str] = {}
        with aws_errors(f"list the resources of the stack {name!r}"):
            for page in self.client.get_paginator("list_stack_resources").paginate(StackName=name):
                for r in page.get("StackResourceSummaries", []):
                    if r.get("LogicalResourceId"):
                        found[str(r["LogicalResourceId"])] = str(r.get("PhysicalResourceId", ""))
        return found

    def delete(self, name: str) -> None:
        with aws_errors(f"delete the stack {name!r}"):
            self.client.delete_stack(StackName=name)

    # ------------------------------------------------------------ change sets
    def create_change_set(
        self,
        stack: str,
        name: str,
        template: str,
        parameters: dict[str, str],
        create: bool,
        tags: dict[str, str] | None = None,
    ) -> str:
        with aws_errors(f"create a change set for the stack {stack!r}"):
            response = self.client.create_change_set(
                StackName=stack,
                ChangeSetName=name,
                TemplateBody=template,
                Parameters=[
                    {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                ],
                Capabilities=CAPABILITIES,
                ChangeSetType="CREATE" if create else "UPDATE",
                Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
            )
        return str(response["Id"])

    def change_set(
        self, change_set_id: str, poll_s: float = 2.0, timeout_s: float = 600
    ) -> ChangeSet:
        """Wait until the change set is computed; its status, reason and every change."""
        deadline = time.monotonic() + timeout_s
        while True:
            pages = self._change_set_pages(change_set_id)
            status = str(pages[0].get("Status", ""))
            if status in {"CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"}:
                break
            if time.monotonic() > deadline:
                raise CtsiteError(
                    f"the change set is still {status} after {timeout_s:.0f} s",
                    hint="look at it in the CloudFormation console",
                )
            time.sleep(poll_s)
        changes = []
        for page in pages:
            for item in page.get("Changes", []):
                rc = item.get("ResourceChange", {})
                changes.append(
                    Change(
                        action=str(rc.get("Action", "")),
                        logical_id=str(rc.get("LogicalResourceId", "")),
                        resource_type=str(rc.get("ResourceType", "")),
                        replacement=str(rc.get("Replacement", "")),
                    )
                )
        return ChangeSet(change_set_id, status, str(pages[0].get("StatusReason") or ""), changes)

    def _change_set_pages(self, change_set_id: str) -> list[dict[str, Any]]:
        with aws_errors("describe the change set"):
            pages = self.client.get_paginator("describe_change_set")
            return list(pages.paginate(ChangeSetName=change_set_id))

    def delete_change_set(self, change_set_id: str) -> None:
        with aws_errors("delete the change set"):
            self.client.delete_change_set(ChangeSetName=change_set_id)

    def execute_change_set(self, change_set_id: str) -> None:
        with aws_errors("execute the change set"):
            self.client.execute_change_set(ChangeSetName=change_set_id)

    # ------------------------------------------------------------ events
    def events(self, stack: str) -> list[StackEvent]:
        """Every event of the stack, oldest first."""
        found: list[StackEvent] = []
        with aws_errors(f"read the events of the stack {stack!r}"):
            for page in self.client.get_paginator("describe_stack_events").paginate(
                StackName=stack
            ):
                for e in page.get("StackEvents", []):
                    found.append(
                        StackEvent(
                            event_id=str(e.get("EventId", "")),
                            timestamp=e.get("Timestamp"),
                            logical_id=str(e.get("LogicalResourceId", "")),
                            resource_type=str(e.get("ResourceType", "")),
                            status=str(e.get("ResourceStatus", "")),
                            reason=str(e.get("ResourceStatusReason") or ""),
                        )
                    )
        found.reverse()
        return found

    def follow(
        self,
        stack: str,
        on_event: Callable[[StackEvent], None],
        seen: set[str] | None = None,
        poll_s: float = 5.0,
        timeout_s: float = 3600,
    ) -> dict[str, Any] | None:
        """Report new stack events until the stack settles; its final description (None: gone)."""
        seen = set() if seen is None else seen
        deadline = time.monotonic() + timeout_s
        while True:
            current = self.stack(stack)
            for event in self.events(stack) if current is not None else []:
                if event.event_id not in seen:
                    seen.add(event.event_id)
                    on_event(event)
            status = "" if current is None else str(current.get("StackStatus", ""))
            if current is None or (status.endswith(DONE) and "IN_PROGRESS" not in status):
                return current
            if time.monotonic() > deadline:
                raise CtsiteError(
                    f"the stack {stack!r} is still {status} after {timeout_s:.0f} s",
                    hint="follow it in the CloudFormation console; run `ctsite provision plan` later",
                )
            time.sleep(poll_s)

    # ------------------------------------------------------------ drift
    def drift(self, stack: str, poll_s: float = 3.0, timeout_s: float = 600) -> list[Drift]:
        """Run drift detection on the stack and return every resource that is not in sync."""
        with aws_errors(f"detect drift of the stack {stack!r}"):
            detection = self.client.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
        deadline = time.monotonic() + timeout_s
        while True:
            with aws_errors("read the drift detection status"):
                status = self.client.describe_stack_drift_detection_status(
                    StackDriftDetectionId=detection
                )
            if status.get("DetectionStatus") != "DETECTION_IN_PROGRESS":
                break
            if time.monotonic() > deadline:
                raise CtsiteError("drift detection did not finish", hint="retry later")
            time.sleep(poll_s)
        if status.get("DetectionStatus") == "DETECTION_FAILED":
            raise CtsiteError(
                f"drift detection failed: {status.get('DetectionStatusReason', '')}",
                hint="check the stack in the CloudFormation console",
            )
        drifts: list[Drift] = []
        token: str | None = None
        while True:
            args: dict[str, Any] = {
                "StackName": stack,
                "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
            }
            if token:
                args["NextToken"] = token
            with aws_errors("read the drifted resources"):
                page = self.client.describe_stack_resource_drifts(**args)
            for d in page.get("StackResourceDrifts", []):
                drifts.append(
                    Drift(
                        logical_id=str(d.get("LogicalResourceId", "")),
                        resource_type=str(d.get("ResourceType", "")),
                        status=str(d.get("StackResourceDriftStatus", "")),
                        differences=[
                            f"{p.get('PropertyPath')}: expected {p.get('ExpectedValue')}, "
                            f"actual {p.get('ActualValue')}"
                            for p in d.get("PropertyDifferences", [])
                        ],
                    )
                )
            token = page.get("NextToken")
            if not token:
                break
        return drifts

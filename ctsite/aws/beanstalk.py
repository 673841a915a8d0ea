"""Elastic Beanstalk with boto3: what `eb deploy` does, plus status, rollback and version pruning.

`Beanstalk(client, application, environment)` is built from a client factory (of
`ctsite.aws.clients`, or one over stubbed clients in tests); `environment()` is THE environment
lookup, `configuration_settings()` THE read of its option settings, `swap_cnames` the blue/green
URL swap; `solution_stacks` and `regions` describe the service itself. The steps of a deployment
are separate methods: the storage bucket (`create_storage_location`), the bundle upload, the
application version, `update_environment`, then `wait_until_healthy`, which polls the environment
and its event stream and hands every new event to a callback. Nothing here prints; failures raise
`CtsiteError` with the last error events in the message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ctsite.aws.clients import ClientFactory, aws_errors, error_code
from ctsite.aws.s3 import put_bytes
from ctsite.errors import CtsiteError

Event = dict[str, Any]
ERROR_SEVERITIES = {"ERROR", "FATAL"}
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
_LABEL_VALID = re.compile(r"^[A-Za-z0-9._+-]{1,100}$")


def version_label(version: str, commit: str, now: dt.datetime) -> str:
    """An application version label: `v<version>-<commit>-<UTC time>` (EB allows 100 chars)."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
    label = f"v{version}-{commit}-{stamp}"
    return _LABEL_UNSAFE.sub("-", label)[:100]


def check_label(label: str) -> str:
    """A valid application version label, or a clear error."""
    if not _LABEL_VALID.match(label):
        raise CtsiteError(
            f"invalid version label {label!r}",
            hint="use 1-100 letters, digits and . _ + - characters",
        )
    return label


@dataclasses.dataclass
class Outcome:
    """How a health wait ended."""

    environment: dict[str, Any]
    events: list[Event]


def _event_key(event: Event) -> tuple[Any, ...]:
    return (event.get("EventDate"), event.get("Message"), event.get("RequestId"))


def _health(env: dict[str, Any]) -> str:
    status = env.get("HealthStatus")
    return f"{env.get('Health', '?')}" + (f"/{status}" if status else "")


def _last_errors(events: list[Event], count: int = 3) -> str:
    errors = [e for e in events if e.get("Severity") in ERROR_SEVERITIES]
    if not errors:
        return "no error events"
    return "last errors: " + " | ".join(str(e.get("Message", "")).strip() for e in errors[-count:])


class Beanstalk:
    """One Elastic Beanstalk application and environment, through clients of the factory (its
    Elastic Beanstalk client, and S3 for the source bundles)."""

    def __init__(self, client: ClientFactory, application: str, environment: str):
        self.client = client
        self.eb = client("elasticbeanstalk")
        self.application = application
        self.environment_name = environment

    def application_exists(self) -> bool:
        with aws_errors(f"describe the application {self.application!r}"):
            apps = self.eb.describe_applications(ApplicationNames=[self.application])
        return any(a.get("ApplicationName") == self.application for a in apps["Applications"])

    # --- reading -------------------------------------------------------------------------
    def environment(self) -> dict[str, Any]:
        """The environment's description; a clear error if it does not exist."""
        with aws_errors(f"describe the Elastic Beanstalk environment {self.environment_name!r}"):
            found = self.eb.describe_environments(
                ApplicationName=self.application,
                EnvironmentNames=[self.environment_name],
                IncludeDeleted=False,
            )["Environments"]
        found = [e for e in found if e.get("EnvironmentName") == self.environment_name]
        if not found:
            raise self._not_found()
        return dict(found[0])

    def _not_found(self) -> CtsiteError:
        return CtsiteError(
            f"Elastic Beanstalk environment {self.environment_name!r} of application "
            f"{self.application!r} not found",
            hint="check eb_application, eb_environment and aws_region (`ctsite config`)",
        )

    def environments(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The named environments of the application that exist (deleted ones aside), by name."""
        found: dict[str, dict[str, Any]] = {}
        with aws_errors(f"describe the environments {' and '.join(names)}"):
            pages = self.eb.get_paginator("describe_environments").paginate(
                ApplicationName=self.application,
                EnvironmentNames=list(names),
                IncludeDeleted=False,
            )
            for page in pages:
                for env in page.get("Environments", []):
                    found[str(env["EnvironmentName"])] = dict(env)
        return found

    def configuration_settings(self) -> list[dict[str, Any]]:
        """The environment's configuration settings (each with its `OptionSettings`); a clear
        error when the environment does not exist."""
        import botocore.exceptions

        with aws_errors(f"read the option settings of {self.environment_name}"):
            try:
                found = self.eb.describe_configuration_settings(
                    ApplicationName=self.application, EnvironmentName=self.environment_name
                )
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) == "InvalidParameterValue" and "No Environment found" in str(
                    exc.response.get("Error", {}).get("Message", "")
                ):
                    raise self._not_found() from None
                raise
        return [dict(c) for c in found.get("ConfigurationSettings", [])]

    def versions(self) -> list[dict[str, Any]]:
        """The application versions, newest first."""
        found: list[dict[str, Any]] = []
        with aws_errors(f"list the application versions of {self.application!r}"):
            pages = self.eb.get_paginator("describe_application_versions").paginate(
                ApplicationName=self.application
            )
            for page in pages:
                found.extend(page.get("ApplicationVersions", []))
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(found, key=lambda v: v.get("DateCreated") or epoch, reverse=True)

    def version_exists(self, label: str) -> bool:
        with aws_errors(f"look up the application version {label!r}"):
            found = self.eb.describe_application_versions(
                ApplicationName=self.application, VersionLabels=[label]
            )
        return bool(found.get("ApplicationVersions"))

    def events(self, since: dt.datetime | None = None, limit: int | None = None) -> list[Event]:
        """The environment's events after `since` (inclusive), oldest first."""
        params: dict[str, Any] = {
            "ApplicationName": self.application,
            "EnvironmentName": self.environment_name,
        }
        if since is not None:
            params["StartTime"] = since
        if limit is not None:
            params["PaginationConfig"] = {"MaxItems": limit}
        found: list[Event] = []
        with aws_errors(f"read the events of environment {self.environment_name!r}"):
            for page in self.eb.get_paginator("describe_events").paginate(**params):
                found.extend(page.get("Events", []))
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(found, key=lambda e: e.get("EventDate") or epoch)

    # --- deploying -----------------------------------------------------------------------
    def storage_bucket(self) -> str:
        """The account's Elastic Beanstalk storage bucket (created by AWS if needed)."""
        with aws_errors("get the Elastic Beanstalk storage bucket (create_storage_location)"):
            return str(self.eb.create_storage_location()["S3Bucket"])

    def upload(self, bundle: Path, bucket: str, label: str) -> str:
        """Upload the bundle as `<application>/<label>.zip`; return the S3 key."""
        key = f"{self.application}/{label}.zip"
        put_bytes(self.client, bucket, key, bundle.read_bytes())
        return key

    def create_version(self, label: str, description: str, bucket: str, key: str) -> None:
        with aws_errors(f"create the application version {label!r}"):
            self.eb.create_application_version(
                ApplicationName=self.application,
                VersionLabel=label,
                Description=description[:200],
                SourceBundle={"S3Bucket": bucket, "S3Key": key},
                Process=False,
            )

    def publish(self, bundle: Path, label: str, description: str) -> str:
        """Storage bucket → upload → application version `label`; returns the bundle's S3 URL."""
        bucket = self.storage_bucket()
        key = self.upload(bundle, bucket, label)
        self.create_version(label, description, bucket, key)
        return f"s3://{bucket}/{key}"

    def update(self, label: str) -> dict[str, Any]:
        """Deploy `label` to the environment; returns the environment description."""
        with aws_errors(f"update environment {self.environment_name!r} to version {label!r}"):
            return dict(
                self.eb.update_environment(
                    ApplicationName=self.application,
                    EnvironmentName=self.environment_name,
                    VersionLabel=label,
                )
            )

    def wait_until_healthy(
        self,
        label: str,
        since: dt.datetime,
        timeout_s: float,
        poll_s: float = 5.0,
        on_event: Callable[[Event], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> Outcome:
        """Poll until the environment runs `label`, Ready and Green/Ok; raise on Red or timeout.

        Events after `since` are passed to `on_event` as they arrive (oldest first), each
        environment description to `on_poll`. A deployment
        fails when the environment is Ready again with Red/Severe health, or Ready on another
        version after error events (EB rolled the deployment back).
        """
        deadline = clock() + timeout_s
        seen: set[tuple[Any, ...]] = set()
        history: list[Event] = []
        cursor = since
        while True:
            for event in self.events(since=cursor):
                key = _event_key(event)
                if key in seen:
                    continue
                seen.add(key)
                history.append(event)
                if event.get("EventDate") and event["EventDate"] > cursor:
                    cursor = event["EventDate"]
                if on_event is not None:
                    on_event(event)
            env = self.environment()
            if on_poll is not None:
                on_poll(env)
            verdict = judge(env, label, history)
            if verdict == "healthy":
                return Outcome(env, history)
            if verdict != "waiting":
                raise CtsiteError(
                    f"deployment of {label} to {self.environment_name} failed: {verdict}; "
                    + _last_errors(history),
                    hint="see the events above and `ctsite status`; roll back with "
                    "`ctsite deploy --version <label>` (labels: `ctsite versions`)",
                )
            if clock() >= deadline:
                raise CtsiteError(
                    f"timed out after {timeout_s / 60:g} min waiting for {self.environment_name}"
                    f" (status {env.get('Status')}, health {_health(env)}, version "
                    f"{env.get('VersionLabel')}); " + _last_errors(history),
                    hint="the update may still be running: follow it with `ctsite status`, "
                    "or wait longer with --timeout",
                )
            sleep(poll_s)

    # --- pruning -------------------------------------------------------------------------
    def deployed_labels(self) -> set[str]:
        """Version labels running in any environment of the application."""
        with aws_errors(f"list the environments of {self.application!r}"):
            envs = self.eb.describe_environments(
                ApplicationName=self.application, IncludeDeleted=False
            )["Environments"]
        return {
            str(e["VersionLabel"])
            for e in envs
            if e.get("VersionLabel")
            and e.get("ApplicationName", self.application) == self.application
        }

    def prune_plan(
        self,
        keep: int,
        versions: list[dict[str, Any]] | None = None,
        deployed: set[str] | None = None,
    ) -> list[str]:
        """Labels to delete: all but the newest `keep`, never a deployed one.

        `versions` (newest first) and `deployed` are fetched unless the caller already has them.
        """
        if keep < 1:
            raise CtsiteError(f"--keep must be at least 1, got {keep}", hint="keep ≥ 1 versions")
        deployed = self.deployed_labels() if deployed is None else deployed
        versions = self.versions() if versions is None else versions
        labels = [str(v["VersionLabel"]) for v in versions]
        return [label for label in labels[keep:] if label not in deployed]

    # --- chores ---------------------------------------------------------------------------
    def request_tail(self) -> None:
        """Ask every instance to publish the last lines of its logs."""
        with aws_errors(f"request the tail logs of {self.environment_name!r}"):
            self.eb.request_environment_info(EnvironmentName=self.environment_name, InfoType="tail")

    def retrieve_tail(self) -> list[dict[str, Any]]:
        """Every published tail log (EnvironmentInfo entries)."""
        with aws_errors(f"retrieve the tail logs of {self.environment_name!r}"):
            return list(
                self.eb.retrieve_environment_info(
                    EnvironmentName=self.environment_name, InfoType="tail"
                ).get("EnvironmentInfo", [])
            )

    def wait_until_ready(self, timeout_s: float, poll_s: float = 5.0) -> dict[str, Any]:
        """Wait (boto3's `environment_updated` waiter) until the environment is Ready again;
        return its last description (kept from the waiter's own describe calls)."""
        import math

        import botocore.exceptions

        last: dict[str, Any] = {}

        def keep(parsed: dict[str, Any], **_: Any) -> None:
            for env in parsed.get("Environments", []):
                if env.get("EnvironmentName") == self.environment_name:
                    last.update(env)

        service = self.eb.meta.service_model.service_id.hyphenize()
        event = f"after-call.{service}.DescribeEnvironments"
        self.eb.meta.events.register(event, keep, unique_id="ctsite-wait-ready")
        attempts = max(1, math.ceil(timeout_s / poll_s))
        try:
            with aws_errors(f"wait for environment {self.environment_name!r} to be Ready"):
                try:
                    self.eb.get_waiter("environment_updated").wait(
                        ApplicationName=self.application,
                        EnvironmentNames=[self.environment_name],
                        IncludeDeleted=False,
                        WaiterConfig={"Delay": poll_s, "MaxAttempts": attempts},
                    )
                except botocore.exceptions.WaiterError as exc:
                    if (exc.last_response or {}).get("Error"):
                        raise  # an AWS error: aws_errors words it
                    raise CtsiteError(
                        f"{self.environment_name} is still {last.get('Status')} after "
                        f"{timeout_s:g} s",
                        hint="it may still be running; follow it with `ctsite events -f`",
                    ) from None
        finally:
            self.eb.meta.events.unregister(event, unique_id="ctsite-wait-ready")
        return dict(last) if last else self.environment()

    def environment_health(self) -> dict[str, Any]:
        """Enhanced health of the environment (describe_environment_health, all attributes)."""
        with aws_errors(f"read the health of environment {self.environment_name!r}"):
            return dict(
                self.eb.describe_environment_health(
                    EnvironmentName=self.environment_name, AttributeNames=["All"]
                )
            )

    def instances_health(self) -> list[dict[str, Any]]:
        """Enhanced health of every instance (describe_instances_health, all attributes)."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "EnvironmentName": self.environment_name,
            "AttributeNames": ["All"],
        }
        with aws_errors(f"read the instance health of {self.environment_name!r}"):
            while True:
                page = self.eb.describe_instances_health(**params)
                found.extend(page.get("InstanceHealthList", []))
                if not page.get("NextToken"):
                    return found
                params["NextToken"] = page["NextToken"]

    def version_lifecycle(self) -> dict[str, Any]:
        """The application's version lifecycle configuration ({} when none is set)."""
        with aws_errors(f"describe the application {self.application!r}"):
            apps = self.eb.describe_applications(ApplicationNames=[self.application])
        for app in apps.get("Applications", []):
            if app.get("ApplicationName") == self.application:
                return dict(app.get("ResourceLifecycleConfig") or {})
        return {}

    def set_version_lifecycle(self, keep: int, service_role: str | None) -> None:
        """Let Elastic Beanstalk keep the newest `keep` versions (and delete older bundles).

        `service_role` (an ARN) is needed only the first time; EB then remembers it.
        """
        config: dict[str, Any] = {
            "VersionLifecycleConfig": {
                "MaxCountRule": {"Enabled": True, "MaxCount": keep, "DeleteSourceFromS3": True},
                "MaxAgeRule": {"Enabled": False, "MaxAgeInDays": 180, "DeleteSourceFromS3": True},
            }
        }
        if service_role:
            config["ServiceRole"] = service_role
        with aws_errors(f"set the version lifecycle of {self.application!r} (keep {keep})"):
            self.eb.update_application_resource_lifecycle(
                ApplicationName=self.application, ResourceLifecycleConfig=config
            )

    def swap_cnames(self, other: str) -> None:
        """Exchange this environment's URL (CNAME) with `other`'s (EB blue/green)."""
        with aws_errors(f"swap the URLs of {self.environment_name} and {other}"):
            self.eb.swap_environment_cnames(
                SourceEnvironmentName=self.environment_name, DestinationEnvironmentName=other
            )

    def restart_app_server(self) -> None:
        with aws_errors(f"restart the app servers of {self.environment_name!r}"):
            self.eb.restart_app_server(EnvironmentName=self.environment_name)

    def delete_version(self, label: str) -> None:
        with aws_errors(f"delete the application version {label!r}"):
            self.eb.delete_application_version(
                ApplicationName=self.application, VersionLabel=label, DeleteSourceBundle=True
            )


def option_values(config: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(namespace, option name) → value of one configuration settings entry."""
    return {
        (str(o.get("Namespace")), str(o.get("OptionName"))): str(o.get("Value") or "")
        for o in config.get("OptionSettings", [])
    }


def solution_stacks(client: ClientFactory) -> list[str]:
    """The names of every solution stack (platform) Elastic Beanstalk offers in the region."""
    with aws_errors("list the Elastic Beanstalk solution stacks"):
        return [
            str(n)
            for n in client("elasticbeanstalk").list_available_solution_stacks()["SolutionStacks"]
        ]


def regions() -> list[str]:
    """The regions that have Elastic Beanstalk (botocore's endpoint data: no call is made)."""
    import boto3

    return list(boto3.session.Session().get_available_regions("elasticbeanstalk"))


def check_ready(env: dict[str, Any]) -> None:
    """Refuse to start a deployment while the environment is busy (EB would reject it)."""
    if env.get("Status") != "Ready":
        raise CtsiteError(
            f"environment {env.get('EnvironmentName')} is {env.get('Status')}, not Ready; "
            "another operation is in progress",
            hint="wait for it to finish (`ctsite status`), then deploy again",
        )


def judge(env: dict[str, Any], label: str, history: list[Event]) -> str:
    """`healthy`, `waiting`, or the reason the deployment failed."""
    status = env.get("Status")
    health = env.get("Health")
    health_status = env.get("HealthStatus")
    if status in {"Terminating", "Terminated"}:
        return f"the environment is {status}"
    if status != "Ready":
        return "waiting"
    if health == "Red" or health_status == "Severe":
        return f"the environment is Ready with health {_health(env)}"
    if env.get("VersionLabel") != label:
        if any(e.get("Severity") in ERROR_SEVERITIES for e in history):
            return f"the environment stayed on version {env.get('VersionLabel')}"
        return "waiting"
    if health == "Green" or health_status == "Ok":
        return "healthy"
    return "waiting"

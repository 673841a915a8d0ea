"""`ctsite ARGS` of whichever ctsite this Python imports, with Elastic Beanstalk answered by
botocore's Stubber from a small state kept in a JSON file; every other AWS service goes where
the environment points (moto's server in the tests).

moto does not implement Elastic Beanstalk's application versions, environment updates or events,
and a Stubber lives inside one process: the journey of a lab (tests/distribution/) runs the
ctsite installed from the wheel in its own virtualenv, so this script is run by THAT Python
(`python -P eb_stubbed_cli.py STATE -- ARGS`; -P keeps this folder off `sys.path`, and it imports
nothing from the tests). Each Elastic Beanstalk client ctsite makes gets a Stubber whose answer
to each call is queued just before the call, from the state: the environment runs
`running`; `create_application_version` and `update_environment` change it (the update is
Ready and Green at once, with one completion event). The state is written back at the end, so
`deploy` then `release --dry-run` see the same environment. Responses are checked against the
service model by the Stubber, as in the in-process deploy tests.

STATE (JSON): {"application", "environment", "region", "bucket", "running": label or null,
"versions": [labels], "lifecycle": {...}}.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # moto's default account


class Environment:
    """What the stub answers, from and into the state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.events: list[dict[str, Any]] = []

    def save(self) -> None:
        self.path.write_text(json.dumps(self.state, indent=1), encoding="utf-8")

    def description(self) -> dict[str, Any]:
        s = self.state
        now = dt.datetime.now(dt.UTC)
        described: dict[str, Any] = {
            "EnvironmentName": s["environment"],
            "EnvironmentId": "e-journey01",
            "ApplicationName": s["application"],
            "SolutionStackName": "64bit Amazon Linux 2023 v4.3.0 running Docker",
            "CNAME": f"{s['environment']}.{s['region']}.elasticbeanstalk.com",
            "DateCreated": now - dt.timedelta(days=1),
            "DateUpdated": now,
            "Status": "Ready",
            "AbortableOperationInProgress": False,
            "Health": "Green",
            "HealthStatus": "Ok",
            "Tier": {"Name": "WebServer", "Type": "Standard", "Version": "1.0"},
            "EnvironmentArn": (
                f"arn:aws:elasticbeanstalk:{s['region']}:{ACCOUNT}:environment/"
                f"{s['application']}/{s['environment']}"
            ),
        }
        if s.get("running"):
            described["VersionLabel"] = s["running"]
        return described

    def answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        s = self.state
        if operation == "DescribeApplications":
            app = {"ApplicationName": s["application"]}
            if s.get("lifecycle"):
                app["ResourceLifecycleConfig"] = s["lifecycle"]
            return {"Applications": [app]}
        if operation == "DescribeEnvironments":
            return {"Environments": [self.description()]}
        if operation == "CreateStorageLocation":
            return {"S3Bucket": s["bucket"]}
        if operation == "CreateApplicationVersion":
            label = params["VersionLabel"]
            s.setdefault("versions", []).append(label)
            return {
                "ApplicationVersion": {"ApplicationName": s["application"], "VersionLabel": label}
            }
        if operation == "DescribeApplicationVersions":
            wanted = params.get("VersionLabels") or s.get("versions", [])
            return {
                "ApplicationVersions": [
                    {
                        "ApplicationName": s["application"],
                        "VersionLabel": v,
                        "Status": "UNPROCESSED",
                    }
                    for v in s.get("versions", [])
                    if v in wanted
                ]
            }
        if operation == "UpdateApplicationResourceLifecycle":
            s["lifecycle"] = params["ResourceLifecycleConfig"]
            return {"ApplicationName": s["application"], "ResourceLifecycleConfig": s["lifecycle"]}
        if operation == "UpdateEnvironment":
            s["running"] = params["VersionLabel"]
            message = "Environment update completed successfully."
            self.events.append(
                {
                    "EventDate": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
                    "Message": message,
                    "ApplicationName": s["application"],
                    "EnvironmentName": s["environment"],
                    "RequestId": str(uuid.uuid4()),
                    "Severity": "INFO",
                }
            )
            return self.description()
        if operation == "DescribeEvents":
            return {"Events": list(reversed(self.events))}
        raise NotImplementedError(f"eb_stubbed_cli: no stubbed answer for {operation}")


def attach(client: Any, env: Environment) -> None:
    """Answer every call of this Elastic Beanstalk client from `env` (through a Stubber)."""
    from botocore import xform_name
    from botocore.stub import Stubber

    stubber = Stubber(client)

    def queue(params: dict[str, Any], model: Any, **_: Any) -> None:
        stubber.add_response(xform_name(model.name), env.answer(model.name, params))

    # provide-client-params comes before before-parameter-build, where the Stubber checks
    # each call against its queue
    client.meta.events.register("provide-client-params.elastic-beanstalk", queue)
    stubber.activate()


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] != "--":
        raise SystemExit("usage: python -P eb_stubbed_cli.py STATE.json -- CTSITE ARGS")
    env = Environment(Path(argv[0]))
    import ctsite.aws.clients as clients
    from ctsite.cli import main as ctsite_main

    real = clients.client

    def client(
        settings: Any, service: str, region: str | None = None, max_attempts: int | None = None
    ) -> Any:
        made = real(settings, service, region, max_attempts)
        if service == "elasticbeanstalk":
            attach(made, env)
        return made

    clients.client = client  # type: ignore[assignment]
    try:
        ctsite_main(argv[2:])
    finally:
        env.save()


if __name__ == "__main__":
    main(sys.argv[1:])

"""The suite's guard of "every AWS call lives in ctsite/aws/" (tests/support/aws_guard.py): a
call made by ctsite code outside ctsite/aws/ is refused and recorded, one made by an adapter or
by test code goes through, under a Stubber too."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from ctsite.aws.iam import identity
from ctsite.deploy.doctor import check_docker
from tests.support.aws_guard import Guard

REGION = "us-east-2"


def test_a_call_from_a_workflow_module_is_refused(aws_env: str, aws_guard: Guard) -> None:
    """The doctor's Docker check runs the probe it is given and turns any failure into a
    failed check: the refusal is still recorded (and would fail this test afterwards)."""
    s3 = boto3.client("s3", region_name=REGION)
    check = check_docker(ping=lambda: s3.list_buckets())
    assert not check.ok
    assert "every AWS call belongs in an adapter under ctsite/aws/" in check.detail
    (refused,) = aws_guard.violations
    assert "s3.ListBuckets made from ctsite/deploy/doctor.py:" in refused
    aws_guard.violations.clear()


def test_a_stubbed_client_is_guarded_too(aws_env: str, aws_guard: Guard) -> None:
    """The guard runs before a Stubber answers, so stubbed calls are checked like real ones."""
    eb = boto3.client("elasticbeanstalk", region_name=REGION)
    with Stubber(eb) as stub:
        stub.add_response("list_available_solution_stacks", {"SolutionStacks": []}, {})
        assert not check_docker(ping=eb.list_available_solution_stacks).ok
        (refused,) = aws_guard.violations
        assert "elasticbeanstalk.ListAvailableSolutionStacks" in refused
        aws_guard.violations.clear()
        assert eb.list_available_solution_stacks()["SolutionStacks"] == []  # from the test


def test_adapters_and_test_code_may_call(aws_env: str, aws_guard: Guard) -> None:
    made: dict[str, Any] = {}

    def factory(service: str, region: str | None = None, max_attempts: int | None = None) -> Any:
        return made.setdefault(service, boto3.client(service, region_name=region or REGION))

    assert identity(factory)["Account"]  # ctsite/aws/iam.py
    assert "Account" in factory("sts").get_caller_identity()  # this test itself
    assert aws_guard.violations == []

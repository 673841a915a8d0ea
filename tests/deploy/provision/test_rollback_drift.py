"""A failing resource: CloudFormation's reason and its rollback reach the user as one clear
error. moto does not roll back (a failing resource makes its ExecuteChangeSet return an error),
so this path runs on a real CloudFormation client under botocore's Stubber, with responses
shaped like the real service's. Drift detection (not in moto) likewise."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ctsite.aws.cloudformation import CloudFormation
from ctsite.deploy.provision import stack
from ctsite.errors import CtsiteError
from tests.support.factories import serving

STACK = "ctsite-staging"
STACK_ID = f"arn:aws:cloudformation:us-east-2:111122223333:stack/{STACK}/0d1c-4e"
CS_ID = "arn:aws:cloudformation:us-east-2:111122223333:changeSet/ctsite-x/9f8e"
T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _event(n: int, logical: str, kind: str, status: str, reason: str = "") -> dict:
    event = {
        "StackId": STACK_ID,
        "EventId": f"e{n}",
        "StackName": STACK,
        "LogicalResourceId": logical,
        "ResourceType": kind,
        "Timestamp": T0 + dt.timedelta(seconds=n),
        "ResourceStatus": status,
    }
    if reason:
        event["ResourceStatusReason"] = reason
    return event


def _stack(status: str) -> dict:
    return {
        "Stacks": [
            {
                "StackId": STACK_ID,
                "StackName": STACK,
                "CreationTime": T0,
                "StackStatus": status,
            }
        ]
    }


@pytest.fixture
def cf():
    client = boto3.client(
        "cloudformation", region_name="us-east-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_failed_create_reports_the_reason_and_the_rollback(cf: Stubber) -> None:
    failing = stack.Plan(STACK, True, False, [], [], [], CS_ID)
    history = [_event(1, STACK, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")]
    cf.add_response("describe_stack_events", {"StackEvents": history}, {"StackName": STACK})
    cf.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID})
    later = [
        _event(6, STACK, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE"),
        _event(5, "Environment", "AWS::ElasticBeanstalk::Environment", "DELETE_COMPLETE"),
        _event(
            4,
            STACK,
            "AWS::CloudFormation::Stack",
            "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [Environment].",
        ),
        _event(
            3,
            "Environment",
            "AWS::ElasticBeanstalk::Environment",
            "CREATE_FAILED",
            "Resource handler returned message: \"Invalid option value: 't9.huge' "
            "(Namespace: 'aws:ec2:instances', OptionName: 'InstanceTypes')\"",
        ),
        _event(2, STACK, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
        *history,
    ]
    cf.add_response("describe_stacks", _stack("ROLLBACK_IN_PROGRESS"), {"StackName": STACK})
    cf.add_response("describe_stack_events", {"StackEvents": later[2:]}, {"StackName": STACK})
    cf.add_response("describe_stacks", _stack("ROLLBACK_COMPLETE"), {"StackName": STACK})
    cf.add_response("describe_stack_events", {"StackEvents": later}, {"StackName": STACK})
    lines: list[str] = []
    with pytest.raises(CtsiteError) as caught:
        stack.apply(CloudFormation(serving(cf.client)), failing, report=lines.append, poll_s=0.01)
    message = str(caught.value)
    assert "Environment (AWS::ElasticBeanstalk::Environment) CREATE_FAILED" in message
    assert "t9.huge" in message and "rolled back (ROLLBACK_COMPLETE)" in message
    assert "destroy" in (caught.value.hint or "")
    assert [line.split()[0] for line in lines] == [
        STACK,
        "Environment",
        STACK,
        "Environment",
        STACK,
    ]


def test_drift_lists_modified_resources(cf: Stubber) -> None:
    cf.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-1"}, {"StackName": STACK})
    status = {
        "StackId": STACK_ID,
        "StackDriftDetectionId": "d-1",
        "DetectionStatus": "DETECTION_COMPLETE",
        "StackDriftStatus": "DRIFTED",
        "Timestamp": T0,
    }
    cf.add_response(
        "describe_stack_drift_detection_status",
        {**status, "DetectionStatus": "DETECTION_IN_PROGRESS"},
        {"StackDriftDetectionId": "d-1"},
    )
    cf.add_response(
        "describe_stack_drift_detection_status", status, {"StackDriftDetectionId": "d-1"}
    )
    cf.add_response(
        "describe_stack_resource_drifts",
        {
            "StackResourceDrifts": [
                {
                    "StackId": STACK_ID,
                    "LogicalResourceId": "FileSystem",
                    "ResourceType": "AWS::EFS::FileSystem",
                    "StackResourceDriftStatus": "MODIFIED",
                    "Timestamp": T0,
                    "PropertyDifferences": [
                        {
                            "PropertyPath": "/LifecyclePolicies/0/TransitionToIA",
                            "ExpectedValue": "AFTER_14_DAYS",
                            "ActualValue": "AFTER_30_DAYS",
                            "DifferenceType": "NOT_EQUAL",
                        }
                    ],
                }
            ]
        },
        {"StackName": STACK, "StackResourceDriftStatusFilters": ANY},
    )
    (drift,) = CloudFormation(serving(cf.client)).drift(STACK, poll_s=0.01)
    assert (drift.logical_id, drift.status) == ("FileSystem", "MODIFIED")
    assert drift.differences == [
        "/LifecyclePolicies/0/TransitionToIA: expected AFTER_14_DAYS, actual AFTER_30_DAYS"
    ]


def test_aws_errors_become_one_line(cf: Stubber) -> None:
    cf.add_client_error(
        "describe_stacks",
        "AccessDenied",
        "User is not authorized",
        expected_params={"StackName": STACK},
    )
    with pytest.raises(CtsiteError, match="AWS AccessDenied") as caught:
        CloudFormation(serving(cf.client)).stack(STACK)
    assert "permission" in (caught.value.hint or "")


def test_a_missing_stack_is_none_on_moto(aws_env: str) -> None:
    """moto's CloudFormation answers a stack it does not have as AWS does (ValidationError,
    'Stack with id … does not exist'): no stack, not an error."""
    client = boto3.client("cloudformation", region_name="us-east-2")
    assert CloudFormation(serving(client)).stack(STACK) is None

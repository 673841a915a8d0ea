"""The IAM reads against moto's IAM: a missing role or inline policy is None, not an error;
`role_arn` names the setting to fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ctsite.aws import iam
from ctsite.errors import CtsiteError

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def test_a_role_its_policies_and_its_arn(moto_clients: Any) -> None:
    client = moto_clients("iam")
    made = client.create_role(RoleName="site", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    arn = "arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier"
    client.create_policy(PolicyName="own", PolicyDocument=json.dumps(POLICY))
    account = iam.identity(moto_clients)["Account"]
    own = f"arn:aws:iam::{account}:policy/own"
    client.attach_role_policy(RoleName="site", PolicyArn=own)
    client.put_role_policy(RoleName="site", PolicyName="inline", PolicyDocument=json.dumps(POLICY))
    role = iam.role(moto_clients, "site")
    assert role is not None and role["Arn"] == made["Arn"]
    assert iam.attached_policies(moto_clients, "site") == {own}
    assert iam.inline_policy(moto_clients, "site", "inline") is not None
    assert iam.inline_policy(moto_clients, "site", "other") is None
    assert iam.role_arn(moto_clients, "site") == made["Arn"]
    assert iam.role_arn(moto_clients, arn) == arn  # an ARN is returned unchanged


def test_a_missing_role(moto_clients: Any) -> None:
    assert iam.role(moto_clients, "nobody") is None
    with pytest.raises(CtsiteError) as caught:
        iam.role_arn(moto_clients, "nobody", "transfer_user_role")
    assert caught.value.message == "IAM role 'nobody' not found"
    assert "CTSITE_TRANSFER_USER_ROLE" in (caught.value.hint or "")
    with pytest.raises(CtsiteError, match="could not list the policies of the IAM role nobody"):
        iam.attached_policies(moto_clients, "nobody")

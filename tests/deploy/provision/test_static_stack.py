"""`ctsite provision plan|apply|check|destroy --env static` against moto's server: the plan's
change set and its monthly cost (text and JSON) beside the Elastic Beanstalk site's, the S3
bucket moto creates from the template (moto's CloudFormation skips the AWS::CloudFront::*
resources, which test_static_template.py checks), `check` on that bucket, `destroy` keeping
it, and bad input as one line and a non-zero exit."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ctsite.aws.cloudformation import CloudFormation
from ctsite.cli import app
from ctsite.config import load_settings
from ctsite.deploy.provision import environments, static

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ARN = "arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
CLOUDFRONT = {
    "OriginAccessControl": "AWS::CloudFront::OriginAccessControl",
    "HashedCachePolicy": "AWS::CloudFront::CachePolicy",
    "PagesCachePolicy": "AWS::CloudFront::CachePolicy",
    "PagesFunction": "AWS::CloudFront::Function",
    "Distribution": "AWS::CloudFront::Distribution",
}


def invoke(clients: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj={"aws_client": clients}, env={"COLUMNS": "200"})


def test_plan_json_prices_the_static_site_beside_eb(project: Path, clients: Any) -> None:
    result = invoke(clients, "provision", "plan", "--env", "static", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["stack"] == "ctsite-static" and doc["new_stack"]
    added = {c["logical_id"]: c["resource_type"] for c in doc["changes"] if c["action"] == "add"}
    assert added == {
        "Bucket": "AWS::S3::Bucket",
        "BucketPolicy": "AWS::S3::BucketPolicy",
        **CLOUDFRONT,
    }
    hosting = doc["hosting"]
    assert doc["monthly_usd"] == hosting["monthly_usd"] == 0.04  # test_static_cost's sum
    assert hosting["list_usd"] == 1.72 and hosting["eb_monthly_usd"] == 19.43
    assert hosting["traffic"]["views"] == 10_000
    assert "CloudFront's always-free tier counted" in hosting["free_tier"]
    # a plan leaves nothing behind
    cf = clients("cloudformation")
    live = [x for x in cf.list_stacks()["StackSummaries"] if x["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []


def test_plan_text_states_both_figures(project: Path, clients: Any) -> None:
    (project / "ctsite.toml").write_text(
        (project / "ctsite.toml").read_text() + "[static]\nmonthly_views = 20000\n"
    )
    result = invoke(clients, "provision", "plan", "--env", "static")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "create stack ctsite-static" in text
    assert "traffic: 20,000 page views a month × 10 requests and 2.00 MB each (estimate" in text
    assert "static site ≈ $0.08/month with CloudFront's always-free tier counted" in text
    assert "S3's 12-month free tier not assumed" in text
    assert "$3.45/month at list prices without any free tier" in text
    assert "Elastic Beanstalk site (one environment, price_* settings) ≈ $19.43/month" in text


def test_apply_check_and_destroy_the_bucket(project: Path, clients: Any) -> None:
    asked = invoke(clients, "provision", "apply", "--env", "static")  # no terminal, no --yes
    assert asked.exit_code != 0 and "pass --yes" in str(asked.exception)
    assert CloudFormation(clients).stack("ctsite-static") is None  # the plan is discarded
    result = invoke(clients, "provision", "apply", "--env", "static", "--yes", "--poll", "0.05")
    assert result.exit_code == 0, result.output
    assert "ctsite-static is CREATE_COMPLETE" in result.output
    cfn = CloudFormation(clients)
    bucket = cfn.resources("ctsite-static")["Bucket"]
    assert f"BucketName: {bucket}" in result.output
    s3 = clients("s3")
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)

    again = invoke(clients, "provision", "plan", "--env", "static")
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert "static site ≈ $0.04/month" in " ".join(again.output.split())

    # moto's CloudFormation sets neither the public access block nor the bucket policy (it has
    # no model of them): check says so, each with its fix; then a hand-made change
    checked = invoke(clients, "provision", "check", "--env", "static")
    assert checked.exit_code == 1, checked.exception
    lines = " ".join(checked.output.split())
    assert "differs from the template" in str(checked.exception), checked.exception
    flags = "BlockPublicAcls=true,BlockPublicPolicy=true,IgnorePublicAcls=true,RestrictPublicBuckets=true"
    assert (
        f"S3 {bucket} public access block: is none, template says every public access blocked → "
        f"aws s3api put-public-access-block --bucket {bucket} "
        f"--public-access-block-configuration {flags}"
    ) in lines
    assert f"S3 {bucket} policy: is 0 Allow statement(s)" in lines
    assert "versioning" not in lines and "encryption" not in lines
    # moto's drift detection fails on a stack with resources it has no model of: said, too
    assert "stack ctsite-static drift: is not detected (could not detect drift" in lines
    assert "ctsite-static differs from the template in 3 place(s)" in str(checked.exception)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    checked = invoke(clients, "provision", "check", "--env", "static")
    lines = " ".join(checked.output.split())
    assert f"S3 {bucket} versioning: is Enabled, template says off" in lines
    assert f"aws s3api put-bucket-versioning --bucket {bucket}" in lines

    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<html></html>")
    gone = invoke(clients, "provision", "destroy", "--env", "static", "--yes", "--poll", "0.05")
    assert gone.exit_code == 0, gone.output
    assert "DELETE_COMPLETE" in gone.output and f"the bucket {bucket} is kept" in gone.output
    assert cfn.stack("ctsite-static") is None
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"<html></html>"


def _template_statement(bucket: str, distribution_arn: str) -> dict[str, Any]:
    """The template's bucket policy statement for `bucket` and the distribution."""
    from ctsite.aws.cloudformation import load_template

    doc = load_template(environments.template_text(environments.STATIC_TEMPLATE))
    (statement,) = doc["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    return {
        **statement,
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def test_check_bucket_finds_each_difference(clients: Any) -> None:
    """A bucket made as the template says matches; each way of opening it up is one line."""
    from ctsite.deploy.provision.static_check import check_bucket

    s3 = clients("s3")
    bucket = "ctsite-static-site-check"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"],
            True,
        ),
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    arn = "arn:aws:cloudfront::123456789012:distribution/E1EXAMPLE"
    ours = _template_statement(bucket, arn)
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [ours]})
    )
    assert check_bucket(clients, bucket, arn) == []
    # another distribution's ARN is not this one's
    assert [d.what for d in check_bucket(clients, bucket, arn + "2")] == [f"S3 {bucket} policy"]

    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": f"arn:aws:s3:::{bucket}/*"}  # fmt: skip
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [ours, public]})
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(  # the distribution could not read it: OAC signs no KMS use here
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    found = {d.what: d for d in check_bucket(clients, bucket, arn)}
    assert set(found) == {
        f"S3 {bucket} policy",
        f"S3 {bucket} versioning",
        f"S3 {bucket} default encryption",
    }
    assert found[f"S3 {bucket} policy"].live.startswith("2 Allow statement(s)")
    assert (
        found[f"S3 {bucket} default encryption"]
        .line()
        .startswith(
            f"S3 {bucket} default encryption: is aws:kms, template says AES256 → "
            f"aws s3api put-bucket-encryption --bucket {bucket}"
        )
    )


def test_check_without_the_stack_is_one_line(project: Path, clients: Any) -> None:
    result = invoke(clients, "provision", "check", "--env", "static")
    assert result.exit_code != 0
    assert "no stack ctsite-static" in str(result.exception)


def test_the_static_stack_is_its_own(project: Path) -> None:
    s = load_settings(root=project, overrides={"provision_stack_prefix": "lab"})
    target = environments.resolve_stack(s, "static")
    assert (target.stack_name, target.template, target.production) == (
        "lab-static",
        "static.yaml",
        False,
    )
    assert target.eb_environment == "" and target.region == ""  # CloudFront is global
    assert environments.resolve_stack(s, "staging").template == "ctsite.yaml"


@pytest.mark.parametrize(
    ("config", "args", "error"),
    [
        (
            '[static]\ndomain = "atlas.example.org"\n',
            ["--env", "static"],
            "error: static_domain and static_certificate_arn go together: "
            "static_certificate_arn is not set",
        ),
        (
            f'[static]\ndomain = "atlas..example.org"\ncertificate_arn = "{ARN}"\n',
            ["--env", "static"],
            "error: static_domain 'atlas..example.org' is not a domain name",
        ),
        (
            '[static]\ndomain = "atlas.example.org"\n'
            f'certificate_arn = "{ARN.replace("us-east-1", "eu-west-1")}"\n',
            ["--env", "static"],
            "error: static_certificate_arn is in eu-west-1: CloudFront reads certificates "
            "only from us-east-1",
        ),
        (
            "",
            ["--env", "not an env"],
            "error: 'not an env' is not an environment: use production, staging, static, "
            "registry or an EB environment name",
        ),
        ("", ["--env", "static", "--export", "."], "error: "),
        ("", ["--export", "."], "error: --export prices the static site: add --env static"),
        ("[static]\nmonthly_views = -1\n", ["--env", "static"], "error: "),
    ],
)
def test_bad_input_is_one_line_and_nothing_made(
    project: Path, aws_env: str, config: str, args: list[str], error: str
) -> None:
    from tests.support.cli import cli_env, run_ctsite

    (project / "ctsite.toml").write_text((project / "ctsite.toml").read_text() + config)
    done = run_ctsite("provision", "plan", *args, cwd=project, env=cli_env(COLUMNS="200"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith(error), done.stderr
    import boto3

    cf = boto3.client("cloudformation", region_name="us-east-2")
    assert cf.list_stacks()["StackSummaries"] == []


def test_plan_prices_an_export_folder(project: Path, clients: Any, export_folder: Path) -> None:
    """--export prices the views of a real export (test_static_cost checks its numbers)."""
    result = invoke(
        clients, "provision", "plan", "--env", "static", "--export", str(export_folder), "--json"
    )
    assert result.exit_code == 0, result.output
    traffic = json.loads(result.stdout)["hosting"]["traffic"]
    s = load_settings(root=project)
    assert traffic == dataclasses.asdict(static.export_traffic(s, export_folder))
    assert traffic["source"] == str(export_folder) and traffic["requests_per_view"] > 1


def test_a_bad_plan_with_json_is_one_json_error(project: Path, aws_env: str) -> None:
    """`provision plan --json` answers in one JSON document on a refusal too (a script parses
    stdout): it printed the error as text and left stdout empty."""
    from tests.support.cli import cli_env, run_ctsite

    (project / "ctsite.toml").write_text(
        (project / "ctsite.toml").read_text() + '[static]\ndomain = "atlas..example.org"\n'
    )
    done = run_ctsite(
        "provision", "plan", "--env", "static", "--json", cwd=project, env=cli_env(COLUMNS="200")
    )
    assert done.returncode == 2, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["error"] == "static_domain 'atlas..example.org' is not a domain name"
    assert "[static] domain" in answer["hint"]

"""The static site's CloudFront resources, as the API takes them: moto's CloudFormation creates no
AWS::CloudFront::* resource, so the template's own properties (`static.yaml`, resolved for the
default parameters and for a domain) are sent as the equivalent CloudFront API calls — the origin
access control, the distribution and an invalidation of publish-site's page paths directly
against moto's CloudFront, read back; the cache policies and the function (which moto's
CloudFront lacks) through botocore's Stubber, so botocore checks each against the service model.

CloudFormation writes CloudFront lists plainly where the API wraps them as {Quantity, Items}
and nests CachedMethods inside AllowedMethods; `api_shape` does that translation, nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from ctsite.aws.cloudformation import load_template
from ctsite.deploy.provision import environments
from ctsite.deploy.provision.template import UNKNOWN, resolve

ARN = "arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
STACK = "ctsite-static"
KNOWN = {"AWS::AccountId": "111122223333", "AWS::Region": "us-east-2", "AWS::StackName": STACK}
# CloudFormation list properties the CloudFront API wraps as {"Quantity": n, "Items": [...]}
WRAPPED = {
    "Aliases",
    "Origins",
    "CacheBehaviors",
    "CustomErrorResponses",
    "FunctionAssociations",
    "AllowedMethods",
    "CachedMethods",
}
RENAMED = {  # CloudFormation's spelling → the API's
    "IPV6Enabled": "IsIPV6Enabled",
    "AcmCertificateArn": "ACMCertificateArn",
    "SslSupportMethod": "SSLSupportMethod",
}
PAGE_PATHS = ["/", "/index.html", "/404.html", "/circos*", "/pairwise*", "/effects*"]


def _with_attributes(value: Any) -> Any:
    """Each Fn::GetAtt [Resource, Attr] as a Ref to "Resource.Attr" (so `resolve` takes it)."""
    if isinstance(value, list):
        return [_with_attributes(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"}:
            resource, attribute = value["Fn::GetAtt"]
            return {"Ref": f"{resource}.{attribute}"}
        return {k: _with_attributes(v) for k, v in value.items()}
    return value


def resolved(logical_id: str, known: dict[str, str], **params: str) -> dict[str, Any]:
    """A resource's properties, every value known (made resources' ids passed in `known`)."""
    doc = load_template(environments.template_text(environments.STATIC_TEMPLATE))
    values = {k: str(v.get("Default", "")) for k, v in doc["Parameters"].items()}
    values.update(KNOWN, **known, **params)
    props = resolve(
        _with_attributes(doc["Resources"][logical_id]["Properties"]), values, doc["Conditions"]
    )

    def check(value: Any, where: str) -> None:
        assert value is not UNKNOWN, f"{logical_id}: {where} is unknown"
        if isinstance(value, dict):
            for k, v in value.items():
                check(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                check(v, f"{where}[{i}]")

    check(props, logical_id)
    return props


def api_shape(value: Any) -> Any:
    """CloudFormation's CloudFront properties as the CloudFront API takes them."""
    if isinstance(value, list):
        return [api_shape(v) for v in value]
    if not isinstance(value, dict):
        return value
    shaped: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:  # AWS::NoValue
            continue
        if key in WRAPPED:
            items = api_shape(item)
            shaped[key] = {"Quantity": len(items), "Items": items}
        else:
            shaped[RENAMED.get(key, key)] = api_shape(item)
    if "CachedMethods" in shaped and "AllowedMethods" in shaped:
        shaped["AllowedMethods"]["CachedMethods"] = shaped.pop("CachedMethods")
    if "ResponseCode" in shaped:
        shaped["ResponseCode"] = str(shaped["ResponseCode"])  # a string in the API
    return shaped


def stubbed(service: str) -> tuple[Any, Stubber]:
    import boto3

    client = boto3.client(service, region_name="us-east-1")
    return client, Stubber(client)


def made_policy_and_function() -> dict[str, str]:
    """The two cache policies and the function, each create call checked by botocore against
    CloudFront's model (Stubber; moto has no such API); their ids and ARN as CloudFront answers."""
    cloudfront, stub = stubbed("cloudfront")
    made: dict[str, str] = {}
    with stub:
        for logical_id, policy_id in (
            ("HashedCachePolicy", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"),
            ("PagesCachePolicy", "658327ea-f89d-4fab-a63d-7e88639e58f6"),
        ):
            config = api_shape(resolved(logical_id, {})["CachePolicyConfig"])
            answer = {"CachePolicy": {"Id": policy_id, "LastModifiedTime": "2026-12-04T00:00:00Z",
                                      "CachePolicyConfig": config}, "ETag": "E1", "Location": "x"}  # fmt: skip
            stub.add_response("create_cache_policy", answer, {"CachePolicyConfig": config})
            got = cloudfront.create_cache_policy(CachePolicyConfig=config)
            made[logical_id] = got["CachePolicy"]["Id"]
        function = resolved("PagesFunction", {})
        arn = f"arn:aws:cloudfront::111122223333:function/{function['Name']}"
        call = {
            "Name": function["Name"],
            "FunctionConfig": api_shape(function["FunctionConfig"]),
            "FunctionCode": function["FunctionCode"].encode(),
        }
        summary = {
            "Name": function["Name"],
            "Status": "UNPUBLISHED",
            "FunctionConfig": call["FunctionConfig"],
            "FunctionMetadata": {"FunctionARN": arn, "LastModifiedTime": "2026-12-04T00:00:00Z"},
        }
        stub.add_response("create_function", {"FunctionSummary": summary, "ETag": "E1"}, call)
        made["PagesFunction.FunctionMetadata.FunctionARN"] = cloudfront.create_function(**call)[
            "FunctionSummary"
        ]["FunctionMetadata"]["FunctionARN"]
    return made


@pytest.mark.parametrize("domain", ["", "atlas.example.org"])
def test_the_template_as_cloudfront_api_calls(moto_clients: Any, domain: str) -> None:
    cloudfront = moto_clients("cloudfront")
    params = {"DomainName": domain, "CertificateArn": ARN if domain else ""}
    oac = resolved("OriginAccessControl", {})["OriginAccessControlConfig"]
    oac_id = cloudfront.create_origin_access_control(OriginAccessControlConfig=oac)[
        "OriginAccessControl"
    ]["Id"]
    read = cloudfront.get_origin_access_control(Id=oac_id)["OriginAccessControl"]
    assert read["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert read["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"

    known = {
        **made_policy_and_function(),
        "OriginAccessControl.Id": oac_id,
        "Bucket.RegionalDomainName": "ctsite-static-bucket-1.s3.us-east-2.amazonaws.com",
    }
    config = api_shape(resolved("Distribution", known, **params)["DistributionConfig"])
    config["CallerReference"] = f"{STACK}-{domain or 'default'}"  # CloudFormation adds one
    made = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    back = cloudfront.get_distribution_config(Id=made["Id"])["DistributionConfig"]
    assert made["DomainName"].endswith(".cloudfront.net")

    # moto keeps neither an origin's OriginAccessControlId nor a behaviour's function
    # associations: those are read from the call botocore accepted
    (sent,) = config["Origins"]["Items"]
    assert sent["OriginAccessControlId"] == oac_id and sent["S3OriginConfig"] == {
        "OriginAccessIdentity": ""
    }
    (function,) = config["DefaultCacheBehavior"]["FunctionAssociations"]["Items"]
    assert function == {
        "EventType": "viewer-request",
        "FunctionARN": known["PagesFunction.FunctionMetadata.FunctionARN"],
    }
    (origin,) = back["Origins"]["Items"]
    assert origin["DomainName"] == known["Bucket.RegionalDomainName"]
    assert back["DefaultRootObject"] == "index.html"
    default = back["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https" and default["Compress"]
    assert default["CachePolicyId"] == known["PagesCachePolicy"]
    hashed = {b["PathPattern"]: b["CachePolicyId"] for b in back["CacheBehaviors"]["Items"]}
    assert hashed == dict.fromkeys(["static/*", "data/*", "pictures/*"], known["HashedCachePolicy"])
    errors = {e["ErrorCode"]: e["ResponsePagePath"] for e in back["CustomErrorResponses"]["Items"]}
    assert errors == {403: "/404.html", 404: "/404.html"}
    if domain:
        assert back["Aliases"]["Items"] == [domain]
        assert back["ViewerCertificate"]["ACMCertificateArn"] == ARN
    else:
        assert back["Aliases"]["Quantity"] == 0
        assert back["ViewerCertificate"]["CloudFrontDefaultCertificate"]

    # what publish-site asks after switching the pages: an invalidation of the page paths only
    batch = {"Paths": {"Quantity": len(PAGE_PATHS), "Items": PAGE_PATHS}, "CallerReference": "p1"}
    invalidation = cloudfront.create_invalidation(
        DistributionId=made["Id"], InvalidationBatch=batch
    )
    got = cloudfront.get_invalidation(
        DistributionId=made["Id"], Id=invalidation["Invalidation"]["Id"]
    )
    assert got["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == PAGE_PATHS

"""The static site's template (`static.yaml`): cfn-lint clean and, since moto's CloudFormation
creates no AWS::CloudFront::* resource, its properties asserted one by one: a private encrypted
bucket that only this distribution may read (origin access control, sigv4, an AWS:SourceArn
condition), HTTPS only, compression, long TTLs on the content-hashed folders and short ones on
pages, the 404 page, the optional alias and certificate, and the CloudFront Function's mapping
run in Node against sample requests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ctsite.aws.cloudformation import load_template
from ctsite.config import load_settings
from ctsite.deploy.provision import environments, static
from ctsite.deploy.provision.template import resolve
from ctsite.errors import ConfigError
from tests.support.components import unavailable

TEMPLATE = Path(environments.__file__).parent / "templates" / environments.STATIC_TEMPLATE
ARN = "arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
KNOWN = {"AWS::AccountId": "111122223333", "AWS::Region": "us-east-2"}
YEAR = 365 * 24 * 3600


def _doc() -> dict[str, Any]:
    return load_template(environments.template_text(environments.STATIC_TEMPLATE))


def _resolved(logical_id: str, **params: str) -> dict[str, Any]:
    """A resource's properties for the given parameter values (defaults otherwise)."""
    doc = _doc()
    values = {k: str(v.get("Default", "")) for k, v in doc["Parameters"].items()}
    values.update(KNOWN, **params)
    return resolve(doc["Resources"][logical_id]["Properties"], values, doc["Conditions"])


def _config(**params: str) -> dict[str, Any]:
    return _resolved("Distribution", **params)["DistributionConfig"]


def test_cfn_lint_passes_and_the_template_is_package_data() -> None:
    from cfnlint.api import lint_file

    matches = lint_file(TEMPLATE)
    assert matches == [], "\n".join(str(m) for m in matches)
    assert environments.template_text(environments.STATIC_TEMPLATE) == TEMPLATE.read_text("utf-8")


def test_the_bucket_is_private_encrypted_unversioned_and_kept() -> None:
    resource = _doc()["Resources"]["Bucket"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    props = resource["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "VersioningConfiguration" not in props  # off
    assert "BucketName" not in props  # CloudFormation names it: a re-apply never collides
    assert "WebsiteConfiguration" not in props  # the REST endpoint, read through OAC only


def test_only_this_distribution_reads_the_bucket() -> None:
    oac = _resolved("OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    assert oac["SigningProtocol"] == "sigv4"
    (origin,) = _doc()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI

    doc = _resolved("BucketPolicy", Bucket="site-bucket", Distribution="E123EXAMPLE")
    (statement,) = doc["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E123EXAMPLE"
        }
    }
    # the bucket's ARN is known only once it exists; the resource names its objects
    raw = _doc()["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert raw["Resource"] == {"Fn::Sub": "${Bucket.Arn}/*"}


def _ttls(policy: str) -> tuple[int, int, int]:
    config = _resolved(policy)["CachePolicyConfig"]
    params = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["EnableAcceptEncodingGzip"] and params["EnableAcceptEncodingBrotli"]
    assert params["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    return config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]


def test_hashed_files_are_cached_long_and_pages_short() -> None:
    config = _doc()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    hashed = {"Ref": "HashedCachePolicy"}
    patterns = {b["PathPattern"]: b["CachePolicyId"] for b in config["CacheBehaviors"]}
    assert patterns == {"static/*": hashed, "data/*": hashed, "pictures/*": hashed}
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == {"Ref": "PagesCachePolicy"}
    low, default, high = _ttls("HashedCachePolicy")
    assert default == high == YEAR and low >= 24 * 3600
    low, default, high = _ttls("PagesCachePolicy")
    assert low == 0 and default <= 300 and high <= 3600
    assert config["DefaultRootObject"] == "index.html"


def test_https_only_compressed_and_read_only_everywhere() -> None:
    config = _config()
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    for behaviour in behaviours:
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["Compress"] is True
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    # the function runs on pages only (the default behaviour): one call per page view
    assert [b.get("FunctionAssociations") for b in behaviours[1:]] == [None] * 3
    (association,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    errors = {e["ErrorCode"]: (e["ResponseCode"], e["ResponsePagePath"]) for e in config[
        "CustomErrorResponses"
    ]}  # fmt: skip
    # OAC may only GetObject, so S3 answers a missing name 403: both are the 404 page
    assert errors == {404: (404, "/404.html"), 403: (404, "/404.html")}


def test_alias_and_certificate_are_optional() -> None:
    plain = _config()
    assert plain["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert plain["Aliases"] is None  # AWS::NoValue
    assert plain["PriceClass"] == "PriceClass_100"
    own = _config(DomainName="atlas.example.org", CertificateArn=ARN, PriceClass="PriceClass_All")
    assert own["Aliases"] == ["atlas.example.org"]
    assert own["ViewerCertificate"] == {
        "AcmCertificateArn": ARN,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert own["PriceClass"] == "PriceClass_All"


def test_outputs_name_the_bucket_and_the_distribution() -> None:
    outputs = _doc()["Outputs"]
    assert {"BucketName", "DistributionId", "DistributionDomain", "SiteUrl"} <= set(outputs)
    assert outputs["BucketName"]["Value"] == {"Ref": "Bucket"}
    assert outputs["DistributionId"]["Value"] == {"Ref": "Distribution"}
    assert outputs["DistributionDomain"]["Value"] == {"Fn::GetAtt": ["Distribution", "DomainName"]}


def _run_function(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The template's CloudFront Function, run in Node on each request event."""
    node = shutil.which("node")
    if node is None:
        unavailable("node not found (apt-get install nodejs)")
    code = _doc()["Resources"]["PagesFunction"]["Properties"]["FunctionCode"]
    script = (
        code
        + "\nconst requests = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        + "\nprocess.stdout.write(JSON.stringify(requests.map((r) => handler({request: r}))));\n"
    )
    done = subprocess.run(
        [node, "-e", script], input=json.dumps(requests), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def _request(uri: str, **query: str | list[str]) -> dict[str, Any]:
    """A viewer request as CloudFront Functions gives it (a repeated name has multiValue)."""
    qs: dict[str, Any] = {}
    for name, value in query.items():
        if isinstance(value, list):
            qs[name] = {"value": value[0], "multiValue": [{"value": v} for v in value]}
        else:
            qs[name] = {"value": value}
    return {"method": "GET", "uri": uri, "querystring": qs, "headers": {}, "cookies": {}}


def test_the_function_maps_the_exports_page_layout() -> None:
    """`/circos/` is served `circos/index.html`; `/circos` is redirected to `/circos/` with its
    query (the page's URLs are relative to its folder, so the folder's address is kept, as a
    static file server does); files and the root pass through (the root to index.html)."""
    cases = [
        _request("/circos", fdr_i="0.1", genes=["Ccl2", "Apoe"]),
        _request("/circos"),
        _request("/circos/", fdr_i="0.1"),
        _request("/pairwise/"),
        _request("/"),
        _request("/static/app.0123abcd.js"),
        _request("/data/store.0123abcd.json"),
        _request("/404.html"),
        _request("/effects", seeds="Ccl2%2CApoe"),
    ]
    circos_query, circos, circos_slash, pairwise, root, script, data, missing, effects = (
        _run_function(cases)
    )
    assert circos_query == {
        "statusCode": 301,
        "statusDescription": "Moved Permanently",
        "headers": {"location": {"value": "/circos/?fdr_i=0.1&genes=Ccl2&genes=Apoe"}},
    }
    assert circos["headers"]["location"]["value"] == "/circos/"
    assert effects["headers"]["location"]["value"] == "/effects/?seeds=Ccl2%2CApoe"
    assert circos_slash["uri"] == "/circos/index.html"
    assert circos_slash["querystring"] == {"fdr_i": {"value": "0.1"}}  # kept for the page
    assert pairwise["uri"] == "/pairwise/index.html"
    assert root["uri"] == "/index.html"
    assert (script["uri"], data["uri"], missing["uri"]) == (
        "/static/app.0123abcd.js",
        "/data/store.0123abcd.json",
        "/404.html",
    )


def _params(tmp_path: Path, **overrides: object) -> dict[str, str]:
    return static.stack_parameters(load_settings(root=tmp_path, environ={}, overrides=overrides))


def test_parameters_from_the_static_section(tmp_path: Path) -> None:
    assert _params(tmp_path) == {
        "DomainName": "",
        "CertificateArn": "",
        "PriceClass": "PriceClass_100",
    }
    assert _params(tmp_path, static_domain="Atlas.Example.org.", static_certificate_arn=ARN) == {
        "DomainName": "atlas.example.org",
        "CertificateArn": ARN,
        "PriceClass": "PriceClass_100",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"static_domain": "not a domain", "static_certificate_arn": ARN}, "not a domain name"),
        ({"static_domain": "https://atlas.example.org"}, "not a domain name"),
        ({"static_domain": "atlas.example.org", "static_certificate_arn": "abc"}, "not an ACM"),
        (
            {
                "static_domain": "atlas.example.org",
                "static_certificate_arn": ARN.replace("us-east-1", "us-east-2"),
            },
            "only from us-east-1",
        ),
        ({"static_domain": "atlas.example.org"}, "static_certificate_arn is not set"),
        ({"static_certificate_arn": ARN}, "static_domain is not set"),
        ({"static_price_class": "PriceClass_1"}, "PriceClass_100, PriceClass_200"),
    ],
)
def test_bad_settings_are_one_clear_error(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _params(tmp_path, **overrides)


def test_the_python_checks_agree_with_the_templates_patterns(tmp_path: Path) -> None:
    """What ctsite accepts, CloudFormation accepts too (the template's AllowedPattern)."""
    import re

    doc = _doc()["Parameters"]
    params = _params(tmp_path, static_domain="lab-1.atlas.example.org", static_certificate_arn=ARN)
    for key in ("DomainName", "CertificateArn"):
        assert re.fullmatch(doc[key]["AllowedPattern"], params[key]), key
        assert re.fullmatch(doc[key]["AllowedPattern"], "")
    assert static.PRICE_CLASSES == tuple(doc["PriceClass"]["AllowedValues"])

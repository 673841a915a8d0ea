"""Registry login: ECR Public / ECR tokens (botocore Stubber and a loopback AWS endpoint), and
those credentials reaching a real htpasswd registry through the Docker SDK."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from ctsite.aws import ecr
from ctsite.aws.clients import client_factory
from ctsite.config import load_settings
from ctsite.container import engine as image
from ctsite.container import registry as reg
from ctsite.errors import CtsiteError
from tests.support.factories import serving
from tests.support.fixtures_docker import SDK_SECONDS, budget
from tests.support.servers import handling


def token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def ecr_public_client():
    return boto3.client(
        "ecr-public",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url="http://127.0.0.1:9",
    )


@pytest.mark.parametrize(
    ("repository", "host", "kind"),
    [
        ("public.ecr.aws/abc123/ct-site", "public.ecr.aws", "ecr-public"),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ct-site",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "ecr",
        ),
        ("127.0.0.1:5000/team/ct-site", "127.0.0.1:5000", "other"),
        ("localhost/ct-site", "localhost", "other"),
        ("ghcr.io/lab/ct-site", "ghcr.io", "other"),
        ("lab/ct-site", "docker.io", "other"),
        ("ct-site", "docker.io", "other"),
    ],
)
def test_registry_kinds(repository, host, kind):
    assert reg.split_repository(repository)[0] == host
    assert reg.registry_kind(host) == kind


@pytest.mark.parametrize(
    "bad", ["public.ecr.aws/a/Ct-Site", "reg.io/ct-site:latest", "reg.io/ct@sha256:00", "a//b", ""]
)
def test_bad_repository_names(bad):
    with pytest.raises(CtsiteError, match="not a valid repository name"):
        reg.check_repository(bad)


def test_good_repository_names():
    for good in ("public.ecr.aws/d6q7u0s0/ct-site", "127.0.0.1:5000/a/b_c", "ct-site"):
        assert reg.check_repository(good) == good


def test_token_decoding_and_password_hidden():
    auth = reg.decode_token(token("AWS", "s3cr:et"), "public.ecr.aws")
    assert (auth.username, auth.password) == ("AWS", "s3cr:et")
    assert "s3cr" not in repr(auth)
    for bad in ("%%%", base64.b64encode(b"no-colon").decode(), token("AWS", "")):
        with pytest.raises(CtsiteError, match="authorization token"):
            reg.decode_token(bad, "public.ecr.aws")


def test_ecr_public_aws_error_is_one_line():
    client = ecr_public_client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_authorization_token", "AccessDeniedException", "not allowed", 400
        )
        with pytest.raises(CtsiteError) as info:
            ecr.ecr_public_auth(serving(client))
        stub.assert_no_pending_responses()
    assert "ECR Public login token" in info.value.message
    assert "AccessDeniedException: not allowed" in info.value.message
    assert "IAM" in (info.value.hint or "")


@pytest.mark.docker
@budget(2 * SDK_SECONDS)  # a build and a push through the Docker SDK
def test_ecr_public_token_reaches_the_registry(docker_engine, registry, tmp_path, monkeypatch):
    """The Stubber's token decodes to AWS:<pw> and those credentials log in and push."""
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    password = registry.users["AWS"]
    client = ecr_public_client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_authorization_token",
            {
                "authorizationData": {
                    "authorizationToken": token("AWS", password),
                    "expiresAt": dt.datetime(2030, 1, 1),
                }
            },
            {},
        )
        auth = ecr.ecr_public_auth(serving(client), registry=registry.host)
        stub.assert_no_pending_responses()
    assert (auth.username, auth.password, auth.registry) == ("AWS", password, registry.host)
    engine = image.engine()
    image.login(engine, auth)
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY f /f\n")
    (context / "f").write_text(str(tmp_path))
    repository = f"{registry.host}/ctsite-test/ecr-public-path"
    image_id = image.build(
        engine, context, "Dockerfile", "ctsite-test-ecr-public:latest", image_name="x"
    )
    try:
        image.tag(engine, image_id, repository, ["latest"])
        digest = image.push(engine, repository, "latest", auth)
        assert digest == registry.digest("ctsite-test/ecr-public-path", "latest")
        wrong = reg.RegistryAuth(registry.host, "AWS", "not-the-password")
        with pytest.raises(CtsiteError, match=r"login to .* failed") as info:
            image.login(engine, wrong)
        assert "refused the credentials" in (info.value.hint or "")
        with pytest.raises(CtsiteError, match=r"login to 127.0.0.1:9 failed") as info:
            image.login(engine, reg.RegistryAuth("127.0.0.1:9", "AWS", password))
        assert "reachable" in (info.value.hint or "")
        with pytest.raises(CtsiteError, match=r"refused the credentials|unauthorized"):
            fresh = image.engine()
            image.push(fresh, repository, "latest", wrong)
    finally:
        engine.images.remove(image_id, force=True)
    assert list(docker_config.iterdir()) == []  # credentials were never written to disk


class _TokenEndpoint(http.server.BaseHTTPRequestHandler):
    """A loopback stand-in for the AWS endpoint: records the request, answers with a token."""

    seen: list[dict[str, str]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self.seen.append(
            {"target": self.headers.get("X-Amz-Target", ""), "auth": self.headers["Authorization"]}
        )
        if "/ecr-public/aws4_request" in self.headers["Authorization"]:
            body = {"authorizationData": {"authorizationToken": token("AWS", "pub-pw")}}
        else:
            body = {
                "authorizationData": [
                    {"authorizationToken": token("AWS", "priv-pw"), "proxyEndpoint": "x"}
                ]
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def aws_endpoint(monkeypatch):
    with handling(_TokenEndpoint) as url:
        _TokenEndpoint.seen = []
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield _TokenEndpoint.seen


def test_resolve_auth_regions(aws_endpoint, tmp_path: Path):
    """ECR Public always signs for us-east-1; private ECR for the host's region; others: none."""
    settings = load_settings(root=tmp_path, environ={"CTSITE_AWS_REGION": "eu-west-1"})
    auth = ecr.resolve_auth(client_factory(settings), "public.ecr.aws/abc/ct-site")
    assert auth is not None and (auth.registry, auth.password) == ("public.ecr.aws", "pub-pw")
    assert "/us-east-1/ecr-public/" in aws_endpoint[-1]["auth"]
    host = "123456789012.dkr.ecr.ap-south-1.amazonaws.com"
    auth = ecr.resolve_auth(client_factory(settings), f"{host}/ct-site")
    assert auth is not None and (auth.registry, auth.password) == (host, "priv-pw")
    assert "/ap-south-1/ecr/" in aws_endpoint[-1]["auth"]
    assert ecr.resolve_auth(client_factory(settings), "127.0.0.1:5000/ct-site") is None
    assert len(aws_endpoint) == 2

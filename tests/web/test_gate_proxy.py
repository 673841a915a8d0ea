"""The access gate's login limit behind a real nginx configured like Elastic Beanstalk's, in front
of gunicorn with two workers (as in the image): visitors are told apart by the address nginx saw
(one trusted X-Forwarded-For entry), a forged X-Forwarded-For changes nothing, the counts are
shared by both workers and taken before a code is checked, and a per-instance ceiling throttles
a guesser spread over many addresses."""

from __future__ import annotations

import http.client
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from ctsite.web.security import hash_code, new_secret_key
from tests.support.cli import cli_env, start_python, wait_healthy
from tests.support.nginx import eb_nginx, free_port, nginx_binary

CODE = "s3cret code"
PER_CLIENT = 5  # site_login_rate "5/minute;30/hour"


@dataclass
class Site:
    port: int  # nginx's
    access_log: Path
    error_log: Path  # gunicorn's (the app's warnings)

    def post_code(
        self, code: str, source: str, forged: str | None = None, cookie: str | None = None
    ) -> http.client.HTTPResponse:
        """POST /login from the loopback address `source` (nginx sees it as the client)."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(source, 0)
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if forged:
            headers["X-Forwarded-For"] = forged
        conn.request("POST", "/login", urlencode({"code": code, "next": "/"}), headers)
        answer = conn.getresponse()
        answer.read()
        conn.close()
        return answer

    def get(self, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path, headers=headers or {})
        answer = conn.getresponse()
        answer.read()
        conn.close()
        return answer

    def login_workers(self) -> set[str]:
        """The gunicorn worker pids that answered POST /login (from the access log)."""
        lines = self.access_log.read_text().splitlines()
        return {line.split()[0] for line in lines if " POST /login " in line}


@pytest.fixture(scope="module")
def eb_stack(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
    """Start nginx (as on EB) → gunicorn (2 workers × 4 threads) with the gate on."""
    nginx_binary()
    with ExitStack() as running:

        def start(**settings: str) -> Site:
            folder = tmp_path_factory.mktemp("eb")
            port = free_port()
            access_log = folder / "access.log"
            variables = {
                "TMPDIR": str(folder),  # the login counts' folder
                "CTSITE_COMPILED_DIR": str(demo_store),
                "CTSITE_SITE_ACCESS_CODE_HASH": hash_code(CODE, "pbkdf2:sha256:2000"),
                "CTSITE_SITE_SECRET_KEY": new_secret_key(),
                "CTSITE_SITE_FORWARDED_HOPS": "1",  # nginx; 2 behind a load balancer
            }
            variables.update({f"CTSITE_{k.upper()}": v for k, v in settings.items()})
            env = cli_env(without=("CTSITE_",), **variables)
            log = running.enter_context(open(folder / "gunicorn.log", "w"))
            gunicorn = start_python(
                *("-m", "gunicorn", "--workers", "2", "--threads", "4"),
                *("--bind", f"127.0.0.1:{port}", "--access-logfile", str(access_log)),
                *("--access-logformat", "%(p)s %(m)s %(U)s %(s)s"),
                "ctsite.web.app:create_app()",
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            running.callback(_stop, gunicorn)
            assert wait_healthy(gunicorn, port) is not None, (folder / "gunicorn.log").read_text()
            nginx = running.enter_context(eb_nginx(folder / "nginx", port))
            return Site(nginx, access_log, folder / "gunicorn.log")

        yield start


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def site(eb_stack) -> Site:
    return eb_stack()


def test_forty_visitors_with_a_typo_do_not_lock_out_the_next(site: Site) -> None:
    """Before: every visitor was nginx's address, so the 6th wrong code gave everyone 429."""
    statuses = [site.post_code("wrong code", f"127.0.0.{i}").status for i in range(2, 42)]
    assert statuses == [403] * 40
    assert site.post_code(CODE, "127.0.0.42").status == 302


def test_forged_forwarded_for_is_still_one_client(site: Site) -> None:
    """40 wrong codes, each with another forged X-Forwarded-For: limited like any one client
    (before: counted per worker after the response, 2 workers → twice the allowance)."""
    source = "127.0.1.1"
    statuses = [
        site.post_code("wrong code", source, forged=f"10.9.{i}.{i}").status for i in range(40)
    ]
    assert statuses == [403] * PER_CLIENT + [429] * (40 - PER_CLIENT), statuses
    blocked = site.post_code(CODE, source, forged="10.0.0.1")
    assert blocked.status == 429 and int(blocked.getheader("Retry-After", "0")) > 0
    assert site.post_code(CODE, "127.0.1.2", forged=source).status == 302  # others unaffected


def test_concurrent_wrong_codes_are_counted_before_checking(site: Site) -> None:
    """40 wrong codes at once from one client over both workers: exactly the allowance is
    checked (the count is taken before the code is verified, in storage both workers share)."""
    for round_ in range(1, 6):  # until both gunicorn workers have answered (the kernel decides)
        source = f"127.0.2.{round_}"
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(lambda _: site.post_code("wrong", source).status, range(40)))
        assert sorted(statuses) == [403] * PER_CLIENT + [429] * (40 - PER_CLIENT), round_
        if len(site.login_workers()) == 2:
            break
    assert len(site.login_workers()) == 2  # both workers answered logins, counted in one storage


def test_a_full_ceiling_does_not_lock_out_a_new_visitor(eb_stack) -> None:
    """The red team's siege, shortened: 4 addresses keep the instance's ceiling (8/hour) full
    with wrong codes. Before: a new visitor with the RIGHT code got 429 (Retry-After ~1 hour).
    Now an address with no failure in the ceiling's window has one code checked: the visitor
    gets in; the 4 guessers get nothing more; a fresh guesser address gets exactly one guess,
    however many it sends at once and whatever X-Forwarded-For it forges; visitors already in
    are unaffected."""
    site = eb_stack(site_login_global_rate="8/hour")
    inside = site.post_code(CODE, "127.0.3.1")
    cookie = inside.getheader("Set-Cookie", "").split(";")[0]
    assert inside.status == 302 and cookie
    guessers = [f"127.0.4.{i}" for i in range(1, 5)]
    assert [site.post_code("guess", g).status for g in guessers * 2] == [403] * 8
    for guesser in guessers:
        refused = site.post_code("guess", guesser, forged="10.1.1.1")
        assert refused.status == 429 and int(refused.getheader("Retry-After", "0")) > 3000
    assert site.post_code(CODE, "127.0.5.1").status == 302  # the new visitor gets in
    with ThreadPoolExecutor(max_workers=10) as pool:
        burst = list(pool.map(lambda _: site.post_code("guess", "127.0.5.2").status, range(10)))
    assert sorted(burst) == [403] + [429] * 9, burst
    forged = [site.post_code("guess", "127.0.5.3", forged=f"10.7.{i}.{i}").status for i in range(5)]
    assert forged == [403] + [429] * 4
    assert site.get("/api/meta", {"Cookie": cookie}).status == 200
    assert site.get("/healthz").status == 200


def test_redirects_through_nginx_name_no_host(site: Site) -> None:
    static = site.get("/static//style.css", {"Host": "evil.example"})
    assert static.status in (301, 308) and static.getheader("Location") == "/static/style.css"
    inside = site.post_code(CODE, "127.0.6.1").getheader("Set-Cookie", "").split(";")[0]
    merged = site.get("/api//meta?x=1", {"Host": "evil.example", "Cookie": inside})
    assert merged.status in (301, 308) and merged.getheader("Location") == "/api/meta?x=1"
    login = site.get("/circos?x=1", {"Host": "evil.example"})
    assert login.status == 302 and re.match(r"^/login\?next=", login.getheader("Location", ""))


def test_405_and_vary_through_nginx(site: Site) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=60)
    conn.request("DELETE", "/healthz")
    answer = conn.getresponse()
    answer.read()
    conn.close()
    assert answer.status == 405 and "GET" in answer.getheader("Allow", "")
    login = site.get("/login", {"Accept-Encoding": "identity"})
    assert login.status == 200 and "Accept-Encoding" in login.getheader("Vary", "")


def test_forwarded_hops_left_at_zero_behind_nginx_is_warned_about(eb_stack) -> None:
    """A hand-made environment without CTSITE_SITE_FORWARDED_HOPS (0) behind nginx: every
    visitor is nginx's address to the login limit. Before: nothing said so. Now each worker
    logs one warning naming the setting and the value to use, on the first proxied request."""
    site = eb_stack(site_forwarded_hops="0")
    for _ in range(12):
        assert site.get("/healthz").status == 200
        assert site.get("/login").status == 200
    assert site.post_code("guess", "127.0.8.1").status == 403
    warnings = [
        line for line in site.error_log.read_text().splitlines() if "X-Forwarded-For" in line
    ]
    answered = {line.split()[0] for line in site.access_log.read_text().splitlines()}
    assert 1 <= len(warnings) <= len(answered) <= 2, warnings  # one per worker at most
    assert all("CTSITE_SITE_FORWARDED_HOPS=1" in line for line in warnings), warnings

"""The test suite's guard of the rule "every AWS call lives in ctsite/aws/".

Static checks (tests/test_layers.py) see imports, not calls: a workflow handed a client factory
can call `client("ec2").describe_vpcs()` without importing boto3. So every client botocore
creates during the tests gets a `before-call` hook that looks at the Python stack of the call
and refuses it when the nearest frame inside the ctsite package is outside `ctsite/aws/`. Calls
with no ctsite frame at all (test code preparing or inspecting moto, a Stubber) are allowed.

The refusal raises `OutsideAws` at the call (an AssertionError, so no `except CtsiteError` or
`aws_errors` turns it into a user message) and is also recorded, because code under test may
swallow exceptions (the doctor turns every failure into a check line): tests/conftest.py fails
the test afterwards when anything was recorded.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ctsite

PACKAGE = os.path.realpath(Path(ctsite.__file__).parent) + os.sep
ADAPTERS = PACKAGE + "aws" + os.sep
HOOK_ID = "ctsite-tests-aws-guard"


class OutsideAws(AssertionError):
    """An AWS API call made by ctsite code outside ctsite/aws/."""


@functools.lru_cache(maxsize=4096)
def _real(filename: str) -> str:
    return os.path.realpath(filename)


def ctsite_caller() -> str | None:
    """The file and line of the nearest ctsite frame on the current stack (None: no ctsite
    frame, e.g. a call made by test code)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = _real(frame.f_code.co_filename)
        if path.startswith(PACKAGE):
            return f"{path}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


class Guard:
    """The hook and what it refused (`violations`, one line per refused call)."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def before_call(self, model: Any = None, **_: Any) -> None:
        caller = ctsite_caller()
        if caller is None or caller.startswith(ADAPTERS):
            return
        where = caller.removeprefix(PACKAGE)
        operation = getattr(model, "name", "?")
        service = getattr(getattr(model, "service_model", None), "service_name", "?")
        message = (
            f"AWS call {service}.{operation} made from ctsite/{where}: every AWS call belongs "
            "in an adapter under ctsite/aws/"
        )
        self.violations.append(message)
        raise OutsideAws(message)

    def watch(self, client: Any) -> Any:
        """Hook `client` (first among the before-call handlers, ahead of a Stubber's)."""
        client.meta.events.register_first("before-call.*.*", self.before_call, unique_id=HOOK_ID)
        return client


def install(guard: Guard) -> Callable[[], None]:
    """Hook every client botocore creates from now on; returns the function that undoes it."""
    import botocore.session

    original = botocore.session.Session.create_client

    @functools.wraps(original)
    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        return guard.watch(original(self, *args, **kwargs))

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def uninstall() -> None:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]

    return uninstall

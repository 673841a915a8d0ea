"""CLI state carried on the click/Typer context object (never in a module global).

The root callback puts a `CliState` on `ctx.obj`: the configuration file given with --config,
the root options (--verbose, --quiet, --debug, --profile, --region), whether the command answers
in JSON, and an optional AWS client factory. Tests inject the factory by invoking the app with
`obj={"aws_client": factory}`; the callback keeps it. `settings()` applies the root --profile and
--region under the command's own options and prints the configuration's warnings once.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ctsite.config import Settings, load_settings
from ctsite.errors import CtsiteError

if TYPE_CHECKING:
    from ctsite.aws.clients import ClientFactory
    from ctsite.cli.render import RichReporter


class CommandContext(Protocol):
    """What the CLI uses of a Typer/click context: its `obj` and its root."""

    obj: Any

    def find_root(self) -> CommandContext: ...


@dataclasses.dataclass
class CliState:
    config_file: Path | None = None
    json: bool = False
    aws_client: ClientFactory | None = None  # None: built from the settings
    verbose: int = 0
    quiet: bool = False
    debug: bool = False
    profile: str | None = None
    region: str | None = None
    warned: bool = False  # the configuration's warnings were printed


def attach(ctx: CommandContext, config_file: Path | None, **options: Any) -> CliState:
    """Create the state of this invocation (keeping an injected client factory)."""
    injected = ctx.obj.get("aws_client") if isinstance(ctx.obj, dict) else None
    if isinstance(ctx.obj, CliState):
        injected = ctx.obj.aws_client
    ctx.obj = CliState(config_file=config_file, aws_client=injected, **options)
    return ctx.obj


def state(ctx: CommandContext) -> CliState:
    """The state of this invocation (created on first use when a command runs alone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        attach(root, None)
    obj = root.obj
    assert isinstance(obj, CliState)
    ctx.obj = obj
    return obj


def log_level(verbose: int, quiet: bool, debug: bool) -> int:
    """The logging level of the root options: -q ERROR, default WARNING, -v INFO, -vv DEBUG."""
    if debug or verbose >= 2:
        return logging.DEBUG
    if verbose == 1:
        return logging.INFO
    return logging.ERROR if quiet else logging.WARNING


HANDLER_NAME = "ctsite-cli"


def setup_logging(level: int) -> None:
    """Send the `ctsite` logger's records at `level` to stderr through rich; under --debug
    (or -vv) the AWS SDK's and Docker SDK's debug records too. Other loggers are left alone."""
    from rich.logging import RichHandler

    from ctsite.cli.console import err_console

    handler = RichHandler(console=err_console, show_path=False, markup=False)
    handler.set_name(HANDLER_NAME)
    for name in ("ctsite", "botocore", "boto3", "docker", "paramiko"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == HANDLER_NAME]:
            logger.removeHandler(old)
        if name == "ctsite" or level <= logging.DEBUG:
            logger.addHandler(handler)
            logger.setLevel(level)


def settings(ctx: CommandContext, **overrides: Any) -> Settings:
    """The resolved configuration: this command's options over the root options (--profile,
    --region) over the environment and ctsite.toml."""
    current = state(ctx)
    _refuse_stack_names(overrides.get("eb_environment"))
    if overrides.get("aws_region") is None and current.region:
        overrides["aws_region"] = current.region
    if overrides.get("aws_profile") is None and current.profile:
        overrides["aws_profile"] = current.profile
    resolved = load_settings(config_file=current.config_file, overrides=overrides)
    if not current.warned:
        current.warned = True
        from ctsite.cli.console import warn

        for message in resolved.warnings:
            warn(message)
    return resolved


def _refuse_stack_names(env: object) -> None:
    """`--env static` / `--env registry` on an Elastic Beanstalk command: those names are the
    static site's and the image registry's stacks (`provision --env …`), never an environment
    this command could act on."""
    from ctsite.deploy.provision.environments import REGISTRY, STATIC

    name = str(env or "").strip()
    if name == STATIC:
        raise CtsiteError(
            "--env static names the static site (S3 + CloudFront), not an Elastic Beanstalk "
            "environment: publish it with `ctsite publish-site`",
            hint="its hosting is `ctsite provision plan|apply|check|destroy --env static`",
            exit_code=2,
        )
    if name == REGISTRY:
        raise CtsiteError(
            "--env registry names the image registry's stack (`ctsite provision apply --env "
            "registry`), not an Elastic Beanstalk environment",
            hint="name production, staging or an EB environment",
            exit_code=2,
        )


def clients(ctx: CommandContext, s: Settings) -> ClientFactory:
    """The AWS client factory of this invocation: the injected one, else one for `s`."""
    injected = state(ctx).aws_client
    if injected is not None:
        return injected
    from ctsite.aws.clients import client_factory

    return client_factory(s)


def reporter_for(ctx: CommandContext, show_output: bool = True) -> RichReporter:
    """The workflows' reporter for this invocation (progress on stderr; none under --quiet)."""
    from ctsite.cli.render import RichReporter

    return RichReporter(show_output=show_output, quiet=state(ctx).quiet)


def begin(ctx: CommandContext, json_out: bool = False, **overrides: Any) -> tuple[Settings, bool]:
    """A command's start: record whether it answers in JSON (errors then are JSON too) and
    resolve the configuration with its options on top."""
    state(ctx).json = bool(json_out)
    return settings(ctx, **overrides), bool(json_out)

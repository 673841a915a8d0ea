"""CLI state carried on the click/Typer context object (never in a module global).

The root callback puts a `CliState` on `ctx.obj`: the configuration file given with --config,
whether the command answers in JSON, and an optional AWS client factory. Tests inject the
factory by invoking the app with `obj={"aws_client": factory}`; the callback keeps it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from ctsite.config import Settings, load_settings


@dataclasses.dataclass
class CliState:
    config_file: Path | None = None
    json: bool = False
    aws_client: Any = None  # a ClientFactory; None: built from the settings


def attach(ctx: click.Context, config_file: Path | None) -> CliState:
    """Create the state of this invocation (keeping an injected client factory)."""
    injected = ctx.obj.get("aws_client") if isinstance(ctx.obj, dict) else None
    if isinstance(ctx.obj, CliState):
        injected = ctx.obj.aws_client
    ctx.obj = CliState(config_file=config_file, aws_client=injected)
    return ctx.obj


def state(ctx: click.Context) -> CliState:
    """The state of this invocation (created on first use when a command runs alone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        attach(root, None)
    obj = root.obj
    assert isinstance(obj, CliState)
    ctx.obj = obj
    return obj


def settings(ctx: click.Context, **overrides: Any) -> Settings:
    """The resolved configuration, with this command's CLI options on top."""
    return load_settings(config_file=state(ctx).config_file, overrides=overrides)


def clients(ctx: click.Context, s: Settings) -> Any:
    """The AWS client factory of this invocation: the injected one, else one for `s`."""
    injected = state(ctx).aws_client
    if injected is not None:
        return injected
    from ctsite.aws.clients import client_factory

    return client_factory(s)


def begin(ctx: click.Context, json_out: bool = False, **overrides: Any) -> tuple[Settings, bool]:
    """A command's start: record whether it answers in JSON (errors then are JSON too) and
    resolve the configuration with its options on top."""
    state(ctx).json = bool(json_out)
    return settings(ctx, **overrides), bool(json_out)

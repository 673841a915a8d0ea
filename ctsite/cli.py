"""The `ctsite` command line: one small function per command, no business logic.

Commands parse options, call the library and render results. Library code raises `CtsiteError`;
`main()` turns it into one red line and a non-zero exit. Heavy imports happen inside commands so
`ctsite serve` in the slim runtime image never imports the compile or deploy dependencies.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ctsite import __version__
from ctsite.config import Settings, load_settings
from ctsite.console import console, print_error
from ctsite.errors import CtsiteError

app = typer.Typer(
    name="ctsite",
    help="Publish ContactTracing results as a website: compile, serve, build, upload, deploy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class State:
    """What the root callback collected: where the configuration lives."""

    config_file: Path | None = None


def settings(**overrides: Any) -> Settings:
    """The resolved configuration, with this command's CLI options on top."""
    return load_settings(config_file=State.config_file, overrides=overrides)


def _version(value: bool) -> None:
    if value:
        console.print(f"ctsite {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Path to ctsite.toml (default: ./ctsite.toml)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """ctsite: ContactTracing results → compiled store → website → AWS."""
    State.config_file = config


@app.command("config")
def config_cmd() -> None:
    """Print the resolved configuration and where each value came from."""
    from rich.markup import escape
    from rich.table import Table

    s = settings()
    table = Table(title=f"ctsite configuration (root {s.root})")
    table.add_column("key")
    table.add_column("value")
    table.add_column("source")
    for key, value, source in s.items():
        secret = key.endswith(("_hash", "_secret_key"))
        shown = "(set)" if secret and value else repr(value)
        table.add_row(escape(key), escape(shown), escape(source))
    console.print(table)
    if s.data:
        names = ", ".join(str(c.get("name")) for c in s.data.get("conditions", []))
        console.print(f"[bold]{escape('[data]')}[/] section present: conditions {escape(names)}")
    else:
        console.print(
            f"[dim]no {escape('[data]')} section: `ctsite serve` uses the demo dataset[/]"
        )


def _register_commands() -> None:
    from ctsite.compile import cli as compile_cli
    from ctsite.deploy import cli_beanstalk, cli_image, cli_release, cli_upload
    from ctsite.web import cli as web_cli

    for module in (compile_cli, web_cli, cli_image, cli_upload, cli_beanstalk, cli_release):
        module.register(app)
    from ctsite.compile import cli_init  # `ctsite init`

    cli_init.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning ctsite errors into one clear line and an exit code.

    Typer's standalone mode reports usage errors (unknown command, bad option value) itself,
    as a short usage message and exit code 2. Ctrl-C and SIGTERM unwind the command (its cleanup
    runs) and exit 130 / 143 with one line.
    """
    from ctsite.lifecycle import stop_signals_interrupt

    with stop_signals_interrupt() as signals:
        try:
            app(args=argv, prog_name="ctsite")
        except CtsiteError as error:
            print_error(error)
            sys.exit(error.exit_code)
        except SystemExit:
            if signals.received is None:
                raise
    if signals.received is None:
        return
    name = "SIGTERM" if signals.exit_code == 143 else "Ctrl-C (SIGINT)"
    print_error(CtsiteError(f"stopped by {name}; what it had started was cleaned up"))
    sys.exit(signals.exit_code)

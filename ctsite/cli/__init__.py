"""The `ctsite` command line: the Typer app, its root options and the command modules.

Each command module parses options, calls one workflow and renders its result
(`ctsite.cli.render`). Library code raises `CtsiteError`; `main()` turns it into one red line
and a non-zero exit (under `--json`, a `{"error", "hint"}` document). Heavy imports happen
inside commands so `ctsite serve` in the slim runtime image never imports the compile or deploy
dependencies. Nothing outside this package (and `ctsite.__main__`) imports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from ctsite import __version__
from ctsite.cli import (
    compile,
    config,
    deploy,
    doctor,
    environment,
    export_site,
    figures,
    image,
    init,
    provision,
    publish_site,
    release,
    retire,
    upload,
    web,
)
from ctsite.cli.console import console, err_console, print_error
from ctsite.cli.context import attach, log_level, setup_logging, state
from ctsite.cli.render import emit_error
from ctsite.errors import CtsiteError

if TYPE_CHECKING:  # typer ≥ 0.29 carries its own click; its Context is the commands' base type
    from typer._click.core import Context as ClickContext


class CtsiteGroup(TyperGroup):
    """The root group: a CtsiteError of a command run with --json becomes a JSON error; an
    unexpected exception becomes one line too (its traceback only with --debug)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: ClickContext | None = None,
        **extra: Any,
    ) -> ClickContext:
        """Parse the root options; `--help` and `--version` print here, before any command."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            closed_pipe()  # `ctsite --help | head -1`: click's own handling exits 1

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except CtsiteError as error:
            if state(ctx).debug:
                err_console.print_exception()
            if state(ctx).json:
                emit_error(error)
                raise typer.Exit(error.exit_code) from None
            raise
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors are TyperExceptions
            raise  # exits and usage errors: typer reports them itself
        except KeyboardInterrupt as stop:  # typer would make it a silent exit 130
            raise Stopped(stop) from None
        except BrokenPipeError:
            closed_pipe()  # the reader of our output is gone (`ctsite export … | head -1`)
        except Exception as exc:  # a bug: one line, the traceback under --debug
            if state(ctx).debug:
                raise
            bug = CtsiteError(
                f"unexpected error: {type(exc).__name__}: {exc}",
                hint="run again with --debug to see the traceback, and please report it",
            )
            if state(ctx).json:
                emit_error(bug)
                raise typer.Exit(bug.exit_code) from None
            raise bug from None


class Stopped(BaseException):
    """A stop signal (Ctrl-C, SIGTERM) that ended a command, carried past typer to `main`:
    one line (the signal and what the command left behind, `ctsite.lifecycle.stop_message`)
    and exit 130 / 143. A BaseException, like the KeyboardInterrupt it stands for."""

    def __init__(self, stop: BaseException):
        from ctsite.lifecycle import exit_code, signal_of, stop_message

        super().__init__(stop_message(stop))
        self.message = stop_message(stop)
        self.exit_code = exit_code(stop)
        self.signum = signal_of(stop)


EXIT_CLOSED_PIPE = 128 + signal.SIGPIPE  # 141: what a shell reports for a tool SIGPIPE ended


def closed_pipe() -> NoReturn:
    """End quietly because the reader of our output went away (`ctsite export … | head -1`).

    Like a Unix tool ended by SIGPIPE: no message, exit status 141 (the output is incomplete,
    so not 0; `set -o pipefail` scripts see what `cat` would give them). Standard output is
    pointed at /dev/null first, so Python's final flush of it cannot fail a second time.
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    raise SystemExit(EXIT_CLOSED_PIPE)


app = typer.Typer(
    name="ctsite",
    cls=CtsiteGroup,
    help="Publish ContactTracing results as a website: compile, serve, build, upload, deploy.",
    no_args_is_help=True,
    add_completion=True,
    # Help is plain text, printed exactly as written: `[data]` stays `[data]`, and flags show
    # no `<bool>` type after them (click's plain formatter; typer's rich panels show both).
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"ctsite {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="CTSITE_CONFIG",
            show_envvar=True,
            help="Path to ctsite.toml (default: the nearest ./ctsite.toml upwards).",
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="More output: -v info logs, -vv debug logs.",
        ),
    ] = 0,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            envvar="CTSITE_QUIET",
            show_envvar=True,
            help="Only results, warnings and errors: no progress, events or info logs.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="CTSITE_DEBUG",
            show_envvar=True,
            help="Debug logs, and the traceback of any error.",
        ),
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="AWS profile of every AWS command (default: aws_profile)."),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="AWS region of every AWS command (default: aws_region)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """ctsite: ContactTracing results → compiled store → website → AWS."""
    if verbose and quiet:
        raise typer.BadParameter("--verbose and --quiet exclude each other", param_hint="-v/-q")
    attach(
        ctx,
        config_file,
        verbose=verbose,
        quiet=quiet,
        debug=debug,
        profile=profile,
        region=region,
    )
    setup_logging(log_level(verbose, quiet, debug))


# Each command lives in the CLI module of the same-named workflow (ctsite/cli/X.py ↔ workflow X):
COMMAND_MODULES = (
    config,  # config                                      ↔ ctsite/config.py
    init,  # init                                          ↔ ctsite/compile/init.py
    compile,  # compile, export, demo                      ↔ ctsite/compile/
    web,  # serve, hash-code                               ↔ ctsite/web/
    figures,  # figures                                    ↔ ctsite/figures/precomputed.py
    image,  # build-push, docker-run, images               ↔ ctsite/deploy/image.py
    upload,  # upload-data                                 ↔ ctsite/deploy/upload.py
    deploy,  # deploy                                      ↔ ctsite/deploy/deploy.py
    environment,  # status, versions, open, logs, restart, events, health, alerts
    #                                                      ↔ ctsite/deploy/environment/
    doctor,  # doctor                                      ↔ ctsite/deploy/doctor.py
    release,  # release                                    ↔ ctsite/deploy/release.py
    provision,  # provision plan|apply|destroy|check, swap ↔ ctsite/deploy/provision/
    export_site,  # export-site                            ↔ ctsite/deploy/static_site/
    publish_site,  # publish-site                          ↔ ctsite/deploy/static_site/
    retire,  # retire                                      ↔ ctsite/deploy/retire.py
)
for module in COMMAND_MODULES:
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning ctsite errors into one clear line and an exit code.

    Typer's standalone mode reports usage errors (unknown command, bad option value) itself,
    as a short usage message and exit code 2. Ctrl-C and SIGTERM unwind the command (its cleanup
    runs) and exit 130 / 143 with one line saying what the command left behind (the rule is
    `ctsite.lifecycle`'s). A closed output pipe ends it silently (141).
    """
    from ctsite.lifecycle import interrupt, stop_message, stop_signals_interrupt

    stopped: Stopped | None = None
    with stop_signals_interrupt(outermost=True) as signals:
        try:
            app(args=argv, prog_name="ctsite")
        except Stopped as stop:  # a command stopped by a signal: what it left, in one line
            signals.held = True  # further stop signals only wait; the line is printed below
            # The program ends because of that signal, even when a command's own guard took it
            # (the upload's server guard): so past the guard further ones are ignored.
            signals.received = signals.received or stop.signum
            stopped = stop
        except CtsiteError as error:
            print_error(error)
            sys.exit(error.exit_code)
        except BrokenPipeError:
            closed_pipe()
        except SystemExit as done:
            if signals.received is None or done.code in (0, None):
                raise  # no signal, or the command handled it (docker-run stops its container)
    # Past the guard, after a stop, further stop signals are ignored (outermost=True).
    if stopped is not None:
        print_error(CtsiteError(stopped.message))
        sys.exit(stopped.exit_code)
    if signals.received is None:
        return
    print_error(CtsiteError(stop_message(interrupt(signals.received))))
    sys.exit(signals.exit_code)

"""CLI commands of the website: `serve` and `hash-code`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ctsite.cli.console import console, err_console, warn
from ctsite.cli.context import settings
from ctsite.cli.render import esc
from ctsite.config import Settings
from ctsite.errors import StoreError


def store_path(s: Settings, data: Path | None) -> Path:
    """The store to serve: --data, else the configured one, else (only when there is no store
    at all) the demo, built if needed."""
    from ctsite.store import Store

    if data is not None:
        Store.open(data)  # a clear error now rather than a 503 later
        return data
    try:
        Store.open(s.compiled_path)
        if s.data:
            say_if_stale(s)
        return s.compiled_path
    except StoreError as error:
        if error.reason != "store-missing":
            raise  # a store that is there but damaged: say so, never serve the demo instead
        if s.data:
            raise StoreError(
                error.message,
                hint="run `ctsite compile` first (your ctsite.toml has a [data] section)",
            ) from None
    from ctsite.compile.demo import ensure_demo_store

    demo = s.path(s.demo_dir)
    err_console.print(f"No data configured: serving the demo dataset from {esc(str(demo))}")
    with err_console.status("Preparing the demo dataset (first run only)…"):
        return ensure_demo_store(demo)


def say_if_stale(s: Settings) -> None:
    """Warn when the store is not a compile of ctsite.toml as it is now (its inputs, [site] or
    [figures] changed): the site shows what the store carries, and `ctsite compile` applies the
    change, to this server too, without a restart. A configuration compile would refuse is
    left to `compile` to explain."""
    from ctsite.compile.workflow import store_up_to_date
    from ctsite.errors import CtsiteError

    try:
        current = store_up_to_date(s)
    except CtsiteError:
        return
    if not current:
        warn(
            "the store was not compiled from ctsite.toml as it is now (its inputs, [site] or "
            "[figures] changed): run `ctsite compile` to apply the change (no restart needed)"
        )


def serve_cmd(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (1-65535).")] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Compiled store to serve (default: compiled_dir).")
    ] = None,
    reload: Annotated[
        bool,
        typer.Option(
            "--reload", help="Development: restart when a source file changes (Werkzeug)."
        ),
    ] = False,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the site in the web browser once it listens.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="gunicorn worker processes.")
    ] = 1,
) -> None:
    """Run the website locally (the demo dataset when no data is configured).

    It runs under gunicorn, the server of the image, where the platform has it, else under
    Werkzeug's threaded server (Windows); --reload uses Werkzeug's reloader.
    """
    from ctsite.cli.context import state
    from ctsite.web.app import create_app
    from ctsite.web.serve import run

    s = settings(ctx, serve_host=host, serve_port=port)
    path = store_path(s, data)

    def announce(url: str, server: str) -> None:
        console.print(
            f"Serving {esc(str(path))} at [bold]{esc(url)}[/] ({server}; Ctrl+C to stop)",
            soft_wrap=True,
        )

    run(
        create_app(s, store_path=path),
        s.serve_host,
        s.serve_port,
        reload=reload,
        workers=workers,
        verbose=state(ctx).verbose > 0 or state(ctx).debug,
        open_browser=open_browser,
        announce=announce,
    )


def hash_code_cmd(
    code: Annotated[
        str | None,
        typer.Option(help="The access code (prompted for, hidden, when not given)."),
    ] = None,
) -> None:
    """Print a salted hash of an access code and a new session key, as environment settings.

    The hash (CTSITE_SITE_ACCESS_CODE_HASH) may be public; the key (CTSITE_SITE_SECRET_KEY) signs
    the visitors' session cookies and must stay secret. Setting a new key logs everyone out.
    """
    from ctsite.web.security import hash_code, new_secret_key

    if code is None:
        code = typer.prompt("Access code", hide_input=True, confirmation_prompt=True)
    encoded = hash_code(code)
    print(f"CTSITE_SITE_ACCESS_CODE_HASH='{encoded}'")
    print(f"CTSITE_SITE_SECRET_KEY='{new_secret_key()}'")
    err_console.print(
        "Set both in the site's environment (the code itself is not stored; keep the key secret)."
    )


def register(app: typer.Typer) -> None:
    """Add `serve` and `hash-code` to the main app."""
    app.command("serve")(serve_cmd)
    app.command("hash-code")(hash_code_cmd)

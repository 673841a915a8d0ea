"""CLI commands of the website: `serve`, `figures` and `hash-code`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ctsite.console import console, err_console
from ctsite.errors import CtsiteError, StoreError


def register(app: typer.Typer) -> None:
    """Add the web commands to the main app."""
    app.command("serve")(serve_cmd)
    app.command("figures")(figures_cmd)
    app.command("hash-code")(hash_code_cmd)


def _store_path(data: Path | None) -> Path:
    """The store to serve: --data, else the configured one, else the demo (built if needed)."""
    from ctsite.cli import settings
    from ctsite.compile.store import Store

    s = settings()
    if data is not None:
        Store.open(data)  # a clear error now rather than a 503 later
        return data
    try:
        Store.open(s.compiled_path)
        return s.compiled_path
    except StoreError as error:
        if s.data:
            raise StoreError(
                error.message,
                hint="run `ctsite compile` first (your ctsite.toml has a [data] section)",
            ) from None
    from ctsite.compile.demo import ensure_demo_store

    demo = s.path(s.demo_dir)
    err_console.print(f"No data configured: serving the demo dataset from {escape(str(demo))}")
    with err_console.status("Preparing the demo dataset (first run only)…"):
        return ensure_demo_store(demo)


def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Compiled store to serve (default: compiled_dir).")
    ] = None,
) -> None:
    """Run the website locally (the demo dataset when no data is configured)."""
    from werkzeug.serving import run_simple

    from ctsite.cli import settings
    from ctsite.web.app import create_app

    s = settings(serve_host=host, serve_port=port)
    store_path = _store_path(data)
    app = create_app(s, store_path=store_path)
    console.print(
        f"Serving {store_path} at [bold]http://{s.serve_host}:{s.serve_port}/[/] (Ctrl+C to stop)"
    )
    try:
        run_simple(
            s.serve_host, s.serve_port, app, threaded=True, use_reloader=False, use_debugger=False
        )
    except OSError as error:
        raise CtsiteError(
            f"cannot listen on {s.serve_host}:{s.serve_port}: {error.strerror or error}",
            hint="choose another --port, or stop the program using it",
        ) from None


def figures_cmd(
    data: Annotated[
        Path | None, typer.Option("--data", help="Compiled store (default: compiled_dir).")
    ] = None,
) -> None:
    """Precompute the default view of every figure (Plotly JSON) into the store."""
    from ctsite.cli import settings
    from ctsite.compile.store import Store
    from ctsite.web.cache import precompute_defaults

    store = Store.open(data or settings().compiled_path)

    def done(figure: str, condition: str, size: int, seconds: float) -> None:
        console.print(
            f"  {figure:<9} {condition:<45} {size / 1024:8.1f} KiB  {seconds * 1000:7.0f} ms"
        )

    paths = precompute_defaults(store, on_done=done)
    console.print(f"Wrote {len(paths)} figure(s) to {escape(str(store.figure_cache_dir()))}")


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

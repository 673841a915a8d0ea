"""How `ctsite serve` runs the website: gunicorn where the platform has it (as in the image),
else Werkzeug's threaded server (Windows), or Werkzeug's reloader with `--reload`.

Either way the start-up is one line written by ctsite (no "development server" banner); with
`-v` gunicorn's own log and the access log are shown too. `open_url` opens the browser once
the socket listens.
"""

from __future__ import annotations

import logging
import os
import threading
import webbrowser
from collections.abc import Callable
from typing import Any


def gunicorn_available() -> bool:
    """True where gunicorn can run (it needs fcntl, so never on Windows)."""
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def run_gunicorn(
    app: Any,
    host: str,
    port: int,
    *,
    workers: int = 1,
    threads: int = 4,
    verbose: bool = False,
    when_ready: Callable[[], None] | None = None,
) -> None:
    """Serve `app` with gunicorn in this process (the arbiter) until Ctrl-C or SIGTERM."""
    from gunicorn.app.base import BaseApplication

    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "loglevel": "info" if verbose else "warning",
        "accesslog": "-" if verbose else None,
        "errorlog": "-",
        "proc_name": "ctsite-serve",
    }
    if when_ready is not None:
        options["when_ready"] = lambda _arbiter: when_ready()

    class Server(BaseApplication):  # gunicorn's documented "custom application"
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1 (as the image)
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return app

    Server().run()


class _NoDevBanner(logging.Filter):
    """Drop Werkzeug's start-up banner (ctsite prints its own line); keep the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "This is a development server" not in record.getMessage()


def run_werkzeug(
    app: Any,
    host: str,
    port: int,
    *,
    reload: bool = False,
    verbose: bool = False,
    when_ready: Callable[[], None] | None = None,
) -> None:
    """Serve `app` with Werkzeug (threaded; with `reload`, restarted when a source changes)."""
    from werkzeug.serving import make_server, run_simple

    log = logging.getLogger("werkzeug")
    log.addFilter(_NoDevBanner())
    if not verbose:
        log.setLevel(logging.WARNING)
    if reload:
        if when_ready is not None and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
            threading.Timer(1.0, when_ready).start()
        run_simple(host, port, app, threaded=True, use_reloader=True, use_debugger=False)
        return
    server = make_server(host, port, app, threaded=True)
    if when_ready is not None:
        threading.Timer(0.2, when_ready).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()


def open_url(url: str) -> Callable[[], None]:
    """A callback that opens `url` in the web browser (when the server is ready)."""

    def go() -> None:
        webbrowser.open(url)

    return go

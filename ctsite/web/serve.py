"""THE web-server runner: how the website is served, in the foreground or in the background.

- `run` (`ctsite serve`): gunicorn where the platform has it (as in the image), else Werkzeug's
  threaded server (Windows), or Werkzeug's reloader with `reload`; until Ctrl-C or SIGTERM. The
  start-up line is the caller's (`announce`; no "development server" banner); with `verbose`
  the server's own log and the access log are shown too.
- `BackgroundSite` (`ctsite.api.serve`): Werkzeug's threaded server in a background thread of
  this process, no access log, `stop()` ends it.

Both take their address through `listen`, the one rule for "cannot listen on host:port": a
`CtsiteError` before any server announces an address it cannot take (never a server's own
print-and-exit), and an IPv6 host (`::1`) on an IPv6 socket.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ctsite.errors import CtsiteError

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

Announce = Callable[[str, str], None]  # (the site's URL, the server's name)


def _ipv6(host: str) -> bool:
    return ":" in host


def site_url(host: str, port: int) -> str:
    """The address of the site as a URL (an IPv6 host in brackets)."""
    shown = f"[{host}]" if _ipv6(host) else host
    return f"http://{shown}:{port}/"


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: a free one), or the one clear error saying why
    not. Every way of serving checks its address here."""
    family = socket.AF_INET6 if _ipv6(host) else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise CtsiteError(
            f"cannot listen on {host}:{port}: {error.strerror or error}",
            hint="choose another port, or stop the program using it",
        ) from None


def _werkzeug_server(
    app: Flask, host: str, listener: socket.socket, handler: type[WSGIRequestHandler] | None
) -> BaseWSGIServer:
    """Werkzeug's threaded server on a socket `listen` bound (closed here: the server has its
    own copy)."""
    from werkzeug.serving import make_server

    with listener:
        port = int(listener.getsockname()[1])
        return make_server(
            host, port, app, threaded=True, request_handler=handler, fd=listener.fileno()
        )


# ---------------------------------------------------------------- in the foreground


def gunicorn_available() -> bool:
    """True where gunicorn can run (it needs fcntl, so never on Windows)."""
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def server_name(reload: bool) -> str:
    """Which server `run` uses, as the start-up line names it."""
    return "Werkzeug, reloading" if reload else "gunicorn" if gunicorn_available() else "Werkzeug"


def run(
    app: Flask,
    host: str,
    port: int,
    *,
    reload: bool = False,
    workers: int = 1,
    verbose: bool = False,
    open_browser: bool = False,
    announce: Announce | None = None,
) -> None:
    """Serve `app` on host:port in this process until Ctrl-C (gunicorn, else Werkzeug; Werkzeug's
    reloader with `reload`). `announce(url, server)` is called once the address is known to be
    free, `open_browser` opens the site once the server listens."""
    url = site_url(host, port)
    server = server_name(reload)
    ready = (lambda: webbrowser.open(url)) if open_browser else None
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        # Werkzeug's reloader runs the program again in a child that serves the socket the
        # parent bound: the address was checked, and announced, there.
        _run_reloading(app, host, port, verbose=verbose, when_ready=None)
        return
    listener = listen(host, port)
    if announce is not None:
        announce(url, server)
    if server == "Werkzeug":
        _run_werkzeug(app, host, listener, verbose=verbose, when_ready=ready)
        return
    listener.close()  # gunicorn and Werkzeug's reloader bind it themselves
    if reload:
        _run_reloading(app, host, port, verbose=verbose, when_ready=ready)
    else:
        _run_gunicorn(app, host, port, workers=workers, verbose=verbose, when_ready=ready)


def _run_gunicorn(
    app: Flask,
    host: str,
    port: int,
    *,
    workers: int,
    verbose: bool,
    when_ready: Callable[[], object] | None,
) -> None:
    """Serve `app` with gunicorn in this process (the arbiter) until Ctrl-C or SIGTERM."""
    from gunicorn.app.base import BaseApplication

    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if _ipv6(host) else f"{host}:{port}",
        "workers": workers,
        "threads": 4,
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

        def load(self) -> Flask:
            return app

    Server().run()


class _NoDevBanner(logging.Filter):
    """Drop Werkzeug's start-up banner (ctsite prints its own line); keep the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "This is a development server" not in record.getMessage()


def _quiet_werkzeug(verbose: bool) -> None:
    """No banner; the access log only with `verbose`."""
    log = logging.getLogger("werkzeug")
    log.addFilter(_NoDevBanner())
    if not verbose:
        log.setLevel(logging.WARNING)


def _run_werkzeug(
    app: Flask,
    host: str,
    listener: socket.socket,
    *,
    verbose: bool,
    when_ready: Callable[[], object] | None,
) -> None:
    """Serve `app` with Werkzeug's threaded server on `listener` until Ctrl-C."""
    _quiet_werkzeug(verbose)
    httpd = _werkzeug_server(app, host, listener, None)
    if when_ready is not None:
        threading.Timer(0.2, when_ready).start()
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()


def _run_reloading(
    app: Flask, host: str, port: int, *, verbose: bool, when_ready: Callable[[], object] | None
) -> None:
    """Serve `app` with Werkzeug's reloader: restarted when a source file changes."""
    from werkzeug.serving import run_simple

    _quiet_werkzeug(verbose)
    if when_ready is not None:
        threading.Timer(1.0, when_ready).start()
    run_simple(host, port, app, threaded=True, use_reloader=True, use_debugger=False)


# ---------------------------------------------------------------- in the background


class BackgroundSite:
    """The website served by a real HTTP server in a background thread (`stop()` ends it)."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        from werkzeug.serving import WSGIRequestHandler

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                """No access log in the notebook."""

        self._server = _werkzeug_server(app, host, listen(host, port), QuietHandler)
        self.url = site_url(host, self._server.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"ctsite-site-{self._server.port}", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the server is still serving."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, close the socket and wait for the thread (safe to call twice)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server_close()

    def __enter__(self) -> BackgroundSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"BackgroundSite({self.url!r}, {'running' if self.running else 'stopped'})"

    def _repr_html_(self) -> str:
        state = "running" if self.running else "stopped"
        return f'ctsite site <a href="{self.url}" target="_blank">{self.url}</a> ({state})'

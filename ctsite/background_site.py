"""The website served by a real HTTP server in a background thread of this process.

For notebooks and scripts (`ctsite.api.serve`): werkzeug's threaded server on a socket bound
here (a busy port is a `CtsiteError`, not werkzeug's exit), no access log, `stop()` to end it.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from ctsite.errors import CtsiteError


class BackgroundSite:
    """The website served by a real HTTP server in a background thread (`stop()` ends it)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                """No access log in the notebook."""

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:  # bound here: werkzeug would print and exit on a busy port
            listener = socket.create_server((host, port), family=family)
        except OSError as error:
            raise CtsiteError(
                f"cannot listen on {host}:{port}: {error.strerror or error}",
                hint="choose another port, or stop the program using it",
            ) from None
        with listener:
            port = int(listener.getsockname()[1])
            self._server = make_server(
                host, port, app, threaded=True, request_handler=QuietHandler, fd=listener.fileno()
            )
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self._server.port}/"
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

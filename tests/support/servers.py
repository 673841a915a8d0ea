"""Real HTTP servers for the tests, each in a thread: a WSGI app (the ctsite app, or a stand-in
site), or a `http.server` request handler (a stand-in for S3, an AWS endpoint, …)."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from werkzeug.serving import make_server


@contextlib.contextmanager
def running(server: socketserver.BaseServer) -> Iterator[None]:
    """Serve with `server` in a thread while the block runs; shut down, the socket closed and
    the thread joined on the way out."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def serving(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the WSGI `app` (threaded werkzeug, a free port on `host`) while the block runs;
    yields its base URL, e.g. `http://127.0.0.1:40123`."""
    httpd = make_server(host, 0, app, threaded=True)
    with running(httpd):
        yield f"http://{host}:{httpd.server_port}"


@contextlib.contextmanager
def handling(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve with the request handler class (a threading `http.server` on a free loopback
    port) while the block runs; yields its base URL, e.g. `http://127.0.0.1:40123`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with running(server):
        yield f"http://127.0.0.1:{server.server_port}"

"""A real HTTP server for a WSGI app (the ctsite app, or a stand-in site), in a thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from werkzeug.serving import make_server


@contextlib.contextmanager
def serving(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` (threaded werkzeug, a free port on `host`) while the block runs; yields its
    base URL, e.g. `http://127.0.0.1:40123`. The server is shut down and its socket closed on
    the way out."""
    httpd = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)

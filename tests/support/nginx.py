"""A real nginx in front of a local server, configured like Elastic Beanstalk's Docker platform
(Amazon Linux 2023): `proxy_pass` to the container's port with Host, X-Real-IP and
X-Forwarded-For (`$proxy_add_x_forwarded_for`: the client's header plus the connection's address)
and the repository's own `.platform/nginx/conf.d/*.conf` at the http level, as EB includes them."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.components import unavailable

REPO = Path(__file__).resolve().parents[2]
PLATFORM_CONF = REPO / ".platform" / "nginx" / "conf.d"

# The server block of EB's Docker nginx.conf (AL2023), the upstream being our port.
EB_DOCKER_SERVER = """
 upstream docker {{ server 127.0.0.1:{upstream}; keepalive 16; }}
 map $http_upgrade $connection_upgrade {{ default "upgrade"; "" ""; }}
 server {{
  listen 127.0.0.1:{port} default_server;
  gzip on;
  gzip_comp_level 4;
  gzip_types text/plain text/css application/json application/javascript text/xml
             application/xml text/javascript;
  location / {{
   proxy_pass http://docker;
   proxy_http_version 1.1;
   proxy_set_header Connection $connection_upgrade;
   proxy_set_header Upgrade $http_upgrade;
   proxy_set_header Host $host;
   proxy_set_header X-Real-IP $remote_addr;
   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  }}
 }}
"""


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        unavailable("nginx not installed (Debian package nginx-light)")
    return nginx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def eb_nginx(folder: Path, upstream: int, timeout: float = 20) -> Iterator[int]:
    """nginx as on EB in front of 127.0.0.1:`upstream`; yields the port it listens on."""
    nginx = nginx_binary()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n include {PLATFORM_CONF}/*.conf;\n"
        + EB_DOCKER_SERVER.format(upstream=upstream, port=port)
        + "}\n"
    )
    proc = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"nginx did not start: {output}")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)

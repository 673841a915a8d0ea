"""The static site's bucket as the tests see it: its objects read back from moto's S3, a tiny
HTTP server replaying them with their stored headers (as CloudFront replays S3's), the check
that every page names only files the bucket holds, and a proxy in front of moto that SIGKILLs
a publishing process at its Nth write."""

from __future__ import annotations

import contextlib
import http.client
import os
import posixpath
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.support.servers import handling

RECORD = ".ctsite-publish.json"


@dataclass(frozen=True)
class Stored:
    """One object as S3 holds it: the bytes as stored and the headers a host replays."""

    body: bytes
    content_type: str
    content_encoding: str
    cache_control: str
    metadata: dict[str, str]


def bucket_objects(s3: Any, bucket: str) -> dict[str, Stored]:
    """Every object of the bucket, read back with GetObject."""
    found: dict[str, Stored] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            got = s3.get_object(Bucket=bucket, Key=item["Key"])
            found[item["Key"]] = Stored(
                body=got["Body"].read(),
                content_type=got.get("ContentType", ""),
                content_encoding=got.get("ContentEncoding", ""),
                cache_control=got.get("CacheControl", ""),
                metadata=dict(got.get("Metadata", {})),
            )
    return found


def decoded(stored: Stored) -> bytes:
    """The file's bytes as a browser gets them (gzip undone)."""
    import gzip

    return gzip.decompress(stored.body) if stored.content_encoding == "gzip" else stored.body


URL_ATTRIBUTE = re.compile(r"""\s(?:href|src)=["']([^"']+)["']""")
SRCSET = re.compile(r"""\ssrcset=["']([^"']+)["']""")
META = re.compile(r"""<meta name="ctsite-(?:data|engine)" content="([^"]+)">""")
PLOTLY = re.compile(r'"plotly":\s*"([^"]+)"')


def page_names(page: str, html: str) -> set[str]:
    """The bucket keys a page names (links, scripts, pictures, its data index and engine)."""
    urls = URL_ATTRIBUTE.findall(html) + META.findall(html) + PLOTLY.findall(html)
    for value in SRCSET.findall(html):
        urls += [part.strip().split(" ")[0] for part in value.split(",")]
    keys = set()
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path or url.startswith("#"):
            continue
        key = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
        if parts.path.endswith("/") or key == ".":
            key = posixpath.join(key, "index.html") if key != "." else "index.html"
        keys.add(key)
    return keys


def missing_names(objects: dict[str, Stored]) -> list[tuple[str, str]]:
    """(page or index, name) for every file a page (or the data index a page names) names that
    the bucket does not hold."""
    import json

    missing = []
    for key, stored in sorted(objects.items()):
        if not key.endswith(".html"):
            continue
        for name in sorted(page_names(key, decoded(stored).decode("utf-8"))):
            if name not in objects:
                missing.append((key, name))
            elif re.fullmatch(r"data/store\.[0-9a-f]{16}\.json", name):
                index = json.loads(decoded(objects[name]))
                for data in index["files"].values():
                    if f"data/{data}" not in objects:
                        missing.append((name, f"data/{data}"))
    return missing


@contextlib.contextmanager
def serve_objects(objects: dict[str, Stored]) -> Iterator[str]:
    """An HTTP server (in this process) answering GET from `objects` with their stored
    Content-Type, Content-Encoding and Cache-Control, as CloudFront in front of the bucket does
    (a folder's address serves its index.html; a missing key the 404 page, status 404)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key = unquote(urlsplit(self.path).path).lstrip("/")
            if key == "" or key.endswith("/"):
                key += "index.html"
            status = 200
            if key not in objects:
                status, key = 404, "404.html"
            stored = objects[key]
            self.send_response(status)
            self.send_header("Content-Type", stored.content_type)
            if stored.content_encoding:
                self.send_header("Content-Encoding", stored.content_encoding)
            self.send_header("Cache-Control", stored.cache_control)
            self.send_header("Content-Length", str(len(stored.body)))
            self.end_headers()
            self.wfile.write(stored.body)

        def log_message(self, *args: Any) -> None:
            pass

    with handling(Handler) as url:
        yield f"{url}/"


class KillingProxy:
    """An HTTP proxy in front of moto (AWS_ENDPOINT_URL points here) that counts the writes
    (PUT, POST, DELETE) and SIGKILLs `process` at the `kill_at`-th one — before forwarding it
    (`after=False`: the write never happens) or after (`after=True`: it happened, the answer is
    lost). `kill_at=0` never kills: a run that only counts. Armed without a process, the
    connection is dropped all the same: the network lost at that write. Armed with another
    `signum` (SIGINT: Ctrl-C), the process gets that signal and the write goes on as usual."""

    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        self.writes = 0
        self.kill_at = 0
        self.after = False
        self.signum = signal.SIGKILL
        self.process: subprocess.Popen[str] | None = None
        self.killed = threading.Event()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def relay(self) -> None:
                body = self.read_body()
                kill = False
                if self.command in ("PUT", "POST", "DELETE"):
                    with proxy.lock:
                        proxy.writes += 1
                        kill = proxy.kill_at > 0 and proxy.writes == proxy.kill_at
                if kill and proxy.signum != signal.SIGKILL:
                    proxy.kill()  # (a stop signal the process handles: the write goes on)
                    kill = False
                if kill and not proxy.after:
                    proxy.kill()
                    self.close_connection = True
                    return
                status, headers, answer = proxy.forward(self.command, self.path, self, body)
                if kill:
                    proxy.kill()
                    self.close_connection = True
                    return
                self.send_response_only(status)
                for name, value in headers:
                    lower = name.lower()
                    if lower in ("transfer-encoding", "connection"):
                        continue
                    if lower == "content-length" and self.command != "HEAD":
                        continue  # (a HEAD's is the object's size: passed on)
                    self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer)

            def read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    raw = b""
                    while True:
                        line = self.rfile.readline()
                        raw += line
                        size = int(line.split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while True:
                                trailer = self.rfile.readline()
                                raw += trailer
                                if trailer in (b"\r\n", b"\n", b""):
                                    return raw
                        raw += self.rfile.read(size + 2)
                length = int(self.headers.get("Content-Length", "0") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(
        self, method: str, path: str, request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.target.hostname or "", self.target.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.items():
                if name.lower() != "expect":  # (the proxy answered its 100 Continue)
                    conn.putheader(name, value)
            conn.endheaders(body or None)
            answer = conn.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            conn.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, self.signum)
        self.killed.set()

    def arm(
        self,
        process: subprocess.Popen[str] | None,
        kill_at: int,
        after: bool,
        signum: int = signal.SIGKILL,
    ) -> None:
        with self.lock:
            self.writes, self.kill_at, self.after, self.process = 0, kill_at, after, process
            self.signum = signum
            self.killed.clear()

    def __enter__(self) -> KillingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

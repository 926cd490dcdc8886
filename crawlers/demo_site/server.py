"""A small threaded HTTP server on 127.0.0.1 (random free port) serving a route table.

Used by ``make demo`` (the generated demo site) and by the tests (fixture files and
the broken cases: 500s, slow answers, redirect loops, huge pages). Bodies may contain
``@@BASE@@``, replaced by the server's base URL (``http://127.0.0.1:<port>``) when served.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

BASE_MARK = b"@@BASE@@"


@dataclass
class Route:
    """One response: status, body, content type, extra headers, an optional delay or redirect."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (timeouts)
    redirect: str | None = None  # Location of a 302
    chunk_delay_s: float = 0.0  # sleep between 64 KiB chunks (a slow body)


Dynamic = Callable[[str, dict[str, str]], Route | None]


class Site:
    """A route table: exact ``path?query`` first, then the path, then the dynamic handlers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.dynamic: list[Dynamic] = []
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, path: str, route: Route | bytes | str, **kwargs) -> None:
        if isinstance(route, str):
            route = route.encode("utf-8")
        if isinstance(route, bytes):
            route = Route(body=route, **kwargs)
        self.routes[path] = route

    def resolve(self, raw_path: str) -> Route | None:
        with self._lock:
            self.hits[raw_path] = self.hits.get(raw_path, 0) + 1
        if raw_path in self.routes:
            return self.routes[raw_path]
        parts = urlsplit(raw_path)
        if parts.path in self.routes:
            return self.routes[parts.path]
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        for handler in self.dynamic:
            found = handler(parts.path, query)
            if found is not None:
                return found
        return None


def _handler_for(site: Site, base: Callable[[], str]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms stalls

        def log_message(self, fmt, *args):  # keep test and demo output clean
            log.debug("demo site: " + fmt, *args)

        def do_HEAD(self):
            self.do_GET(head=True)

        def do_GET(self, head: bool = False):
            route = site.resolve(self.path)
            if route is None:
                route = Route(body=b"<html><body><h1>404</h1></body></html>", status=404)
            if route.delay_s:
                time.sleep(route.delay_s)
            body = route.body
            if BASE_MARK in body:
                body = body.replace(BASE_MARK, base().encode("ascii"))
            try:
                self.send_response(route.status)
                if route.redirect:
                    self.send_header("Location", route.redirect.replace("@@BASE@@", base()))
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if head:
                    return
                if route.chunk_delay_s:
                    for i in range(0, len(body), 65536):
                        self.wfile.write(body[i:i + 65536])
                        time.sleep(route.chunk_delay_s)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                log.debug("client went away while %s was served", self.path)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many crawler connections at once; the default 5 drops SYNs

    def handle_error(self, request, client_address):  # clients that hang up are normal here
        log.debug("demo site: connection from %s ended abruptly", client_address, exc_info=True)


class SiteServer:
    """Serve a :class:`Site` on ``127.0.0.1`` in a daemon thread; use as a context manager."""

    def __init__(self, site: Site, port: int = 0):
        self.site = site
        self.httpd = _QuietServer(("127.0.0.1", port), _handler_for(site, lambda: self.base_url))
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-site", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> SiteServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""Real HTTP(S) servers on 127.0.0.1 for tests: each route answers with a scripted behaviour.

Not a mock: clients connect over TCP (and TLS), so timeouts, refusals, drips, redirects
and compression behave as they do across the internet.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int] | None = None  # client address: tells connections apart

    def json(self) -> Any:
        return jsonlib.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        return cls(status, jsonlib.dumps(data), {"Content-Type": "application/json", **headers})


@dataclass
class Hang:
    """Accept the request and never answer (until the server stops)."""


@dataclass
class Drip:
    """Send headers, then one byte every `interval` seconds, forever."""

    interval: float = 0.2
    status: int = 200


@dataclass
class Close:
    """Close the connection without a response (a protocol error for the client)."""


@dataclass
class Stream:
    """A large body generated on the fly, so a test can offer 64 MiB without holding it."""

    size: int
    headers: dict[str, str] = field(default_factory=dict)
    chunk: bytes = b"x" * 65536
    stall_after: int | None = None  # stop sending (without closing) after this many bytes


Handler = Callable[[Request], "Reply | Hang | Drip | Close | Stream"]


class _QuietServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops SYNs when a check opens dozens of
    # connections at once; the client then waits a 1 s SYN retransmit.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a probe stopping after a bounded prefix)
        # is normal here; anything else is still printed.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            super().handle_error(request, client_address)


class LoopbackServer:
    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet tests
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    peer=(self.client_address[0], self.client_address[1]),
                )
                owner.requests.append(req)
                path = self.path.split("?", 1)[0]
                handler = owner.routes.get(self.path) or owner.routes.get(path)
                if handler is None:
                    handler = owner.routes.get("*")
                reply = handler(req) if handler else Reply(404, "<title>Not Found</title>")
                # The client gave up (timeouts, refusals): that is what these tests provoke.
                with contextlib.suppress(OSError):
                    owner._answer(self, reply)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve

        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        scheme = "https" if ssl_context else "http"
        host = "localhost" if ssl_context else "127.0.0.1"
        self.url = f"{scheme}://{host}:{self.port}"
        # A short poll interval: close() (shutdown) waits up to one interval per server.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def route(self, path: str, handler: Handler | Reply | Hang | Drip | Close | Stream) -> None:
        if callable(handler):
            self.routes[path] = handler
        else:
            fixed = handler
            self.routes[path] = lambda _req: fixed

    def _answer(self, h: BaseHTTPRequestHandler, reply: Any) -> None:
        if isinstance(reply, Hang):
            self.stopping.wait(120)
            h.close_connection = True
            return
        if isinstance(reply, Close):
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(reply, Drip):
            h.send_response(reply.status)
            h.send_header("Content-Length", str(10**9))
            h.end_headers()
            while not self.stopping.wait(reply.interval):
                h.wfile.write(b"x")
                h.wfile.flush()
            return
        if isinstance(reply, Stream):
            h.send_response(200)
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(reply.size))
            h.end_headers()
            sent = 0
            while sent < reply.size and not self.stopping.is_set():
                if reply.stall_after is not None and sent >= reply.stall_after:
                    # The rest never comes: only a client that stops early finishes.
                    h.wfile.flush()
                    self.stopping.wait(120)
                    break
                piece = reply.chunk[: reply.size - sent]
                h.wfile.write(piece)
                sent += len(piece)
            return
        if reply.delay and self.stopping.wait(reply.delay):
            return
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        h.send_response(reply.status)
        headers = {"Content-Type": "text/html; charset=utf-8", **reply.headers}
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()

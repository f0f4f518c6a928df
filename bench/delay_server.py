"""A small asyncio HTTP/1.1 server on 127.0.0.1 that answers like a site across the internet.

Routes (by path prefix):
  /api/v2/summary.json  the real operational Statuspage payload, at once
  /hang/...             read the request, never answer (until the client gives up)
  /big/...              a 64 MiB body, streamed under flow control
  /flip/K               200, or 503 while K is in the server's `down` set (detection bench)
  anything else         a small page after `delay` seconds
Keep-alive is honoured, so a client that pools connections would gain from it; the
probes and the floor scripts open a fresh one each time, as the issue requires.

`python -m bench.delay_server --port N --delay 0.05` runs it as its own process, so its
CPU is never counted as the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

BIG_BODY = 64 * 1024 * 1024
_PAGE = (
    b"<!DOCTYPE html><html><head><title>Bench site</title></head><body>"
    + b"<p>Lorem ipsum dolor sit amet.</p>" * 40
    + b"</body></html>"
)
_CHUNK = b"x" * (1 << 20)


def _response(status: str, body: bytes, content_type: bytes = b"text/html") -> bytes:
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Age: 12\r\nX-Cache: HIT\r\nX-Styx-Req-Id: bench-0001\r\n\r\n" + body
    )


class Site:
    """Shared state of one server: its delay, the sites that are down, the status payload."""

    def __init__(self, delay: float, summary: bytes) -> None:
        self.delay = delay
        self.down: set[bytes] = set()
        self.summary = _response("200 OK", summary, b"application/json")
        self.page = _response("200 OK", _PAGE)
        self.unavailable = _response("503 Service Unavailable", b"<title>503 Down</title>")


class _Connection(asyncio.Protocol):
    def __init__(self, site: Site) -> None:
        self.site = site
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.streaming = 0
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def _next(self) -> None:
        if self.busy or b"\r\n\r\n" not in self.buffer:
            return
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        parts = head.split(b" ", 2)
        path = parts[1] if len(parts) > 1 else b"/"
        self.busy = True
        loop = asyncio.get_running_loop()
        if path.startswith(b"/api/v2/summary.json"):
            self._send(self.site.summary)
        elif path.startswith(b"/hang/"):
            return
        elif path.startswith(b"/big/"):
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                b"Content-Length: " + str(BIG_BODY).encode() + b"\r\n\r\n"
            )
            self.streaming = BIG_BODY
            self._stream()
        elif path.startswith(b"/flip/"):
            down = path[len(b"/flip/"):] in self.site.down
            self._send(self.site.unavailable if down else self.site.page)
        elif self.site.delay > 0:
            loop.call_later(self.site.delay, self._send, self.site.page)
        else:
            self._send(self.site.page)

    def _send(self, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(payload)
        self.busy = False
        self._next()

    def _stream(self) -> None:
        while self.streaming > 0 and not self.paused and self.transport is not None:
            if self.transport.is_closing():
                return
            chunk = _CHUNK[: min(len(_CHUNK), self.streaming)]
            self.streaming -= len(chunk)
            self.transport.write(chunk)
        if self.streaming == 0:
            self.busy = False

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._stream()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.streaming = 0


async def start(port: int, site: Site) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: _Connection(site), "127.0.0.1", port, backlog=4096, reuse_address=True
    )


def load_summary() -> bytes:
    from bench.common import STATUSPAGE_FIXTURE

    return Path(STATUSPAGE_FIXTURE).read_bytes()


async def _serve(port: int, delay: float) -> None:
    server = await start(port, Site(delay, load_summary()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.delay))


if __name__ == "__main__":
    main()

"""Ticket: from Send to each outcome of the dashboard route, through the real session.

`python -m bench.ticket [--runs 5] [--timeout 1]`

One ticket session per run (the outbox in a temporary folder, saved with fsync before
anything is sent, each route's outcome recorded after), filed against a dashboard
stand-in on 127.0.0.1 that answers as the real one does (302 to its login page), refuses
the connection, answers 503, or accepts and never answers. Reports the median and the
worst from `file()` to the outcome, and the outcome itself: the promise is the hotline
within `ticket_timeout` (the form's watchdog adds 0.8 s on top for anything before the
routes). docs/tickets.md quotes these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import free_port


class _Dashboard(BaseHTTPRequestHandler):
    mode = "login"  # login | 503 | hang

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.mode == "hang":
            time.sleep(60)
            return
        if self.mode == "503":
            self.send_response(503)
        else:
            self.send_response(302)
            self.send_header("Location", "/login")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _server(mode: str) -> ThreadingHTTPServer:
    handler = type(f"Dashboard_{mode}", (_Dashboard,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _one(support_url: str, timeout: float) -> tuple[float, str]:
    from app.config import Config, ContactConfig, ProviderConfig, SiteConfig
    from app.credentials import CredentialStore
    from app.events import SiteStatus
    from app.models import PlatformState, PlatformStatus, PointOfFailure, SiteState
    from app.tickets.outbox import Outbox
    from app.tickets.session import TicketSession

    site = SiteConfig(name="shop", url="https://shop.example.com")
    config = Config(
        provider=ProviderConfig(ticket_timeout=timeout, support_url=support_url),
        contact=ContactConfig(name="Ada"),
        sites=(site,),
    )
    status = SiteStatus(
        name="shop", url=site.url, environment="live", state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE, reason="502 Bad Gateway",
    )
    with tempfile.TemporaryDirectory(prefix="lifeline-bench-ticket-") as tmp:
        session = TicketSession(
            config, site, outbox=Outbox(Path(tmp) / "outbox.sqlite3"),
            history_path=Path(tmp) / "history.sqlite3", credentials=CredentialStore(),
        )
        session.start(status, PlatformStatus(state=PlatformState.OPERATIONAL))
        started = time.perf_counter()
        outcome = asyncio.run(session.file())
        return time.perf_counter() - started, outcome.routes[0].outcome.value


def run(runs: int = 5, timeout: float = 1.0) -> dict[str, Any]:
    servers = {mode: _server(mode) for mode in ("login", "503", "hang")}
    ports = {mode: server.server_address[1] for mode, server in servers.items()}
    ports["refused"] = free_port()
    cases = {
        label: f"http://127.0.0.1:{ports[mode]}/#support"
        for label, mode in (
            ("answers 302 to its login page", "login"),
            ("refuses the connection", "refused"),
            ("answers 503", "503"),
            ("accepts, never answers", "hang"),
        )
    }
    _one(cases["refuses the connection"], timeout)  # imports and the CA store, once
    results: dict[str, Any] = {"timeout": timeout, "runs": runs, "cases": {}}
    for label, url in cases.items():
        samples = [_one(url, timeout) for _ in range(runs)]
        seconds = [s for s, _ in samples]
        results["cases"][label] = {
            "outcome": samples[-1][1],
            "median_s": round(statistics.median(seconds), 4),
            "max_s": round(max(seconds), 4),
        }
    for server in servers.values():
        server.shutdown()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ticket", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args(argv)
    results = run(args.runs, args.timeout)
    print(f"ticket_timeout = {results['timeout']:g} s, {results['runs']} runs each")
    print("| the dashboard | outcome | median | worst |")
    print("|---|---|---|---|")
    for label, case in results["cases"].items():
        print(f"| {label} | `{case['outcome']}` | {case['median_s'] * 1000:.0f} ms "
              f"| {case['max_s'] * 1000:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

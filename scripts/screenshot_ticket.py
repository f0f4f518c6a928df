"""Screenshots of the emergency ticket form and its two outcome panels, for the docs.

    .venv/bin/python scripts/screenshot_ticket.py [OUT_DIR]   (default docs/img)

Runs the real form offscreen with the default routes (Pantheon's: the dashboard route
only): pre-filled from a monitor snapshot of a site that is down, then real sends. First
to a fake dashboard on 127.0.0.1 that redirects to its login page, as the real one does
(the dashboard outcome: ticket-dashboard.png); then to a dashboard that refuses the
connection (the hotline outcome: ticket-fallback.png). Nothing is written outside a
temp dir and no browser is opened. `shoot_ticket_isolated(out_dir)` is what
scripts/screenshots.py calls.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.isolation import isolated  # noqa: E402


def shoot_ticket(out_dir: Path) -> list[Path]:
    import socket

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from app.config import Config, ContactConfig, ProviderConfig, SiteConfig
    from app.credentials import CredentialStore
    from app.events import SiteStatus
    from app.models import (
        CacheVerdict,
        PlatformState,
        PlatformStatus,
        PointOfFailure,
        ProbeKind,
        ProbeResult,
        SiteResult,
        SiteState,
    )
    from app.paths import default_paths
    from app.tickets.outbox import Outbox
    from app.tickets.session import TicketSession
    from ui.ticket_form import TicketForm
    from ui.workers import Workers

    app = QApplication.instance() or QApplication([])
    with socket.socket() as s:  # a port nobody listens on: the dashboard refuses at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    site = SiteConfig(name="shop", url="https://www.example-shop.com")
    contact = ContactConfig(name="Ada Owner", email="ada@example-shop.com", phone="+1 555 0100")
    first = datetime(2026, 11, 27, 8, 1, 12, tzinfo=UTC)
    now = datetime(2026, 11, 27, 8, 3, 40, tzinfo=UTC)

    def probe(kind: ProbeKind, path: str, **kw: Any) -> ProbeResult:
        url = site.url + path
        return ProbeResult(kind=kind, url=url, final_url=url, ok=False, status=502,
                           seconds=0.38, detail="502 Bad Gateway", **kw)

    result = SiteResult(
        name="shop", url=site.url, environment="live", state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE,
        reason="Anonymous visitors get 502 Bad Gateway; the origin fails too.",
        anonymous=probe(ProbeKind.ANONYMOUS, "/", cache=CacheVerdict.MISS,
                        request_id="6f1c2a9e-57b4", cache_headers={"Age": "0"}),
        backend=probe(ProbeKind.BACKEND, "/user/login", request_id="b83d41c0-2e11"),
    )
    status = SiteStatus(
        name="shop", url=site.url, environment="live", state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE, reason=result.reason, since=now,
        first_failure_at=first, last_checked=now, result=result,
    )
    dashboard = _login_redirect_server()
    platform = PlatformStatus(state=PlatformState.OPERATIONAL, indicator="none",
                              description="All Systems Operational")
    paths = default_paths()
    workers = Workers()
    out_dir.mkdir(parents=True, exist_ok=True)

    def form_for(stand_in: str) -> TicketForm:
        config = Config(provider=ProviderConfig(ticket_timeout=8), contact=contact, sites=(site,))

        def routes(_platform: Any) -> list[Any]:
            return [_ShownAsPantheon(stand_in)]

        session = TicketSession(config, site, outbox=Outbox(paths.outbox_db),
                                history_path=paths.history_db, credentials=CredentialStore(),
                                routes=routes, clock=lambda: now)
        form = TicketForm(session=session, status=status, platform=platform, workers=workers,
                          clipboard=QGuiApplication.clipboard(), open_url=lambda _url: None,
                          refresh=False)
        form.resize(720, 700)
        form.show()
        app.processEvents()
        return form

    def send(form: TicketForm) -> None:
        loop = QEventLoop()
        form.outcome.connect(lambda _outcome: loop.quit())
        form.failed.connect(lambda _reason: loop.quit())
        QTimer.singleShot(15000, loop.quit)
        form.send_button.click()
        loop.exec()
        app.processEvents()

    shots = [out_dir / "ticket-form.png", out_dir / "ticket-dashboard.png",
             out_dir / "ticket-fallback.png"]
    form = form_for(f"{dashboard[1]}/#support")
    form.grab().save(str(shots[0]))
    send(form)
    form.grab().save(str(shots[1]))
    form.close()

    form = form_for(f"http://127.0.0.1:{port}/#support")  # refused: the hotline outcome
    send(form)
    form.fallback_panel.copy_button.click()
    app.processEvents()
    form.grab().save(str(shots[2]))
    form.close()
    dashboard[0].shutdown()
    workers.shutdown()
    return shots


class _ShownAsPantheon:
    """The real dashboard route, run against a stand-in on 127.0.0.1 and shown with
    Pantheon's own support address, as a user would see it."""

    name = "dashboard"

    def __init__(self, stand_in: str) -> None:
        from app.tickets.routes.dashboard import DashboardRoute

        self.kind = DashboardRoute.kind
        self._route = DashboardRoute(support_url=stand_in)

    async def file(self, ticket: Any, *, dedup_key: str, timeout: float) -> Any:
        from dataclasses import replace

        from app.tickets.routes.dashboard import DEFAULT_SUPPORT_URL

        result = await self._route.file(ticket, dedup_key=dedup_key, timeout=timeout)
        return replace(result, url=DEFAULT_SUPPORT_URL)


def _login_redirect_server() -> tuple[Any, str]:
    """A dashboard stand-in on 127.0.0.1: every page redirects to the login page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Login(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(302)
            self.send_header("Location", "/login")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Login)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def shoot_ticket_isolated(out_dir: Path) -> list[Path]:
    """For scripts/screenshots.py: shoot_ticket inside `isolated()`."""
    with isolated():
        return shoot_ticket(out_dir)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    for shot in shoot_ticket_isolated(out.resolve()):
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Screenshots of the emergency ticket form and its fallback panel, for the docs.

    .venv/bin/python scripts/screenshot_ticket.py [OUT_DIR]   (default docs/img)

Runs the real form offscreen: pre-filled from a monitor snapshot of a site that is down,
then a real send to a ticket API on 127.0.0.1 that refuses the connection, so the
fallback panel is the one a user would get. Nothing is written outside a temp dir.
`shoot_ticket_isolated(out_dir)` is what scripts/screenshots.py calls.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
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
    from app.tickets.jobs import TicketJobs, ticket_jobs
    from ui.ticket_form import TicketForm
    from ui.workers import Workers

    app = QApplication.instance() or QApplication([])
    with socket.socket() as s:  # a port nobody listens on: the API refuses at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    site = SiteConfig(name="shop", url="https://www.example-shop.com")
    provider = ProviderConfig(ticket_api=f"http://127.0.0.1:{port}", ticket_timeout=8)
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
    platform = PlatformStatus(state=PlatformState.OPERATIONAL, indicator="none",
                              description="All Systems Operational")
    paths = default_paths()
    config = Config(provider=provider, contact=contact, sites=(site,))
    jobs: TicketJobs = ticket_jobs(config, site, outbox_path=paths.outbox_db,
                                   history_path=paths.history_db, credentials=CredentialStore())
    jobs = TicketJobs(save=jobs.save, send=jobs.send, mark_handled=jobs.mark_handled)
    workers = Workers()

    def run_in_worker(fn: Callable[[], Any], callback: Callable[[Any], None] | None = None,
                      *, on_error: Callable[[BaseException], None] | None = None) -> None:
        workers.submit(fn, callback, on_error)

    form = TicketForm(site=site, provider=provider, contact=contact, status=status,
                      platform=platform, jobs=jobs, run_in_worker=run_in_worker,
                      clipboard=QGuiApplication.clipboard(), now=now)
    form.resize(720, 640)
    form.show()
    form.diagnostics_toggle.setChecked(True)
    form.diagnostics_toggle.setChecked(False)
    app.processEvents()
    out_dir.mkdir(parents=True, exist_ok=True)
    shots = [out_dir / "ticket-form.png", out_dir / "ticket-fallback.png"]
    form.grab().save(str(shots[0]))

    loop = QEventLoop()
    form.failed.connect(lambda _reason: loop.quit())
    QTimer.singleShot(15000, loop.quit)
    form.send_button.click()
    loop.exec()
    form.fallback_panel.copy_button.click()
    app.processEvents()
    form.grab().save(str(shots[1]))
    form.close()
    workers.shutdown()
    return shots


def shoot_ticket_isolated(out_dir: Path) -> list[Path]:
    """For scripts/screenshots.py: shoot_ticket inside `isolated()`."""
    # The form reads the token from the environment: no keyring is involved.
    with isolated(LIFELINE_TICKET_TOKEN="screenshot-token"):
        return shoot_ticket(out_dir)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    for shot in shoot_ticket_isolated(out.resolve()):
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())

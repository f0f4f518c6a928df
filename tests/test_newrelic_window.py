"""New Relic in the tray: the site submenu entry and the findings window (pytest-qt)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtWidgets import QMenu

from app.config import Config, NewRelicConfig, SiteConfig
from app.credentials import CredentialStore
from app.events import MonitorSnapshot, SiteStatus
from app.models import OverallState, PointOfFailure, SiteState
from app.paths import Paths
from tests.loopback import LoopbackServer
from tests.newrelic_fake import KEY, NerdGraphFake
from tests.recording_workers import RecordingWorkers
from ui.icons import IconSet
from ui.menu import MenuHandlers, MenuState, find_action, populate
from ui.newrelic_window import NewRelicWindow

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SHOP = SiteConfig(name="Shop", url="https://shop.example.test/", newrelic_app="Shop (live)")
BLOG = SiteConfig(name="Blog", url="https://blog.example.test/")
ENTRY = "New Relic: slowest transactions…"


def status(site: SiteConfig) -> SiteStatus:
    return SiteStatus(
        name=site.name, url=site.url, environment="live", state=SiteState.DEGRADED,
        point_of_failure=PointOfFailure.SITE, reason="Slow for visitors", last_checked=NOW,
    )


def build_menu(opened: list[str] | None) -> QMenu:
    config = Config(sites=(SHOP, BLOG))
    snapshot = MonitorSnapshot(
        overall=OverallState.DEGRADED, sites=(status(SHOP), status(BLOG)), last_check=NOW
    )
    handlers = MenuHandlers(
        open_url=lambda u: None, check_now=lambda s: None, open_settings=lambda: None,
        pause=lambda how: None, about=lambda: None, quit=lambda: None,
        open_newrelic=opened.append if opened is not None else None,
    )
    menu = QMenu()
    populate(menu, snapshot, config, handlers, IconSet(), MenuState(now=NOW))
    return menu


def test_site_submenu_offers_new_relic_only_where_configured(qapp: Any) -> None:
    opened: list[str] = []
    menu = build_menu(opened)
    action = find_action(menu, ENTRY)
    assert action is not None
    action.trigger()
    assert opened == ["Shop"]
    # Only one site has newrelic_app, so only one entry exists.
    count = sum(
        1 for sub in menu.findChildren(QMenu)
        for a in sub.actions() if a.text().replace("&", "") == ENTRY
    )
    assert count == 1


def test_no_entry_without_a_handler(qapp: Any) -> None:
    assert find_action(build_menu(None), ENTRY) is None


def test_window_shows_findings_fetched_off_the_gui_thread(
    qtbot: Any, server: LoopbackServer, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", KEY)
    fake = NerdGraphFake(server)
    config = Config(
        newrelic=NewRelicConfig(account_id=fake.account, endpoint=fake.endpoint), sites=(SHOP,)
    )
    workers = RecordingWorkers()
    window = NewRelicWindow(
        config, SHOP, store=CredentialStore(plaintext_path=paths.plaintext_secrets),
        workers=workers,
    )
    qtbot.addWidget(window)
    window.finished.connect(lambda _code: workers.shutdown())
    window.show()
    assert window.status.text() == "Asking New Relic about Shop (live)…"
    qtbot.waitUntil(lambda: window.findings is not None, timeout=10_000)
    assert workers.threads and threading.get_ident() not in workers.threads
    text = window.text.toPlainText()
    assert "WebTransaction/Action/cart: 6.50 s / 12.25 s, 31" in text
    assert "error rate 3.5% of 420 requests" in text

    fake.mode = "errors"
    window.refresh_button.click()
    qtbot.waitUntil(lambda: "No New Relic findings" in window.status.text(), timeout=10_000)
    assert "Account not found" in window.status.text()

"""The ticket form under pytest-qt, with the real bridge worker, outbox and ticket server."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QPushButton

from app.config import Config, SiteConfig
from app.credentials import CredentialStore
from app.events import MonitorSnapshot, SiteStatus
from app.models import PlatformStatus, SiteState
from app.paths import Paths
from app.tickets.outbox import DraftState, Outbox
from app.tickets.session import TicketSession
from tests.conftest import summary_payload
from tests.loopback import Hang, LoopbackServer, Reply, free_port
from tests.ticket_samples import (
    CONTACT,
    DETECTED,
    DEV_SITE,
    PLANTED_TOKEN,
    PLATFORM_INCIDENT,
    PLATFORM_OK,
    REFUSED_SUPPORT_URL,
    SITE,
    IdleMonitor,
    down_result,
    down_status,
    operational_status,
    provider,
)
from ui.bridge import Bridge
from ui.fallback_panel import tel_uri
from ui.ticket_form import SitePicker, TicketForm, open_ticket_form


@pytest.fixture
def make_bridge(qtbot: Any) -> Iterator[Callable[..., Bridge]]:
    bridges: list[Bridge] = []

    def make(snapshot: MonitorSnapshot | None = None, config: Config | None = None) -> Bridge:
        bridge = Bridge(IdleMonitor(snapshot), config or Config())
        with qtbot.waitSignal(bridge.snapshotChanged, timeout=5000):
            bridge.start()
        bridges.append(bridge)
        return bridge

    yield make
    for bridge in bridges:
        bridge.stop()
        assert bridge.join(5)


@pytest.fixture
def tickets(server: LoopbackServer) -> LoopbackServer:
    server.route(
        "/tickets", Reply.json({"id": "T-1042", "url": "https://help.example/T-1042"}, 201)
    )
    return server


@pytest.fixture
def dashboard(make_server: Any) -> LoopbackServer:
    """The provider's dashboard: a visitor without a session goes to the login page."""
    srv: LoopbackServer = make_server()
    srv.route("*", Reply(302, "", {"Location": "/login"}))
    return srv


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", PLANTED_TOKEN)
    return PLANTED_TOKEN


def config_for(
    api: str,
    *,
    site: SiteConfig = SITE,
    timeout: float = 1.0,
    dashboard: LoopbackServer | None = None,
    tier: str = "unknown",
    **more: Any,
) -> Config:
    url = f"{dashboard.url}/#support" if dashboard is not None else REFUSED_SUPPORT_URL
    chosen = provider(
        ticket_api=api, ticket_timeout=timeout, support_url=url, support_tier=tier, **more
    )
    return Config(provider=chosen, contact=CONTACT, sites=(site,))


def make_form(
    qtbot: Any,
    bridge: Bridge,
    paths: Paths,
    config: Config,
    *,
    status: SiteStatus | None = None,
    platform: PlatformStatus | None = PLATFORM_OK,
    refresh: bool = False,
    opened: list[str] | None = None,
) -> TicketForm:
    session = TicketSession(
        config,
        config.sites[0],
        outbox=Outbox(paths.outbox_db),
        history_path=paths.history_db,
        credentials=CredentialStore(),
        clock=lambda: DETECTED,  # the fresh check happens "now" on the day of the outage
    )
    form = TicketForm(
        session=session,
        status=status if status is not None else down_status(),
        platform=platform,
        workers=bridge.workers,
        clipboard=QGuiApplication.clipboard(),
        open_url=(opened.append if opened is not None else lambda _url: None),
        refresh=refresh,
    )
    qtbot.addWidget(form)
    form.show()
    return form


def lines(form: TicketForm) -> str:
    return form.fallback_panel.routes_label.text()


def test_prefilled_from_the_snapshot(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer
) -> None:
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url))
    assert form.subject.text() == "EMERGENCY: shop (live) down: 502 Bad Gateway since 08:01 UTC"
    assert form.subject.isReadOnly()
    description = form.description.toPlainText()
    assert "Anonymous visitors get 502 Bad Gateway." in description
    assert "request id req-abc-123" in description
    assert (form.contact_name.text(), form.contact_email.text(), form.contact_phone.text()) == (
        "Ada Owner",
        "ada@example.com",
        "+1 555 0100",
    )
    assert not form.diagnostics_view.isVisible()
    form.diagnostics_toggle.click()
    assert form.diagnostics_view.isVisible() and form.diagnostics_view.isReadOnly()
    assert '"request_id": "req-abc-123"' in form.diagnostics_view.toPlainText()
    assert form.send_button.text() == "Send emergency ticket" and form.send_button.isEnabled()
    assert "down" in form.banner.text()
    assert not form.notice.isVisible() and not form.confirm.isVisible()
    assert tickets.requests == [] and not paths.outbox_db.exists()  # nothing sent or saved yet


def test_one_click_files_and_hands_the_text_to_the_dashboard(
    qtbot: Any,
    make_bridge: Any,
    paths: Paths,
    tickets: LoopbackServer,
    dashboard: LoopbackServer,
    token: str,
) -> None:
    opened: list[str] = []
    config = config_for(tickets.url, dashboard=dashboard, tier="platinum")
    form = make_form(qtbot, make_bridge(), paths, config, opened=opened)
    form.description.setPlainText("Checkout is broken for everyone.")
    with qtbot.waitSignal(form.filed, timeout=5000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    panel = form.fallback_panel
    assert form.pages.currentWidget() is panel
    assert "on your clipboard" in panel.reason_label.text()
    assert "api: filed as T-1042" in lines(form)
    assert 'href="https://help.example/T-1042"' in lines(form)
    assert f"dashboard: handed to the dashboard, {dashboard.url}/#support" in lines(form)
    assert "emergency on-call ticket" in panel.steps_label.text()
    assert "Gold" not in panel.steps_label.text()  # platinum: its own step only
    assert not panel.hotline_box.isVisibleTo(form)
    assert opened == [f"{dashboard.url}/#support"]
    clipboard = QGuiApplication.clipboard().text()
    assert clipboard.startswith("EMERGENCY: shop (live) down") and "Checkout is broken" in clipboard
    (request,) = tickets.requests
    body = request.json()
    assert body["description"] == "Checkout is broken for everyone."
    assert body["contact"]["email"] == "ada@example.com"
    (draft,) = Outbox(paths.outbox_db).drafts()
    assert (draft.state, draft.ticket_id) == (DraftState.HANDED, "T-1042")
    assert request.headers["Idempotency-Key"] == draft.idempotency_key
    with qtbot.waitSignal(form.handled, timeout=5000):
        panel.filed_button.click()  # "I filed it"
    assert Outbox(paths.outbox_db).get(draft.id).state is DraftState.FILED_BY_USER


def test_the_default_config_never_says_not_configured(
    qtbot: Any, make_bridge: Any, paths: Paths, dashboard: LoopbackServer
) -> None:
    """No ticket API (Pantheon has none): the first press hands the ticket over."""
    opened: list[str] = []
    config = config_for("", dashboard=dashboard)
    form = make_form(qtbot, make_bridge(), paths, config, opened=opened)
    with qtbot.waitSignal(form.filed, timeout=5000):
        form.send_button.click()
    panel = form.fallback_panel
    everything = " ".join(
        [panel.reason_label.text(), lines(form), panel.steps_label.text(), panel.note_label.text()]
    )
    assert "not configured" not in everything and "not filed" not in everything
    for step in ("emergency on-call ticket", "support ticket", "start a chat"):
        assert step in panel.steps_label.text()  # tier unknown: all three
    assert opened == [f"{dashboard.url}/#support"]
    assert "until you press" in panel.note_label.text()
    assert not panel.retry_button.isVisibleTo(form)


def test_hotline_panel_when_nothing_reaches_anyone(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer, token: str,
    caplog: Any,
) -> None:
    tickets.route("/tickets", Reply.json({"error": "down"}, 503))
    opened: list[str] = []
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url), opened=opened)
    caplog.set_level(logging.INFO)
    form.activateWindow()
    form.send_button.setFocus()
    qtbot.waitUntil(form.send_button.hasFocus, timeout=5000)
    with qtbot.waitSignal(form.failed, timeout=5000) as blocker:
        form.send_button.click()
        # Issue 20: Send is disabled while sending; the focus goes to the status it
        # announces ("Sending…"), not back to the first field.
        sending_focus = QApplication.focusWidget()
    assert sending_focus is form.status_label
    assert QApplication.focusWidget() is form.fallback_panel.reason_label
    # Issue 20: a failed attempt is logged (the log was silent about it).
    assert any(r.levelno == logging.WARNING and "not filed" in r.getMessage()
               for r in caplog.records)
    assert blocker.args == ["The dashboard refused the connection"]
    panel = form.fallback_panel
    assert form.pages.currentWidget() is panel
    assert panel.reason_label.text() == "The ticket was not filed: no route could take it."
    assert "api: NOT FILED: The ticket service answered 503" in lines(form)
    assert "dashboard: unreachable (The dashboard refused the connection)" in lines(form)
    assert panel.hotline_box.isVisibleTo(form)
    assert 'href="tel:+18664157624"' in panel.hotline_label.text()
    assert "1-866-415-7624" in panel.hotline_label.text()
    assert panel.hotline_label.font().pointSizeF() > form.font().pointSizeF() * 2
    assert "only files an on-call ticket" in panel.words_label.text()
    assert "draft 1" in panel.note_label.text()
    assert opened == []  # nothing handed over: no page opened, the clipboard untouched
    panel.dashboard_button.click()
    panel.hotline_label.linkActivated.emit("tel:+18664157624")
    assert opened == [REFUSED_SUPPORT_URL, "tel:+18664157624"]
    (draft,) = Outbox(paths.outbox_db).drafts()
    assert (draft.state, draft.attempts) == (DraftState.DRAFT, 1)
    # Issue 20: the headline has the focus (read first), and a visible Close button.
    assert panel.reason_label.focusPolicy() != Qt.FocusPolicy.NoFocus
    assert panel.text_view.accessibleName() == "Ticket text"
    assert panel.reason_label.accessibleName() == panel.reason_label.text()
    panel.close_button.click()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=5000)


def test_copy_ticket_text_puts_everything_on_the_clipboard(
    qtbot: Any, make_bridge: Any, paths: Paths, token: str
) -> None:
    form = make_form(qtbot, make_bridge(), paths, config_for(f"http://127.0.0.1:{free_port()}"))
    form.description.appendPlainText(f"\nThe token is {PLANTED_TOKEN}.")
    with qtbot.waitSignal(form.failed, timeout=5000):
        form.send_button.click()
    form.fallback_panel.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("EMERGENCY: shop (live) down: 502 Bad Gateway since 08:01 UTC\n")
    assert "What Lifeline saw:" in text
    assert "Diagnostics:" in text and "request_id: req-abc-123" in text
    assert "Hotline: 1-866-415-7624" in text
    assert "email: ada@example.com" in text
    assert PLANTED_TOKEN not in text
    assert form.fallback_panel.copy_button.text() == "Copied \u2713"


def test_filed_by_phone_marks_the_draft_handled_and_stops_retries(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer, token: str
) -> None:
    tickets.route("/tickets", Reply.json({}, 500))
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url))
    with qtbot.waitSignal(form.failed, timeout=5000):
        form.send_button.click()
    with qtbot.waitSignal(form.handled, timeout=5000):
        form.fallback_panel.phone_button.click()
    assert not form.fallback_panel.retry_button.isEnabled()
    assert "will not send draft 1" in form.fallback_panel.note_label.text()
    draft = Outbox(paths.outbox_db).get(1)
    assert draft.state is DraftState.HANDLED_BY_PHONE
    assert Outbox(paths.outbox_db).pending() == []
    form.send()  # nothing happens any more
    assert len(tickets.requests) == 1


def test_try_again_resends_only_the_failed_route_with_the_same_key(
    qtbot: Any,
    make_bridge: Any,
    paths: Paths,
    tickets: LoopbackServer,
    dashboard: LoopbackServer,
    token: str,
) -> None:
    answers = iter([Reply.json({}, 502), Reply.json({"id": "T-2"}, 201)])
    tickets.route("/tickets", lambda _req: next(answers))
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url, dashboard=dashboard))
    with qtbot.waitSignal(form.outcome, timeout=5000) as first:
        form.send_button.click()
    assert first.args[0].reached and not first.args[0].all_reached
    assert "api: NOT FILED: The ticket service answered 502" in lines(form)
    assert form.fallback_panel.retry_button.isVisibleTo(form)
    with qtbot.waitSignal(form.outcome, timeout=5000) as second:
        form.fallback_panel.retry_button.click()
    assert second.args[0].all_reached
    assert "api: filed as T-2" in lines(form)
    # The text went to the clipboard on the first attempt, not again now.
    assert "finish filing it on the dashboard" in form.fallback_panel.reason_label.text()
    assert "href" not in lines(form)  # no link given, none shown
    keys = {r.headers["Idempotency-Key"] for r in tickets.requests}
    assert len(tickets.requests) == 2 and len(keys) == 1
    assert len(dashboard.requests) == 1  # the dashboard had taken it: not run again
    assert [d.state for d in Outbox(paths.outbox_db).drafts()] == [DraftState.HANDED]


@pytest.mark.parametrize("mode", ["hang", "refused", "status page"])
def test_the_hotline_within_the_ticket_timeout_when_the_dashboard_is_down(
    qtbot: Any, make_bridge: Any, paths: Paths, dashboard: LoopbackServer, mode: str
) -> None:
    platform = PLATFORM_OK
    if mode == "hang":
        dashboard.route("*", Hang())
    elif mode == "refused":
        dashboard.close()
    else:
        from app.models import Component

        platform = replace(
            PLATFORM_OK, components=(Component(name="Dashboard", status="major_outage"),)
        )
    config = config_for("", dashboard=dashboard, timeout=1.0)
    form = make_form(qtbot, make_bridge(), paths, config, platform=platform)
    started = time.monotonic()
    with qtbot.waitSignal(form.failed, timeout=3000) as blocker:
        form.send_button.click()
    elapsed = time.monotonic() - started
    expected = {
        "hang": "The dashboard did not answer within 1 s",
        "refused": "The dashboard refused the connection",
        "status page": "The status page reports Dashboard: major outage",
    }[mode]
    assert blocker.args == [expected]
    assert elapsed < 1.0 + 1.0
    if mode == "refused":
        assert elapsed < 0.5
    panel = form.fallback_panel
    assert panel.hotline_box.isVisibleTo(form)
    assert "1-866-415-7624" in panel.hotline_label.text()
    assert not panel.steps_label.isVisibleTo(form)


def test_no_token_fails_that_route_only(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer, dashboard: LoopbackServer
) -> None:
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url, dashboard=dashboard))
    with qtbot.waitSignal(form.outcome, timeout=3000):
        form.send_button.click()
    assert "api: NOT FILED: No ticket API token is set" in lines(form)
    assert "handed to the dashboard" in lines(form)
    assert tickets.requests == []


def test_non_live_is_disabled_with_the_reason(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer
) -> None:
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url, site=DEV_SITE))
    assert not form.send_button.isEnabled()
    assert "Live environment only" in form.notice.text()
    assert "Live environment only" in form.send_button.toolTip()
    form.send()
    assert tickets.requests == [] and not paths.outbox_db.exists()


def test_operational_site_asks_for_confirmation(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer, token: str
) -> None:
    form = make_form(
        qtbot, make_bridge(), paths, config_for(tickets.url), status=operational_status()
    )
    assert "looks operational" in form.banner.text()
    assert (
        "Emergency tickets are for downtime or significant functional failure on Live. "
        "File anyway?" in form.notice.text()
    )
    assert form.confirm.isVisible() and not form.send_button.isEnabled()
    form.confirm.setChecked(True)
    assert form.send_button.isEnabled()
    with qtbot.waitSignal(form.outcome, timeout=5000):
        form.send_button.click()
    assert tickets.requests[0].json()["impact"] == "operational"


def test_platform_incident_is_named_and_linked(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer, token: str
) -> None:
    opened: list[str] = []
    form = make_form(
        qtbot,
        make_bridge(),
        paths,
        config_for(tickets.url),
        status=down_status(platform=True),
        platform=PLATFORM_INCIDENT,
        opened=opened,
    )
    notice = form.notice.text()
    assert "Pantheon reports an incident" in notice
    assert "Elevated 502 errors on some sites" in notice
    assert 'href="https://stspg.io/abc123"' in notice
    assert "still asks affected customers to file a ticket" in notice
    assert form.send_button.isEnabled()
    form.notice.linkActivated.emit("https://stspg.io/abc123")
    assert opened == ["https://stspg.io/abc123"]
    with qtbot.waitSignal(form.outcome, timeout=5000):
        form.send_button.click()
    body = tickets.requests[0].json()
    assert "Elevated 502 errors on some sites" in body["subject"]
    assert "https://stspg.io/abc123" in body["description"]


def test_what_the_user_types_is_saved_to_the_draft(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer
) -> None:
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url))
    with qtbot.waitSignal(form.draftSaved, timeout=5000):
        qtbot.keyClicks(form.description, " Orders fail at payment.")
    draft = Outbox(paths.outbox_db).get(form.draft_id or 0)
    assert draft.body["description"].startswith(" Orders fail at payment.shop (live")
    assert draft.attempts == 0 and Outbox(paths.outbox_db).pending() == []
    with qtbot.waitSignal(form.draftSaved, timeout=5000):
        form.contact_phone.clear()
        qtbot.keyClicks(form.contact_phone, "+44 20 7946 0000")
    assert Outbox(paths.outbox_db).get(draft.id).body["contact"]["phone"] == "+44 20 7946 0000"
    assert len(Outbox(paths.outbox_db).drafts()) == 1  # one draft, updated in place


def test_a_fresh_check_updates_the_diagnostics(
    qtbot: Any, make_bridge: Any, paths: Paths, make_server: Any, tickets: LoopbackServer
) -> None:
    site_server, status_server = make_server(), make_server()
    site_server.route("*", Reply(503, "<html><title>503 Service Unavailable</title></html>"))
    status_server.route("/api/v2/summary.json", Reply.json(summary_payload()))
    site = SiteConfig(name="shop", url=site_server.url + "/")
    config = Config(
        provider=provider(ticket_api=tickets.url, status_page=status_server.url),
        contact=CONTACT,
        sites=(site,),
    )
    config = replace(config, monitor=replace(config.monitor, timeout=2.0, retries=0))
    started = time.monotonic()
    form = make_form(qtbot, make_bridge(), paths, config, refresh=True)
    opened_in = time.monotonic() - started
    assert opened_in < 1.0  # the form does not wait for the check
    assert "Checking the site again" in form.fresh_label.text()
    assert '"status": 502' in form.diagnostics_view.toPlainText()  # from the snapshot
    with qtbot.waitSignal(form.refreshed, timeout=10000):
        pass
    diagnostics = form.diagnostics_view.toPlainText()
    assert '"status": 503' in diagnostics
    assert site_server.url in diagnostics
    assert "fresh check at" in form.fresh_label.text()
    assert form.subject.text().startswith("EMERGENCY: shop (live) down: 503 Service Unavailable")
    assert form.subject.text().endswith("since 08:01 UTC")  # the snapshot's start is kept


# --------------------------------------------------------------------------- the tray's entry


def snapshot_with(*statuses: SiteStatus) -> MonitorSnapshot:
    return MonitorSnapshot(sites=statuses, platform=PLATFORM_OK)


def test_open_from_the_tray_goes_straight_to_the_one_impacted_site(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer
) -> None:
    other = SiteConfig(name="blog", url="https://blog.example.com")
    config = Config(provider=provider(ticket_api=tickets.url), sites=(SITE, other))
    blog_ok = replace(operational_status(), name="blog", url=other.url)
    bridge = make_bridge(snapshot_with(down_status(), blog_ok), config)
    form = open_ticket_form(
        None, bridge=bridge, paths=paths, store=CredentialStore(), config=config
    )
    assert isinstance(form, TicketForm)
    qtbot.addWidget(form)
    assert form.site.name == "shop"
    assert form.subject.text().startswith("EMERGENCY: shop (live) down")
    again = open_ticket_form(
        "SHOP", bridge=bridge, paths=paths, store=CredentialStore(), config=config
    )
    assert again is form  # an unfinished form comes back (any case), with what was typed


def test_open_from_the_tray_asks_which_site_when_several_are_impacted(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer
) -> None:
    other = SiteConfig(name="blog", url="https://blog.example.com")
    config = Config(provider=provider(ticket_api=tickets.url), sites=(SITE, other))
    blog_down = replace(down_status(), name="blog", url=other.url, state=SiteState.EDITORS_BLOCKED)
    bridge = make_bridge(snapshot_with(blog_down, down_status()), config)
    picker = open_ticket_form(
        None, bridge=bridge, paths=paths, store=CredentialStore(), config=config
    )
    assert isinstance(picker, SitePicker)
    qtbot.addWidget(picker)
    labels = [picker.list.item(i).text() for i in range(picker.list.count())]
    assert labels == ["shop \u2014 down", "blog \u2014 editors blocked"]
    picker.list.setCurrentRow(1)
    picker.accept()
    from ui.ticket_form import TicketDesk

    desk = bridge.findChild(TicketDesk)
    assert desk is not None and set(desk.forms) == {"blog"}
    qtbot.addWidget(desk.forms["blog"])
    assert desk.forms["blog"].subject.text().startswith("EMERGENCY: blog (live) editors blocked")


def test_tel_uri() -> None:
    assert tel_uri("1-866-415-7624") == "tel:+18664157624"
    assert tel_uri("+44 20 7946 0000") == "tel:+442079460000"


def test_no_secret_in_the_body_clipboard_outbox_or_logs(
    qtbot: Any,
    make_bridge: Any,
    paths: Paths,
    tickets: LoopbackServer,
    token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    tickets.route("/tickets", Reply.json({}, 500))
    status = down_status(down_result(secret_in_url=True))
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url), status=status)
    qtbot.keyClicks(form.description, f" Bearer {PLANTED_TOKEN}")
    with qtbot.waitSignal(form.failed, timeout=5000):
        form.send_button.click()
    form.fallback_panel.copy_button.click()
    assert tickets.requests[0].headers["Authorization"] == f"Bearer {PLANTED_TOKEN}"
    blobs = [
        tickets.requests[0].body.decode(),
        QGuiApplication.clipboard().text(),
        form.diagnostics_view.toPlainText(),
        caplog.text,
        *(
            p.read_bytes().decode("utf-8", "replace")
            for p in paths.data_dir.rglob("*")
            if p.is_file()
        ),
    ]
    for blob in blobs:
        assert PLANTED_TOKEN not in blob


def test_enter_in_a_field_does_not_send_and_escape_keeps_the_last_keystrokes(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer, token: str
) -> None:
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url))
    form.contact_name.setFocus()
    qtbot.keyClick(form.contact_name, Qt.Key.Key_Return)
    qtbot.keyClicks(form.contact_name, " (on call)")
    assert form._save_timer.isActive()
    with qtbot.waitSignal(form.draftSaved, timeout=5000):
        qtbot.keyClick(form, Qt.Key.Key_Escape)  # closes at once; the save still happens
    assert not form.isVisible()
    assert tickets.requests == []
    draft = Outbox(paths.outbox_db).get(form.draft_id or 0)
    assert draft.body["contact"]["name"] == "Ada Owner (on call)"


def test_the_picker_without_live_sites(qtbot: Any) -> None:
    picker = SitePicker(MonitorSnapshot(), Config(sites=(DEV_SITE,)))
    qtbot.addWidget(picker)
    assert picker.list.count() == 0
    ok = picker.findChildren(QPushButton)
    assert [b.text() for b in ok if not b.isEnabled()] == ["Continue"]


def test_an_unwritable_outbox_still_sends_and_says_so(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer, token: str
) -> None:
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    paths.outbox_db.write_bytes(b"garbage" * 500)
    tickets.route("/tickets", Reply.json({}, 503))
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url))
    with qtbot.waitSignal(form.failed, timeout=5000):
        form.send_button.click()
    assert len(tickets.requests) == 1  # sent anyway
    note = form.fallback_panel.note_label.text()
    assert "could not be saved" in note and "copy its text" in note
    tickets.route("/tickets", Reply.json({"id": "T-9"}, 201))
    with qtbot.waitSignal(form.outcome, timeout=5000):
        form.fallback_panel.retry_button.click()
    assert "api: filed as T-9" in lines(form)
    keys = [r.headers["Idempotency-Key"] for r in tickets.requests]
    assert len(keys) == 2 and keys[0] == keys[1]  # no draft, but one key for this form


def test_the_tray_menus_top_level_entry_opens_the_form_without_a_site(qapp: Any) -> None:
    from datetime import datetime

    from PySide6.QtWidgets import QMenu

    from ui.icons import IconSet
    from ui.menu import MenuHandlers, MenuState, find_action, populate

    opened: list[str | None] = []
    handlers = MenuHandlers(
        open_url=lambda _u: None,
        check_now=lambda _s: None,
        open_settings=lambda: None,
        pause=lambda _h: None,
        about=lambda: None,
        quit=lambda: None,
        open_ticket_form=opened.append,
    )
    menu = QMenu()
    config = Config(sites=(SITE,))
    populate(
        menu,
        snapshot_with(down_status()),
        config,
        handlers,
        IconSet(),
        MenuState(now=datetime.now(UTC)),
    )
    top = [a for a in menu.actions() if a.text() == "File an &emergency ticket\u2026"]
    assert len(top) == 1
    top[0].trigger()
    shop_entry = find_action(menu, "File emergency ticket\u2026")  # the site's own entry
    assert shop_entry is not None
    shop_entry.trigger()
    assert opened == [None, "shop"]


def test_filed_by_phone_while_a_late_attempt_runs_stays_settled(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer
) -> None:
    """The watchdog shows the hotline; the user calls and says so; then the slow attempt
    files after all. The panel shows that, and the user's word still stands."""
    from app.tickets.routes.api import ApiRoute

    # Each step within the 2 s deadline, together past the watchdog (2 s + 0.8 s).
    tickets.route("/tickets", Reply(201, '{"id": "T-LATE"}', delay=1.6))
    config = config_for(tickets.url, timeout=2.0)

    def slow_keyring_then_routes(_platform: Any) -> list[Any]:
        time.sleep(1.5)  # a keyring slow to unlock, still within the deadline
        return [ApiRoute("api", PLANTED_TOKEN, endpoint=tickets.url)]

    session = TicketSession(
        config, config.sites[0], outbox=Outbox(paths.outbox_db), history_path=paths.history_db,
        credentials=CredentialStore(), routes=slow_keyring_then_routes, clock=lambda: DETECTED,
    )
    form = TicketForm(
        session=session, status=down_status(), platform=PLATFORM_OK,
        workers=make_bridge().workers, clipboard=QGuiApplication.clipboard(),
        open_url=lambda _url: None, refresh=False,
    )
    qtbot.addWidget(form)
    form.show()
    with qtbot.waitSignal(form.failed, timeout=4000) as watchdog:
        form.send_button.click()
    assert watchdog.args == ["No answer within 2 s"]
    form.fallback_panel.phone_button.click()
    with qtbot.waitSignal(form.outcome, timeout=5000):
        pass
    assert "api: filed as T-LATE" in lines(form)
    panel = form.fallback_panel
    assert not panel.retry_button.isEnabled() and not panel.phone_button.isEnabled()
    assert form.settled
    with qtbot.waitSignal(form.handled, timeout=5000):
        pass  # the phone's settling ran after the attempt, in the form's lane
    assert "could not be updated" not in panel.note_label.text()
    assert Outbox(paths.outbox_db).get(1).state is DraftState.FILED  # filed, as it was
    form.send()
    assert len(tickets.requests) == 1


def test_the_form_names_what_a_screen_reader_needs(
    qtbot: Any, make_bridge: Any, paths: Paths, tickets: LoopbackServer
) -> None:
    """Issue 20: contact fields named by their visible labels (not placeholders), the
    diagnostics view named and its toggle saying expanded or collapsed, the picker's
    list named by its question."""
    form = make_form(qtbot, make_bridge(), paths, config_for(tickets.url))
    assert [e.accessibleName() for e in (
        form.contact_name, form.contact_email, form.contact_phone)] == ["Name", "Email", "Phone"]
    assert not any(e.placeholderText() for e in (
        form.contact_name, form.contact_email, form.contact_phone))
    assert form.diagnostics_view.accessibleName()
    assert form.diagnostics_toggle.accessibleDescription() == "collapsed"
    form.diagnostics_toggle.click()
    assert form.diagnostics_toggle.accessibleDescription() == "expanded"
    assert form.banner.accessibleName().startswith(SITE.name)  # the banner reads as text
    picker = SitePicker(MonitorSnapshot(), Config(sites=(SITE,)))
    qtbot.addWidget(picker)
    assert picker.list.accessibleName() == "Which site is the emergency ticket for?"

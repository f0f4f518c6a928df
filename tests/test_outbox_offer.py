"""The tray's offer to send saved tickets: asked, never silent; real worker, outbox, server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.config import Config
from app.credentials import CredentialStore
from app.events import MonitorSnapshot
from app.paths import Paths
from app.tickets.jobs import send_pending
from app.tickets.outbox import Draft, DraftState, Outbox
from app.tickets.routes.base import RouteKind, RouteOutcome, RouteResult
from tests.loopback import LoopbackServer, Reply
from tests.ticket_samples import PLANTED_TOKEN, IdleMonitor, provider, sample_ticket
from ui.bridge import Bridge
from ui.outbox_offer import BY_PHONE, LATER, RECHECK_SECONDS, SEND, OutboxOffer, watch_outbox

CHECKED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ONLINE = MonitorSnapshot(network_ok=True, last_check=CHECKED)
OFFLINE = MonitorSnapshot(network_ok=False, last_check=CHECKED)


@pytest.fixture
def bridge(qtbot: Any, tickets: LoopbackServer) -> Iterator[Bridge]:
    config = Config(provider=provider(ticket_api=tickets.url))
    made = Bridge(IdleMonitor(), config)
    with qtbot.waitSignal(made.snapshotChanged, timeout=5000):
        made.start()
    yield made
    made.stop()
    assert made.join(5)


@pytest.fixture
def tickets(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", PLANTED_TOKEN)
    server.route("/tickets", Reply.json({"id": "T-5"}, 201))
    return server


def failed_draft(paths: Paths) -> Draft:
    """A draft the dashboard took and the ticket API refused: the API is to be retried."""
    outbox = Outbox(paths.outbox_db)
    draft = outbox.create(sample_ticket().to_body())
    outbox.claim(draft.id, lease=10)
    return outbox.record(
        draft.id,
        [
            RouteResult("dashboard", RouteKind.DASHBOARD, RouteOutcome.DASHBOARD),
            RouteResult(
                "api", RouteKind.API, RouteOutcome.FAILED,
                reason="The ticket service refused the connection",
            ),
        ],
    )


class Answers:
    def __init__(self, *choices: str) -> None:
        self.choices = list(choices)
        self.asked: list[list[int]] = []

    def __call__(self, drafts: list[Draft], answer: Callable[[str], None]) -> None:
        self.asked.append([d.id for d in drafts])
        answer(self.choices.pop(0))


def make_offer(bridge: Bridge, paths: Paths, ask: Any, clock: list[float]) -> OutboxOffer:
    reports: list[str] = []
    offer = OutboxOffer(
        outbox_path=paths.outbox_db,
        workers=bridge.workers,
        send=lambda: send_pending(bridge.config, paths.outbox_db, CredentialStore()),
        ask=ask,
        report=reports.append,
        clock=lambda: clock[0],
    )
    offer.reports = reports  # type: ignore[attr-defined]
    return offer


def test_asks_then_sends_with_the_drafts_key(
    qtbot: Any, bridge: Bridge, paths: Paths, tickets: LoopbackServer
) -> None:
    draft = failed_draft(paths)
    answers = Answers(SEND)
    offer = make_offer(bridge, paths, answers, [0.0])
    with qtbot.waitSignal(offer.sent, timeout=5000) as blocker:
        offer.on_snapshot(ONLINE)
    ((sent, outcome),) = blocker.args[0]
    assert answers.asked == [[draft.id]]
    assert outcome.all_reached
    assert [(r.name, r.outcome.value, r.id) for r in outcome.routes] == [
        ("dashboard", "dashboard", None),  # not run again: it had taken the ticket
        ("api", "filed", "T-5"),
    ]
    assert tickets.requests[0].headers["Idempotency-Key"] == draft.idempotency_key
    assert offer.reports == [  # type: ignore[attr-defined]
        "shop (draft 1):\n  dashboard: handed to the dashboard\n  api: filed as T-5"
    ]
    assert Outbox(paths.outbox_db).get(draft.id).state is DraftState.HANDED


def test_not_while_offline_and_not_again_after_not_now(
    qtbot: Any, bridge: Bridge, paths: Paths, tickets: LoopbackServer
) -> None:
    failed_draft(paths)
    answers = Answers(LATER, LATER)
    clock = [0.0]
    offer = make_offer(bridge, paths, answers, clock)
    offer.on_snapshot(OFFLINE)
    offer.on_snapshot(MonitorSnapshot(network_ok=True))  # no check yet: no idea
    assert answers.asked == []
    with qtbot.waitSignal(offer.offered, timeout=5000):
        offer.on_snapshot(ONLINE)
    clock[0] += RECHECK_SECONDS + 1
    offer.look()  # due again, but "not now" stands for these drafts
    qtbot.waitUntil(lambda: not offer._looking, timeout=5000)
    assert len(answers.asked) == 1
    offer.on_snapshot(OFFLINE)
    with qtbot.waitSignal(offer.offered, timeout=5000):
        offer.on_snapshot(ONLINE)  # the network came back: ask again
    assert len(answers.asked) == 2
    assert tickets.requests == []  # never sent without a yes


def test_filed_by_phone_settles_them(
    qtbot: Any, bridge: Bridge, paths: Paths, tickets: LoopbackServer
) -> None:
    draft = failed_draft(paths)
    offer = make_offer(bridge, paths, Answers(BY_PHONE), [0.0])
    offer.on_snapshot(ONLINE)
    qtbot.waitUntil(
        lambda: Outbox(paths.outbox_db).get(draft.id).state is DraftState.HANDLED_BY_PHONE,
        timeout=5000,
    )
    assert tickets.requests == []


def test_nothing_waiting_nothing_asked(qtbot: Any, bridge: Bridge, paths: Paths) -> None:
    Outbox(paths.outbox_db).create(sample_ticket().to_body())  # never tried: not offered
    answers = Answers()
    offer = make_offer(bridge, paths, answers, [0.0])
    offer.look()
    qtbot.waitUntil(lambda: not offer._looking, timeout=5000)
    assert answers.asked == []


def test_the_tray_question_box(
    qtbot: Any, bridge: Bridge, paths: Paths, tickets: LoopbackServer
) -> None:
    failed_draft(paths)
    offer = watch_outbox(bridge, paths=paths, store=CredentialStore())
    with qtbot.waitSignal(offer.offered, timeout=5000):
        bridge.snapshotChanged.emit(ONLINE)
    (box,) = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]
    assert "1 emergency ticket could not be sent earlier" in box.text()
    assert "refused the connection" in box.text()
    assert not box.isModal()
    (send,) = [b for b in box.buttons() if b.text() == "Send now"]
    with qtbot.waitSignal(offer.sent, timeout=5000):
        send.click()
    assert len(tickets.requests) == 1
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox):
            widget.close()


def test_the_tray_waits_until_the_ticket_service_is_reachable(
    qtbot: Any, bridge: Bridge, paths: Paths, tickets: LoopbackServer
) -> None:
    from dataclasses import replace

    from tests.loopback import free_port

    failed_draft(paths)
    reachable = bridge.config
    bridge.update_config(
        replace(reachable, provider=provider(ticket_api=f"http://127.0.0.1:{free_port()}"))
    )
    answers = Answers(LATER)
    offer = watch_outbox(bridge, paths=paths, store=CredentialStore(), ask=answers)
    bridge.snapshotChanged.emit(ONLINE)
    qtbot.waitUntil(lambda: not offer._looking, timeout=5000)
    assert answers.asked == []  # the network works, the ticket service does not
    bridge.update_config(reachable)
    offer.look()
    qtbot.waitUntil(lambda: answers.asked != [], timeout=5000)
    assert tickets.requests == []


def test_a_dashboard_that_is_back_gets_the_text_as_the_form_hands_it(
    qtbot: Any, bridge: Bridge, paths: Paths, tickets: LoopbackServer, make_server: Any
) -> None:
    """The dashboard was down (hotline) when the ticket was written; now it answers."""
    from dataclasses import replace

    dashboard: LoopbackServer = make_server()
    dashboard.route("*", Reply(302, "", {"Location": "/login"}))
    support = f"{dashboard.url}/#support"
    bridge.update_config(
        replace(bridge.config, provider=replace(bridge.config.provider, support_url=support))
    )
    outbox = Outbox(paths.outbox_db)
    draft = outbox.create(sample_ticket().to_body())
    outbox.claim(draft.id, lease=10)
    outbox.record(
        draft.id,
        [
            RouteResult(
                "dashboard", RouteKind.DASHBOARD, RouteOutcome.HOTLINE,
                reason="The dashboard refused the connection",
            ),
            RouteResult("api", RouteKind.API, RouteOutcome.FILED, id="T-1"),
        ],
    )
    handed: list[tuple[str, str]] = []
    offer = OutboxOffer(
        outbox_path=paths.outbox_db,
        workers=bridge.workers,
        send=lambda: send_pending(bridge.config, paths.outbox_db, CredentialStore()),
        ask=Answers(SEND),
        report=lambda _text: None,
        hand_over=lambda text, url: handed.append((text, url)),
    )
    with qtbot.waitSignal(offer.sent, timeout=5000):
        offer.on_snapshot(ONLINE)
    ((text, url),) = handed
    assert url == support and text.startswith("EMERGENCY: shop (live) down")
    assert tickets.requests == []  # the API had filed it: not sent again
    assert Outbox(paths.outbox_db).get(draft.id).state is DraftState.HANDED

"""The ticket session, the one owner of the ticket flow: guards, outcomes, deadlines."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from app.config import Config
from app.credentials import CredentialStore
from app.paths import Paths
from app.tickets.outbox import DraftState, Outbox
from app.tickets.routes.base import RouteOutcome
from app.tickets.session import (
    EXIT_NOT_REACHED,
    EXIT_PARTLY,
    EXIT_REACHED,
    GuardError,
    SessionState,
    TicketSession,
    find_site,
)
from tests.loopback import LoopbackServer, Reply
from tests.memory_keyring import MemoryKeyring
from tests.ticket_samples import (
    CONTACT,
    DETECTED,
    DEV_SITE,
    PLATFORM_OK,
    REFUSED_SUPPORT_URL,
    SITE,
    down_status,
    operational_status,
    provider,
)


class HangingKeyring(MemoryKeyring):
    """A keyring waiting on an unlock prompt nobody answers (until the test ends)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None


@pytest.fixture
def dashboard(make_server: Any) -> LoopbackServer:
    srv: LoopbackServer = make_server()
    srv.route("*", Reply(302, "", {"Location": "/login"}))
    return srv


def session_for(paths: Paths, config: Config, **kw: Any) -> TicketSession:
    return TicketSession(
        config,
        config.sites[0],
        outbox=Outbox(paths.outbox_db),
        history_path=paths.history_db,
        credentials=CredentialStore(),
        clock=lambda: DETECTED,
        **kw,
    )


def config_with(*, support_url: str, **more: Any) -> Config:
    return Config(
        provider=provider(support_url=support_url, **more), contact=CONTACT, sites=(SITE,)
    )


def test_states_and_outcome_of_the_default_route(paths: Paths, dashboard: LoopbackServer) -> None:
    session = session_for(paths, config_with(support_url=f"{dashboard.url}/#support"))
    assert session.state is SessionState.NEW
    ticket = session.start(down_status(), PLATFORM_OK)
    assert ticket.subject.startswith("EMERGENCY: shop (live) down")
    assert session.refusal is None and not session.needs_confirmation
    outcome = asyncio.run(session.file())
    assert session.state is SessionState.DONE
    assert [(r.name, r.outcome) for r in outcome.routes] == [
        ("dashboard", RouteOutcome.DASHBOARD)
    ]
    assert outcome.handed_now is not None and outcome.exit_code == EXIT_REACHED
    assert outcome.text.startswith(ticket.subject) and "Hotline: 1-866-415-7624" in outcome.text
    assert Outbox(paths.outbox_db).get(outcome.draft_id or 0).state is DraftState.HANDED
    session.mark_filed_by_user()
    assert session.state is SessionState.SETTLED
    assert Outbox(paths.outbox_db).get(outcome.draft_id or 0).state is DraftState.FILED_BY_USER


def test_exit_codes(paths: Paths, server: LoopbackServer, dashboard: LoopbackServer) -> None:
    refused = session_for(paths, config_with(support_url=REFUSED_SUPPORT_URL))
    refused.start(down_status(), PLATFORM_OK)
    outcome = asyncio.run(refused.file())
    assert outcome.exit_code == EXIT_NOT_REACHED and outcome.needs_hotline
    assert not outcome.reached

    server.route("/tickets", Reply.json({}, 503))
    partly = session_for(
        paths, config_with(support_url=f"{dashboard.url}/#support", ticket_api=server.url)
    )
    partly.start(down_status(), PLATFORM_OK)
    outcome = asyncio.run(partly.file())
    assert outcome.exit_code == EXIT_PARTLY and not outcome.needs_hotline


def test_guards_are_the_same_everywhere(paths: Paths) -> None:
    config = Config(provider=provider(), sites=(SITE, DEV_SITE))
    assert find_site(config, "SHOP") is SITE and find_site(config, "Shop-Dev") is DEV_SITE
    assert find_site(config, "nosuch") is None

    dev = TicketSession(
        config, DEV_SITE, outbox=Outbox(paths.outbox_db), history_path=paths.history_db,
        credentials=CredentialStore(),
    )
    dev.start(None, PLATFORM_OK)
    with pytest.raises(GuardError, match="Live environment only"):
        asyncio.run(dev.file())

    fine = session_for(paths, config_with(support_url=REFUSED_SUPPORT_URL))
    fine.start(operational_status(), PLATFORM_OK)
    assert fine.needs_confirmation
    with pytest.raises(GuardError, match="significant functional failure on Live"):
        asyncio.run(fine.file())
    assert not paths.outbox_db.exists()  # refused before anything was saved
    assert asyncio.run(fine.file(confirmed=True)).draft_id == 1


@pytest.fixture
def hanging_keyring() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()
    keyring.set_keyring(previous)


def test_a_hanging_keyring_does_not_hold_up_the_dashboard_or_the_hotline(
    paths: Paths, server: LoopbackServer, dashboard: LoopbackServer,
    hanging_keyring: HangingKeyring, tmp_path: Path,
) -> None:
    config = config_with(
        support_url=f"{dashboard.url}/#support", ticket_api=server.url, ticket_timeout=0.5
    )
    session = session_for(paths, config)
    session.start(down_status(), PLATFORM_OK)
    started = time.monotonic()
    outcome = asyncio.run(session.file())
    assert time.monotonic() - started < 0.5 + 1.0
    assert [(r.name, r.outcome, r.reason) for r in outcome.routes] == [
        ("dashboard", RouteOutcome.DASHBOARD,
         "The dashboard is reachable: paste the ticket text on its Support tab"),
        ("api", RouteOutcome.FAILED, "The keyring did not answer within 0.5 s"),
    ]
    assert server.requests == []  # no token, nothing sent to the API

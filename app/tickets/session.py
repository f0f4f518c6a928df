"""The ticket session: the one owner of the emergency-ticket flow, for the CLI and the form.

recent history -> fresh check and New Relic -> diagnostics -> build -> save to the outbox
-> file through every route -> record each route's outcome. `lifeline ticket` drives it
straight through; the form drives the same steps one at a time and only renders what
they return (ticket, state, outcome). The guards and their words live here too: Live
only, an operational site needs --force or confirmation, names match case-insensitively.

Qt-free. `collect` and `file` are coroutines (run on the bridge's loop or under
asyncio.run); `save`, `mark_*` are blocking (SQLite with fsync: a worker or the CLI).
One caller at a time: the form submits them in one lane.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from app.config import Config, ContactConfig, SiteConfig
from app.credentials import CredentialStore
from app.events import SiteStatus
from app.history import read_cache_hit_ratios
from app.integrations.newrelic import alongside, with_findings
from app.models import PlatformStatus
from app.probes import ProbeOptions
from app.tickets.builder import (
    Evidence,
    Ticket,
    build_ticket,
    evidence_from_status,
    is_operational,
    live_only_reason,
    plain_text,
)
from app.tickets.collect import diagnostics_for, fresh_evidence
from app.tickets.filing import Filing, file_routes, send_all
from app.tickets.outbox import DraftState, Outbox, OutboxError
from app.tickets.outcome import (
    EXIT_NOT_REACHED,
    EXIT_PARTLY,
    EXIT_REACHED,
    SessionOutcome,
    headline,
    outcome_of,
    route_line,
    support_tier,
    support_url,
)
from app.tickets.recent import recent_history
from app.tickets.routes.base import Route, RouteResult
from app.tickets.routes.dashboard import PlatformSource
from app.tickets.routing import routes_for_config, routes_without_secrets, status_page_source

# The outcome's vocabulary, for callers that speak of a session's outcome (the CLI, the
# form, the tray's offer) without importing two modules.
__all__ = [
    "EXIT_NOT_REACHED",
    "EXIT_PARTLY",
    "EXIT_REACHED",
    "OPERATIONAL_QUESTION",
    "OUTBOX_BUSY_TIMEOUT",
    "Collected",
    "GuardError",
    "SessionOutcome",
    "SessionState",
    "TicketSession",
    "find_site",
    "headline",
    "operational_words",
    "resend",
    "route_line",
    "routes_for_config",
    "support_tier",
    "support_url",
    "unknown_site_words",
]

OPERATIONAL_QUESTION = (
    "Emergency tickets are for downtime or significant functional failure on Live."
)

# A ticket waits at most this long on an outbox another process holds locked, then goes
# out without its draft (the ticket matters more): SQLite's own default would be 10 s.
OUTBOX_BUSY_TIMEOUT = 2.0

RoutesFactory = Callable[[PlatformSource | None], list[Route]]
T = TypeVar("T")


class SessionState(StrEnum):
    NEW = "new"  # built from the monitor's snapshot (instant, no network)
    COLLECTING = "collecting"  # history, a fresh check and New Relic
    READY = "ready"  # the ticket is built from fresh evidence; it can be edited
    FILING = "filing"  # saved to the outbox, going out through the routes
    DONE = "done"  # every route has an outcome (see `outcome`)
    SETTLED = "settled"  # the user filed it themselves (dashboard or phone)


class GuardError(Exception):
    """The ticket may not be filed as asked (not Live, or operational unconfirmed)."""


@dataclass(frozen=True)
class Collected:
    """Fresh evidence and the diagnostics built from it."""

    evidence: Evidence
    diagnostics: dict[str, Any]


# --------------------------------------------------------------------------- guards


def find_site(config: Config, name: str) -> SiteConfig | None:
    """The site of that name, ignoring case (as everywhere a person types a name)."""
    folded = name.casefold()
    return next((s for s in config.sites if s.name.casefold() == folded), None)


def unknown_site_words(config: Config, name: str) -> str:
    names = ", ".join(s.name for s in config.sites) or "none configured"
    return f"no site named {name!r} (sites: {names})"


def operational_words(evidence: Evidence) -> str:
    """Why an operational site's ticket needs confirmation (CLI: --force; form: a box)."""
    return (
        f"{evidence.site.name} looks {evidence.state.label.lower()} to Lifeline right now"
        f"{f' ({evidence.reason})' if evidence.reason else ''}. {OPERATIONAL_QUESTION}"
    )


# --------------------------------------------------------------------------- the session


class TicketSession:
    """One site's emergency ticket, from evidence to every route's outcome."""

    def __init__(
        self,
        config: Config,
        site: SiteConfig,
        *,
        outbox: Outbox,
        history_path: Path,
        credentials: CredentialStore,
        routes: RoutesFactory | None = None,
        probe_options: ProbeOptions | None = None,
        verify: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.site = site
        self.outbox = outbox
        self.history_path = history_path
        self.credentials = credentials
        self._routes = routes or (
            lambda platform: routes_for_config(
                config, credentials, platform=platform, verify=verify
            )
        )
        self._probe_options = probe_options
        self._verify = verify
        self._clock = clock
        self.state = SessionState.NEW
        self.evidence: Evidence | None = None
        self.ticket: Ticket | None = None
        self.draft_id: int | None = None
        self.outcome: SessionOutcome | None = None
        self._known: dict[str, RouteResult] = {}  # outcomes seen here, recorded or not
        self._unsaved_key = str(uuid.uuid4())  # when the outbox cannot keep the draft

    # -- guards --------------------------------------------------------------------------

    @property
    def refusal(self) -> str | None:
        """Why no emergency ticket can be filed for this site at all (not Live)."""
        return live_only_reason(self.site)

    @property
    def needs_confirmation(self) -> bool:
        return self.evidence is not None and is_operational(self.evidence)

    # -- evidence and the ticket ----------------------------------------------------------

    def start(
        self, status: SiteStatus | None, platform: PlatformStatus | None, *, note: str = ""
    ) -> Ticket:
        """The ticket from the monitor's latest snapshot: instant, no I/O."""
        evidence = evidence_from_status(self.site, status, platform, detected_at=self._clock())
        diagnostics = diagnostics_for(evidence.result, evidence.platform)
        return self._use(evidence, diagnostics, note=note, state=SessionState.NEW)

    async def collect(self) -> Collected:
        """Recent history, a fresh check of the site and New Relic, side by side."""
        self.state = SessionState.COLLECTING
        history = await asyncio.to_thread(
            recent_history, self.history_path, self.site.name, now=self._clock()
        )
        shares = await asyncio.to_thread(
            read_cache_hit_ratios, self.history_path, since=self._clock() - timedelta(hours=24)
        )
        evidence, newrelic = await alongside(
            fresh_evidence(
                self.config,
                self.site,
                options=self._probe_options,
                started_at=history.first_failure_at,
                clock=self._clock,
                cache_share=shares,
            ),
            self.config,
            self.site,
            self.credentials,
        )
        diagnostics = with_findings(
            diagnostics_for(evidence.result, evidence.platform, history.entries), newrelic
        )
        return Collected(evidence, diagnostics)

    def build(self, collected: Collected, *, note: str = "") -> Ticket:
        """The ticket from fresh evidence (the CLI's path)."""
        return self._use(collected.evidence, collected.diagnostics, note=note)

    def refresh(self, collected: Collected, *, description: str | None = None) -> Ticket:
        """Fresh evidence into an open ticket; `description` keeps the user's own text.

        A start time known from the snapshot survives a fresh check that lacks one.
        """
        evidence = collected.evidence
        if (
            evidence.started_at is None
            and self.evidence is not None
            and self.evidence.started_at is not None
        ):
            evidence = replace(evidence, started_at=self.evidence.started_at)
        previous = self.ticket
        ticket = self._use(evidence, collected.diagnostics)
        if previous is not None:
            ticket = replace(ticket, contact=previous.contact)
        if description is not None:
            ticket = replace(ticket, description=description)
        self.ticket = ticket
        return ticket

    def edit(self, *, description: str, contact: ContactConfig) -> Ticket:
        """The user's edits (description, contact) on the current ticket."""
        assert self.ticket is not None, "start() or build() first"
        self.ticket = self.ticket.with_edits(description=description, contact=contact)
        return self.ticket

    def _use(
        self,
        evidence: Evidence,
        diagnostics: Mapping[str, Any],
        *,
        note: str = "",
        state: SessionState = SessionState.READY,
    ) -> Ticket:
        self.evidence = evidence
        self.ticket = build_ticket(
            evidence,
            contact=self.config.contact,
            provider=self.config.provider,
            diagnostics=diagnostics,
            note=note,
        )
        if self.state not in (SessionState.DONE, SessionState.SETTLED):
            self.state = state
        return self.ticket

    def text(self, ticket: Ticket | None = None) -> str:
        """The whole ticket as text, hotline included (clipboard, phone, CLI)."""
        chosen = ticket or self.ticket
        assert chosen is not None, "start() or build() first"
        return plain_text(chosen, hotline=self.config.provider.hotline)

    # -- saving and filing ----------------------------------------------------------------

    def save(self, ticket: Ticket | None = None) -> int:
        """Create or update the draft (blocking). Raises OutboxError."""
        chosen = ticket or self.ticket
        assert chosen is not None, "start() or build() first"
        body = chosen.to_body()
        if self.draft_id is None:
            self.draft_id = self.outbox.create(body).id
        else:
            self.outbox.update_body(self.draft_id, body)
        return self.draft_id

    async def file(
        self, ticket: Ticket | None = None, *, confirmed: bool = False
    ) -> SessionOutcome:
        """Save the draft (first), then file it through every route that has not reached
        its destination yet; each route's outcome is recorded. Raises GuardError only."""
        chosen = ticket or self.ticket
        assert chosen is not None, "start() or build() first"
        if self.refusal:
            raise GuardError(self.refusal)
        if self.needs_confirmation and not confirmed:
            assert self.evidence is not None
            raise GuardError(operational_words(self.evidence))
        self.ticket = chosen
        self.state = SessionState.FILING
        unsaved = ""
        try:
            await asyncio.to_thread(self.save, chosen)  # on disk before the first attempt
        except OutboxError as exc:
            unsaved = str(exc)  # the ticket matters more than its draft
        timeout = self.config.provider.ticket_timeout
        platform = self._platform_source()
        try:
            # The keyring may wait on an unlock prompt: the dashboard route needs no
            # secret, so it (and the hotline) never waits past the deadline for one.
            async with asyncio.timeout(timeout):
                routes = await _in_daemon_thread(lambda: self._routes(platform))
        except TimeoutError:
            routes = routes_without_secrets(
                self.config,
                platform=platform,
                verify=self._verify,
                reason=f"The keyring did not answer within {timeout:g} s",
            )
        if unsaved or self.draft_id is None:
            todo = [r for r in routes if not self._reached(r.name)]
            fresh = await send_all(todo, chosen, dedup_key=self._unsaved_key, timeout=timeout)
            filing = Filing(
                draft_id=None,
                results=self._merge(routes, fresh),
                sent=tuple(r.name for r in todo),
            )
        else:
            filing = await file_routes(
                self.outbox, self.draft_id, routes, timeout=timeout, known=self._known
            )
        for result in filing.results:
            self._known[result.name] = result
        settled = filing.state in (DraftState.FILED_BY_USER, DraftState.HANDLED_BY_PHONE)
        self.state = SessionState.SETTLED if settled else SessionState.DONE
        self.outcome = self._outcome(filing, chosen, unsaved=unsaved)
        return self.outcome

    def mark_filed_by_user(self) -> int:
        """"I filed it" (on the dashboard): the draft is settled, never sent again."""
        return self._settle(self.outbox.mark_filed_by_user)

    def mark_handled(self) -> int:
        """"I filed it by phone": the draft is settled, never sent again."""
        return self._settle(self.outbox.mark_handled)

    def _settle(self, mark: Callable[[int], object]) -> int:
        draft_id = self._draft_for_settling()
        # Every route filed meanwhile (a late attempt): settled already, nothing to undo.
        if self.outbox.get(draft_id).state is not DraftState.FILED:
            mark(draft_id)
        self.state = SessionState.SETTLED
        return draft_id

    def _draft_for_settling(self) -> int:
        if self.draft_id is None:  # the first save failed: record it now, settled
            return self.save()
        return self.draft_id

    def _platform_source(self) -> PlatformSource | None:
        """The status page reading the dashboard route judges by: the fresh one."""
        platform = self.evidence.platform if self.evidence is not None else None
        if platform is not None:

            async def known() -> PlatformStatus | None:
                return platform

            return known
        return status_page_source(self.config)

    def _reached(self, name: str) -> bool:
        known = self._known.get(name)
        return known is not None and known.outcome.reached

    def _merge(
        self, routes: Sequence[Route], fresh: Sequence[RouteResult]
    ) -> tuple[RouteResult, ...]:
        latest = {**self._known, **{r.name: r for r in fresh}}
        return tuple(latest[r.name] for r in routes if r.name in latest)

    def _outcome(self, filing: Filing, ticket: Ticket, *, unsaved: str) -> SessionOutcome:
        return outcome_of(
            self.config, filing, self.text(ticket), draft_id=self.draft_id, unsaved=unsaved
        )


async def _in_daemon_thread(work: Callable[[], T]) -> T:
    """`work()` in a thread of its own that nobody joins: a keyring stuck on a prompt
    must not keep `lifeline ticket` (asyncio.run joins its executor) from printing the
    hotline and exiting."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():
            return  # the caller gave up (deadline): nothing waits for it any more
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:  # handed to the awaiting coroutine, not lost
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to tell
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="lifeline-routes", daemon=True).start()
    return await done


# --------------------------------------------------------------------------- resending


async def resend(
    config: Config,
    outbox: Outbox,
    draft_id: int,
    credentials: CredentialStore,
    *,
    routes: RoutesFactory | None = None,
    verify: ssl.SSLContext | None = None,
) -> SessionOutcome:
    """A saved draft again (tray offer, `lifeline outbox send`): only the routes that did
    not reach their destination, with the draft's own key."""
    factory = routes or (
        lambda platform: routes_for_config(config, credentials, platform=platform, verify=verify)
    )
    chosen = await asyncio.to_thread(factory, status_page_source(config))
    filing = await file_routes(
        outbox, draft_id, chosen, timeout=config.provider.ticket_timeout
    )
    draft = await asyncio.to_thread(outbox.get, draft_id)
    text = plain_text(Ticket.from_body(draft.body), hotline=config.provider.hotline)
    return outcome_of(config, filing, text, draft_id=draft_id)

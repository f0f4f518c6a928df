"""The blocking steps of the ticket form, bound to one site: save, send, settle, refresh.

The form (ui/ticket_form.py) runs each of these through `run_in_worker`, so the GUI
thread never touches the network, the keyring or an fsyncing database. Qt-free, so the
same steps are tested without a display and reused by the tray's "send saved tickets".
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import Config, SiteConfig
from app.credentials import CredentialStore
from app.integrations.newrelic import alongside, with_findings
from app.probes import ProbeOptions
from app.tickets.builder import Evidence
from app.tickets.collect import diagnostics_for, fresh_evidence
from app.tickets.filing import file_draft_blocking, file_unsaved_blocking
from app.tickets.outbox import Draft, Outbox, pending_drafts
from app.tickets.recent import recent_history
from app.tickets.sender import SendResult, api_reachable, default_tls_context, sender_for


@dataclass(frozen=True)
class Refreshed:
    """A fresh check of the site, with the diagnostics block built from it."""

    evidence: Evidence
    diagnostics: dict[str, Any]


@dataclass(frozen=True)
class TicketJobs:
    save: Callable[[int | None, Mapping[str, Any]], int]  # create or update; the draft id
    send: Callable[[int], SendResult]  # file a saved draft (never raises for a failure)
    mark_handled: Callable[[int], None]  # the user filed it by phone
    refresh: Callable[[], Refreshed] | None = None  # a fresh check; None: offline form
    # When the outbox cannot be written: send once without a draft (no retry possible).
    send_unsaved: Callable[[Mapping[str, Any]], SendResult] | None = None


def ticket_jobs(
    config: Config,
    site: SiteConfig,
    *,
    outbox_path: Path,
    history_path: Path,
    credentials: CredentialStore,
    verify: ssl.SSLContext | None = None,
    probe_options: ProbeOptions | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TicketJobs:
    outbox = Outbox(outbox_path)

    def save(draft_id: int | None, body: Mapping[str, Any]) -> int:
        if draft_id is None:
            return outbox.create(body).id
        return outbox.update_body(draft_id, body).id

    def send(draft_id: int) -> SendResult:
        return file_draft_blocking(
            outbox_path, draft_id, lambda: sender_for(config.provider, credentials, verify=verify)
        )

    def mark_handled(draft_id: int) -> None:
        outbox.mark_handled(draft_id)

    def send_unsaved(body: Mapping[str, Any]) -> SendResult:
        return file_unsaved_blocking(
            body, lambda: sender_for(config.provider, credentials, verify=verify)
        )

    def refresh() -> Refreshed:
        default_tls_context()  # built now, so Send never waits for the CA store
        history = recent_history(history_path, site.name)
        # New Relic's findings (issue 8) are gathered during the check, within 3 s.
        evidence, newrelic = asyncio.run(
            alongside(
                fresh_evidence(
                    config,
                    site,
                    options=probe_options,
                    started_at=history.first_failure_at,
                    clock=clock,
                ),
                config,
                site,
                credentials,
            )
        )
        return Refreshed(
            evidence=evidence,
            diagnostics=with_findings(
                diagnostics_for(evidence.result, evidence.platform, history.entries), newrelic
            ),
        )

    return TicketJobs(
        save=save,
        send=send,
        mark_handled=mark_handled,
        refresh=refresh,
        send_unsaved=send_unsaved,
    )


def pending_if_reachable(config: Config, outbox_path: Path) -> list[Draft]:
    """The saved tickets to offer now: none unless the ticket service takes connections."""
    drafts = pending_drafts(outbox_path)
    if not drafts or not asyncio.run(api_reachable(config.provider)):
        return []
    return drafts


def send_pending(
    config: Config,
    outbox_path: Path,
    credentials: CredentialStore,
    *,
    verify: ssl.SSLContext | None = None,
) -> list[tuple[Draft, SendResult]]:
    """Send every saved ticket that could not be sent before (after the user said yes)."""
    if not outbox_path.exists():
        return []
    outcomes = []
    for draft in Outbox(outbox_path).pending():
        result = file_draft_blocking(
            outbox_path, draft.id, lambda: sender_for(config.provider, credentials, verify=verify)
        )
        outcomes.append((draft, result))
    return outcomes

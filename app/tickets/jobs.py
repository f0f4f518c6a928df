"""The tray's saved-ticket jobs: what to offer, and sending it after the user said yes.

Coroutines for the bridge's loop (Workers runs them there); their SQLite reads and the
keyring run in its thread pool, so the loop that monitors the sites never waits on them.
The sending itself is the ticket session's (`resend`): only the routes that did not
reach their destination, with each draft's own key.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

from app.config import Config
from app.credentials import CredentialStore
from app.tickets.outbox import Draft, Outbox, pending_drafts
from app.tickets.routes.dashboard import DashboardRoute
from app.tickets.sender import api_reachable
from app.tickets.session import SessionOutcome, resend, support_url


async def pending_if_reachable(config: Config, outbox_path: Path) -> list[Draft]:
    """The saved tickets to offer now: none unless a destination answers.

    Nothing is filed to find out: a connection to the ticket API, or a GET of the
    dashboard's support page (no secret, no ticket).
    """
    drafts = await asyncio.to_thread(pending_drafts, outbox_path)
    if not drafts or not await _any_destination_up(config):
        return []
    return drafts


async def _any_destination_up(config: Config) -> bool:
    if await api_reachable(config.provider):
        return True
    dashboard = DashboardRoute(support_url=support_url(config))
    return await dashboard.reachable(config.provider.ticket_timeout)


async def send_pending(
    config: Config,
    outbox_path: Path,
    credentials: CredentialStore,
    *,
    verify: ssl.SSLContext | None = None,
) -> list[tuple[Draft, SessionOutcome]]:
    """Resend every saved ticket that did not reach everyone (after the user said yes)."""
    if not outbox_path.exists():
        return []
    outbox = Outbox(outbox_path)
    outcomes = []
    for draft in await asyncio.to_thread(outbox.pending):
        outcomes.append(
            (draft, await resend(config, outbox, draft.id, credentials, verify=verify))
        )
    return outcomes

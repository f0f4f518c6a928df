"""`lifeline ticket --site NAME`: check the site now, build the ticket, save it, send it.

Exit 0 filed; 2 not filed (the hotline, the reason and the outbox id are printed, the
draft is saved); 3 usage or config error, unknown site, non-live environment, or an
operational site without --force.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from app.commands import config_path
from app.config import Config, ConfigError, SiteConfig, load_config
from app.credentials import CredentialStore
from app.integrations.newrelic import alongside, with_findings
from app.logs import quiet_http_loggers
from app.models import EXIT_USAGE
from app.paths import Paths
from app.tickets.builder import (
    Ticket,
    build_ticket,
    is_operational,
    live_only_reason,
    plain_text,
)
from app.tickets.collect import diagnostics_for, fresh_evidence
from app.tickets.filing import file_draft_blocking, file_unsaved_blocking
from app.tickets.outbox import Outbox, OutboxError
from app.tickets.recent import recent_history
from app.tickets.sender import SendResult, TicketSender, sender_for

EXIT_FILED = 0
EXIT_NOT_FILED = 2

OPERATIONAL_QUESTION = (
    "Emergency tickets are for downtime or significant functional failure on Live."
)


def run(args: argparse.Namespace, paths: Paths) -> int:
    quiet_http_loggers()
    try:
        config = load_config(config_path(args, paths))
    except ConfigError as exc:
        return _usage(exc.one_line())
    site = find_site(config, args.site)
    if site is None:
        names = ", ".join(s.name for s in config.sites) or "none configured"
        return _usage(f"no site named {args.site!r} (sites: {names})")
    refusal = live_only_reason(site)
    if refusal:
        return _usage(refusal)

    history = recent_history(paths.history_db, site.name)
    credentials = CredentialStore(plaintext_path=paths.plaintext_secrets)
    # New Relic's slowest transactions are gathered during the check, within 3 s.
    evidence, newrelic = asyncio.run(
        alongside(
            fresh_evidence(config, site, started_at=history.first_failure_at),
            config,
            site,
            credentials,
        )
    )
    if is_operational(evidence) and not args.force:
        return _usage(
            f"{site.name} looks {evidence.state.value} to Lifeline right now "
            f"({evidence.reason}). {OPERATIONAL_QUESTION} "
            "Add --force to file anyway (for a failure probes cannot see)."
        )
    ticket = build_ticket(
        evidence,
        contact=config.contact,
        provider=config.provider,
        diagnostics=with_findings(
            diagnostics_for(evidence.result, evidence.platform, history.entries), newrelic
        ),
        note=args.note or "",
    )
    def make_sender() -> TicketSender:
        return sender_for(config.provider, credentials)

    try:
        draft_id: int | None = Outbox(paths.outbox_db).create(ticket.to_body()).id
    except OutboxError as exc:  # the ticket matters more than its draft
        print(f"lifeline: {exc}; sending without a saved draft", file=sys.stderr)
        draft_id = None
    if draft_id is not None:  # on disk before the first byte is sent
        result = file_draft_blocking(paths.outbox_db, draft_id, make_sender)
    else:
        result = file_unsaved_blocking(ticket.to_body(), make_sender)
    _print_outcome(config, ticket, draft_id, result, as_json=args.json)
    return EXIT_FILED if result.filed else EXIT_NOT_FILED


def find_site(config: Config, name: str) -> SiteConfig | None:
    folded = name.casefold()
    return next((s for s in config.sites if s.name.casefold() == folded), None)


def _usage(message: str) -> int:
    print(f"lifeline: {message}", file=sys.stderr)
    return EXIT_USAGE


def outcome_json(
    config: Config, ticket: Ticket, draft_id: int | None, result: SendResult
) -> dict[str, Any]:
    return {
        **result.to_json(),
        "draft_id": draft_id,
        "hotline": None if result.filed else config.provider.hotline,
        "dashboard": None if result.filed else config.provider.dashboard,
        "ticket": ticket.to_body(),
    }


def _print_outcome(
    config: Config, ticket: Ticket, draft_id: int | None, result: SendResult, *, as_json: bool
) -> None:
    if as_json:
        print(json.dumps(outcome_json(config, ticket, draft_id, result), indent=2))
        return
    if result.filed:
        link = f" {result.url}" if result.url else ""
        print(f"Filed emergency ticket {result.ticket_id}{link} ({ticket.subject})")
        return
    print(not_filed_text(config, draft_id, result.reason))
    print()
    print(plain_text(ticket, hotline=config.provider.hotline), end="")


def not_filed_text(config: Config, draft_id: int | None, reason: str) -> str:
    provider = config.provider
    saved = (
        f"The ticket is saved in the outbox as draft {draft_id}: "
        f"`lifeline outbox send {draft_id}` retries it (same idempotency key); "
        f"`lifeline outbox handled {draft_id}` once you filed it by phone."
        if draft_id is not None
        else "The ticket could NOT be saved in the outbox: keep the text below."
    )
    return "\n".join(
        [
            f"NOT FILED: {reason}.",
            f"Call the {provider.name} emergency line now: {provider.hotline}",
            "  (the line only files a ticket; no engineer answers: read out the text below).",
            f"  Or file it on the dashboard: {provider.dashboard}",
            saved,
        ]
    )

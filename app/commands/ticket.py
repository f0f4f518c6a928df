"""`lifeline ticket --site NAME [--note] [--force] [--json] [--open]`: file it headless.

The ticket session (app/tickets/session.py) does the work: a fresh check, the ticket,
the draft in the outbox, every route. This module only prints what came of it.
Exit 0 every route reached its destination; 1 some did; 2 none did (the hotline and the
text are printed, the draft is saved); 3 usage or config error, unknown site, not Live,
or an operational site without --force.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import webbrowser

from app.commands import config_path
from app.config import ConfigError, load_config
from app.credentials import CredentialStore
from app.logs import quiet_http_loggers
from app.models import EXIT_USAGE
from app.paths import Paths
from app.tickets.outbox import Outbox
from app.tickets.session import (
    OUTBOX_BUSY_TIMEOUT,
    GuardError,
    SessionOutcome,
    TicketSession,
    find_site,
    operational_words,
    route_line,
    unknown_site_words,
)


def run(args: argparse.Namespace, paths: Paths) -> int:
    quiet_http_loggers()
    try:
        config = load_config(config_path(args, paths))
    except ConfigError as exc:
        return _usage(exc.one_line())
    site = find_site(config, args.site)
    if site is None:
        return _usage(unknown_site_words(config, args.site))
    session = TicketSession(
        config,
        site,
        outbox=Outbox(paths.outbox_db, busy_timeout=OUTBOX_BUSY_TIMEOUT),
        history_path=paths.history_db,
        credentials=CredentialStore(plaintext_path=paths.plaintext_secrets),
    )
    if session.refusal:
        return _usage(session.refusal)
    collected = asyncio.run(session.collect())
    session.build(collected, note=args.note or "")
    if session.needs_confirmation and not args.force:
        assert session.evidence is not None
        return _usage(
            f"{operational_words(session.evidence)} "
            "Add --force to file anyway (for a failure probes cannot see)."
        )
    try:
        outcome = asyncio.run(session.file(confirmed=args.force))
    except GuardError as exc:  # checked above; kept so a new guard cannot slip through
        return _usage(str(exc))
    if outcome.unsaved:
        print(f"lifeline: {outcome.unsaved}; sent without a saved draft", file=sys.stderr)
    if getattr(args, "open", False) and outcome.handed_now is not None:
        webbrowser.open(outcome.support_url)
    if args.json:
        print(json.dumps(outcome.to_json(), indent=2))
    else:
        print(outcome_text(outcome), end="")
    return outcome.exit_code


def _usage(message: str) -> int:
    print(f"lifeline: {message}", file=sys.stderr)
    return EXIT_USAGE


def outcome_text(outcome: SessionOutcome) -> str:
    lines = [route_line(r) for r in outcome.routes]
    if outcome.skipped:
        lines.append(outcome.skipped)
    if outcome.dashboard is not None:
        lines += [
            "",
            f"On the dashboard's Support tab ({outcome.support_url}):",
            *(f"  {step}" for step in outcome.steps),
            "  (--open opens it in a browser; the text is below.)",
        ]
    if outcome.needs_hotline:
        lines += [
            "",
            f"Call the emergency line now: {outcome.hotline}",
            "  (the line only files a ticket; no engineer answers: read out the text below).",
        ]
    lines.append(saved_words(outcome))
    if outcome.dashboard is not None or outcome.needs_hotline:
        lines += ["", outcome.text.rstrip("\n")]
    return "\n".join(lines) + "\n"


def saved_words(outcome: SessionOutcome) -> str:
    draft_id = outcome.draft_id
    if draft_id is None:
        return "The ticket could NOT be saved in the outbox: keep the text below."
    if outcome.all_reached and outcome.dashboard is None:
        return f"Outbox draft {draft_id}: filed; it will not be sent again."
    parts = [f"Saved in the outbox as draft {draft_id}."]
    if not outcome.all_reached:
        parts.append(
            f"`lifeline outbox send {draft_id}` retries the routes that failed (same key)."
        )
    if outcome.dashboard is not None:
        parts.append(f"`lifeline outbox filed {draft_id}` once you filed it on the dashboard.")
    parts.append(f"`lifeline outbox handled {draft_id}` once you filed it by phone.")
    return " ".join(parts)

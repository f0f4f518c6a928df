"""`lifeline outbox [list | send [ID] | drop ID | filed ID | handled ID] [--json]`.

`send` without an id resends every draft that was meant to go out and did not (the ones
the tray offers), and only the routes of each that did not reach their destination, with
the draft's idempotency key. A draft another Lifeline is sending right now is left to it.
`filed` says you filed it on the dashboard, `handled` by phone: neither is sent again.
Exit codes: 0 done (every route reached); 1 some routes did; 2 none did; 3 usage/config.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from app.commands import config_path
from app.config import ConfigError, load_config
from app.credentials import CredentialStore
from app.logs import quiet_http_loggers
from app.models import EXIT_USAGE
from app.paths import Paths
from app.tickets.outbox import Draft, DraftState, Outbox, OutboxError
from app.tickets.routes.base import RouteOutcome
from app.tickets.session import (
    EXIT_NOT_REACHED,
    EXIT_PARTLY,
    EXIT_REACHED,
    SessionOutcome,
    resend,
    route_line,
)


def run(args: argparse.Namespace, paths: Paths) -> int:
    quiet_http_loggers()
    outbox = Outbox(paths.outbox_db)
    action: str = args.action
    try:
        if action == "list":
            return _list(outbox, as_json=args.json)
        if action == "send":
            return _send(args, paths, outbox)
        draft_id = _draft_id(args.id, action)
        settle = {"drop": outbox.drop, "filed": outbox.mark_filed_by_user}
        draft = settle.get(action, outbox.mark_handled)(draft_id)
    except OutboxError as exc:
        print(f"lifeline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(draft.to_json(), indent=2))
    else:
        words = {
            "drop": "dropped",
            "filed": "marked as filed on the dashboard",
        }.get(action, "marked as filed by phone")
        print(f"Draft {draft.id} ({draft.site}) {words}; it will not be sent.")
    return 0


def _draft_id(raw: str | None, action: str) -> int:
    if raw is None:
        raise OutboxError(f"`lifeline outbox {action}` needs a draft id (see `lifeline outbox`)")
    try:
        return int(raw)
    except ValueError:
        raise OutboxError(f"{raw!r} is not a draft id (a number, see `lifeline outbox`)") from None


def _list(outbox: Outbox, *, as_json: bool) -> int:
    drafts = outbox.drafts() if outbox.path.exists() else []
    if as_json:
        print(json.dumps([d.to_json() for d in drafts], indent=2))
        return 0
    if not drafts:
        print("The outbox is empty.")
        return 0
    for draft in drafts:
        print(describe(draft))
    return 0


def describe(draft: Draft) -> str:
    state = {
        DraftState.DRAFT: "not sent" if draft.attempts else "not sent (never tried)",
        DraftState.SENDING: "sending",
        DraftState.FILED: f"filed as {draft.ticket_id}",
        DraftState.HANDED: "handed to the dashboard (waiting for `outbox filed`)",
        DraftState.FILED_BY_USER: "filed by you on the dashboard",
        DraftState.HANDLED_BY_PHONE: "filed by phone",
        DraftState.DROPPED: "dropped",
    }[draft.state]
    line = f"{draft.id:>4}  {draft.created_at:%Y-%m-%d %H:%M} UTC  {draft.site}: {state}"
    if draft.attempts:
        line += f", {draft.attempts} attempt{'s' if draft.attempts != 1 else ''}"
    if draft.is_open and draft.last_error and not draft.routes:
        line += f"; last error: {draft.last_error}"
    lines = [line, f"      {draft.subject}"]
    for record in draft.routes:
        words = {
            RouteOutcome.FILED: f"filed as {record.ticket_id or '(no id)'}",
            RouteOutcome.DASHBOARD: "handed to the dashboard",
            RouteOutcome.HOTLINE: f"dashboard unreachable: {record.reason}",
            RouteOutcome.FAILED: f"failed: {record.reason}",
        }[record.outcome]
        lines.append(f"      - {record.name}: {words}")
    return "\n".join(lines)


def _send(args: argparse.Namespace, paths: Paths, outbox: Outbox) -> int:
    try:
        config = load_config(config_path(args, paths))
    except ConfigError as exc:
        print(f"lifeline: {exc.one_line()}", file=sys.stderr)
        return EXIT_USAGE
    if args.id is not None:
        targets = [outbox.get(_draft_id(args.id, "send"))]
    else:
        targets = outbox.pending() if outbox.path.exists() else []
    credentials = CredentialStore(plaintext_path=paths.plaintext_secrets)
    outcomes: list[tuple[Draft, SessionOutcome]] = [
        (draft, asyncio.run(resend(config, outbox, draft.id, credentials))) for draft in targets
    ]
    if args.json:
        print(json.dumps([_outcome_json(d, o) for d, o in outcomes], indent=2))
    elif not outcomes:
        print("Nothing to send: no saved ticket is waiting.")
    if not args.json:
        for draft, outcome in outcomes:
            print(_outcome_line(draft, outcome))
    tried = [o for _, o in outcomes if not o.skipped]
    if any(o.needs_hotline for o in tried) and not args.json:
        print(f"Hotline: {config.provider.hotline} (the line only files a ticket)")
    if not tried or all(o.all_reached for o in tried):
        # A settled draft, or one another Lifeline is sending, is nothing to retry here,
        # except when the user named it: then "not sent" is the answer.
        if args.id is not None and outcomes and outcomes[0][1].skipped:
            return EXIT_NOT_REACHED if not outcomes[0][1].all_reached else EXIT_REACHED
        return EXIT_REACHED
    return EXIT_PARTLY if any(o.reached for o in tried) else EXIT_NOT_REACHED


def _outcome_line(draft: Draft, outcome: SessionOutcome) -> str:
    lines = [f"Draft {draft.id} ({draft.site}):"]
    if outcome.skipped:
        lines.append(f"  {outcome.skipped}")
    lines += [f"  {route_line(r)}" for r in outcome.routes]
    return "\n".join(lines)


def _outcome_json(draft: Draft, outcome: SessionOutcome) -> dict[str, object]:
    data = outcome.to_json()
    data.pop("text", None)  # the listing is about routes; `outbox list` has the drafts
    return {"site": draft.site, "skipped": outcome.skipped or None, **data}

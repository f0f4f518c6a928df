"""`lifeline outbox [list | send [ID] | drop ID | handled ID] [--json]`: saved ticket drafts.

`send` without an id sends every draft that was meant to go out and did not (the ones
the tray offers); each retry reuses the draft's idempotency key. A filed, dropped or
handled-by-phone draft is never sent again.
Exit codes: 0 done (every draft sent filed); 2 a send did not file; 3 usage/config.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.commands import config_path
from app.config import ConfigError, load_config
from app.credentials import CredentialStore
from app.logs import quiet_http_loggers
from app.models import EXIT_USAGE
from app.paths import Paths
from app.tickets.filing import file_draft_blocking
from app.tickets.outbox import Draft, DraftState, Outbox, OutboxError
from app.tickets.sender import SendResult, sender_for

EXIT_NOT_FILED = 2


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
        draft = outbox.drop(draft_id) if action == "drop" else outbox.mark_handled(draft_id)
    except OutboxError as exc:
        print(f"lifeline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(draft.to_json(), indent=2))
    else:
        words = "dropped" if action == "drop" else "marked as filed by phone"
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
        DraftState.SENDING: "sending (interrupted?)",
        DraftState.FILED: f"filed as {draft.ticket_id}",
        DraftState.HANDLED_BY_PHONE: "filed by phone",
        DraftState.DROPPED: "dropped",
    }[draft.state]
    line = f"{draft.id:>4}  {draft.created_at:%Y-%m-%d %H:%M} UTC  {draft.site}: {state}"
    if draft.attempts:
        line += f", {draft.attempts} attempt{'s' if draft.attempts != 1 else ''}"
    if draft.is_open and draft.last_error:
        line += f"; last error: {draft.last_error}"
    return f"{line}\n      {draft.subject}"


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
    outcomes: list[tuple[Draft, SendResult]] = []
    for draft in targets:
        result = file_draft_blocking(
            paths.outbox_db, draft.id, lambda: sender_for(config.provider, credentials)
        )
        outcomes.append((draft, result))
    if args.json:
        print(json.dumps([_outcome_json(d, r) for d, r in outcomes], indent=2))
    elif not outcomes:
        print("Nothing to send: no saved ticket is waiting.")
    for draft, result in outcomes if not args.json else ():
        if result.filed:
            link = f" {result.url}" if result.url else ""
            print(f"Draft {draft.id} ({draft.site}): filed as {result.ticket_id}{link}")
        else:
            print(f"Draft {draft.id} ({draft.site}): NOT FILED: {result.reason}")
    if any(not r.filed for _, r in outcomes):
        if not args.json:
            print(f"Hotline: {config.provider.hotline} (the line only files a ticket)")
        return EXIT_NOT_FILED
    return 0


def _outcome_json(draft: Draft, result: SendResult) -> dict[str, Any]:
    return {"draft_id": draft.id, "site": draft.site, **result.to_json()}

"""`lifeline import pantheon [--dry-run] [--json]`: add the live sites of a Pantheon account.

Sites already in the config (matched by URL) are never renamed, moved or removed; an
empty `group` or `pantheon_site_id` on one is filled from the account. The config is
written atomically, and only when something changed.

Exit codes:
  0  done (or, with --dry-run, listed); also when there was nothing new to add
  2  no Pantheon machine token (keyring or LIFELINE_PANTHEON_TOKEN)
  3  the config file is invalid (same as every other command)
  4  Pantheon rejected the token
  5  the Pantheon API could not be reached (refused, timeout, 5xx)
  6  the Pantheon API answered something we cannot read
  7  the config file could not be written
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from app.commands import config_path
from app.config import Config, ConfigError, ConfigMissing, load_config, save_config
from app.credentials import ENV_OVERRIDES, PANTHEON_TOKEN, CredentialError, CredentialStore
from app.integrations.pantheon import (
    AccountListing,
    ApiErrorKind,
    PantheonApiError,
    SiteSource,
    TerminusClient,
)
from app.logs import quiet_http_loggers
from app.models import EXIT_USAGE
from app.paths import Paths
from app.redact import redact
from app.sites_import import ImportPlan, plan_import

EXIT_OK = 0
EXIT_NO_TOKEN = 2
EXIT_TOKEN_REJECTED = 4
EXIT_UNREACHABLE = 5
EXIT_UNEXPECTED = 6
EXIT_WRITE_FAILED = 7

_EXIT_BY_KIND = {
    ApiErrorKind.TOKEN: EXIT_TOKEN_REJECTED,
    ApiErrorKind.UNREACHABLE: EXIT_UNREACHABLE,
    ApiErrorKind.UNEXPECTED: EXIT_UNEXPECTED,
}


def run(args: argparse.Namespace, paths: Paths) -> int:
    quiet_http_loggers()
    out, err = sys.stdout, sys.stderr
    path = config_path(args, paths)
    try:
        config = load_config(path)
    except ConfigMissing:
        config = Config(source=str(path))  # first run: the import writes a new file
    except ConfigError as exc:
        return _fail(err, exc.one_line(), EXIT_USAGE)

    store = CredentialStore(plaintext_path=paths.plaintext_secrets)
    try:
        token = store.get(PANTHEON_TOKEN)
    except CredentialError as exc:
        return _fail(err, f"cannot read the Pantheon machine token: {exc}", EXIT_NO_TOKEN)
    if not token:
        return _fail(
            err,
            "no Pantheon machine token: save one in Settings, or set "
            f"{ENV_OVERRIDES[PANTHEON_TOKEN]} for headless use",
            EXIT_NO_TOKEN,
        )

    source = TerminusClient(config.provider.api, token, dashboard=config.provider.dashboard)
    try:
        listing = asyncio.run(fetch(source))
    except PantheonApiError as exc:
        return _fail(err, exc.message, _EXIT_BY_KIND[exc.kind])

    plan = plan_import(config, listing.sites)
    written = False
    if plan.changed and not args.dry_run:
        try:
            save_config(plan.config, path)
        except ConfigError as exc:
            return _fail(err, exc.one_line(), EXIT_WRITE_FAILED)
        except OSError as exc:
            return _fail(
                err, f"{path}: cannot write the config ({exc.strerror or exc})", EXIT_WRITE_FAILED
            )
        written = True

    if args.json:
        json.dump(as_json(plan, listing, dry_run=args.dry_run, path=path, written=written), out,
                  indent=2)
        out.write("\n")
    else:
        out.write(as_text(plan, listing, dry_run=args.dry_run, path=path))
    return EXIT_OK


async def fetch(source: SiteSource) -> AccountListing:
    return await source.list_sites()


def _fail(err: TextIO, message: str, code: int) -> int:
    err.write(f"lifeline import: {redact(message)}\n")
    return code


def as_json(
    plan: ImportPlan, listing: AccountListing, *, dry_run: bool, path: Path, written: bool
) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "config": str(path),
        "written": written,
        "added": [
            {
                "name": s.name,
                "url": s.url,
                "backend_url": s.backend_url,
                "environment": s.environment,
                "dashboard_url": s.dashboard_url,
                "group": s.group,
                "pantheon_site_id": s.pantheon_site_id,
            }
            for s in plan.added
        ],
        "filled": [
            {"name": s.name, "group": s.group, "pantheon_site_id": s.pantheon_site_id}
            for s in plan.filled
        ],
        "already_present": [
            {"name": c.name, "url": c.url, "configured_as": existing}
            for c, existing in plan.present
        ],
        "skipped": [
            {"name": s.name, "why": s.why} for s in (*listing.skipped, *plan.invalid)
        ],
    }


def as_text(plan: ImportPlan, listing: AccountListing, *, dry_run: bool, path: Path) -> str:
    lines: list[str] = []
    count = len(plan.added)
    noun = "site" if count == 1 else "sites"
    if not plan.added:
        lines.append("Nothing to add: every live site of the account is already configured."
                     if plan.present else "Nothing to add: the account has no importable site.")
    elif dry_run:
        lines.append(f"Would add {count} {noun} to {path} (dry run, nothing written):")
    else:
        lines.append(f"Added {count} {noun} to {path}:")
    for site in plan.added:
        extra = f"  (editors: {site.backend_url})" if site.backend_url else ""
        group = f"  [{site.group}]" if site.group else ""
        lines.append(f"  + {site.name}  {site.url}{extra}{group}")
    if plan.filled:
        verb = "Would complete" if dry_run else "Completed"
        lines.append(f"{verb} {len(plan.filled)} configured site(s) (empty group or site id):")
        for site in plan.filled:
            lines.append(f"  ~ {site.name}  [{site.group}]")
    if plan.present:
        lines.append(f"Already configured ({len(plan.present)}):")
        for candidate, existing in plan.present:
            lines.append(f"  = {candidate.url}  as {existing!r}")
    skipped = (*listing.skipped, *plan.invalid)
    if skipped:
        lines.append(f"Skipped ({len(skipped)}):")
        for s in skipped:
            lines.append(f"  - {s.name}: {s.why}")
    return "\n".join(lines) + "\n"

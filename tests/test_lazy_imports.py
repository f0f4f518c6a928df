"""What the idle tray does not load: the self-test's machinery (an HTTP server) with every
window's icon, and the ticket machinery (routes, session, New Relic) with the outbox
offer while no saved ticket waits. Checked in a fresh interpreter, where sys.modules
holds only what the import itself pulled in."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    return set(proc.stdout.split())


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        ("import ui.app_icon", {"ui.selftest", "http.server"}),
        ("import ui.outbox_offer",
         {"app.tickets.jobs", "app.tickets.session", "app.tickets.routes.configured", "httpx2",
          "app.integrations.newrelic"}),
    ],
)
def test_light_modules_stay_light(statement: str, absent: set[str]) -> None:
    loaded = modules_after(statement)
    assert not absent & loaded, sorted(absent & loaded)

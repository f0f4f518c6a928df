"""Where this install keeps its resources (desktop entry, icons): one search for the app
icon of every window and for the self-test that checks it. Light on purpose: every
window imports it, so it must not pull in the self-test's machinery."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_dirs() -> list[Path]:
    """Where the desktop entry and the app icon may be, for each way of installing."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # PyInstaller
        candidates.append(Path(bundle) / "resources")
    checkout = Path(__file__).resolve().parents[1] / "resources"
    candidates.append(checkout)
    # pip/pipx install the same files as data files under <prefix>/share.
    import site
    import sysconfig

    for prefix in (sysconfig.get_path("data"), site.getuserbase()):
        if prefix:
            candidates.append(Path(prefix) / "share")
    return candidates

"""Process-wide interpreter settings for the tray app, applied explicitly by ui.main.run().

Both trade something for a GUI thread that never stalls while the monitor shares its
process (and its GIL); neither belongs in a library object such as the Bridge, whose
users (tests, the bench, `lifeline watch`) must not inherit them by surprise.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator

# Seconds a thread may keep the GIL while another waits for it (Python's default: 5 ms).
# The GUI thread shares the GIL with the monitor's loop thread and the history thread: a
# slot waits for the busy threads' intervals, hand-off after hand-off, and at 5 ms those
# waits added up to 40-70 ms freezes at the end of a round. Measured with
# bench.gui_heartbeat (200 sites, 20 hanging, 20 sending 64 MiB): 1 ms left 25-33 ms
# gaps, 0.5 ms 19-26 ms, 0.2 ms 13-16 ms, with no measurable extra CPU (the interval
# only matters while a thread waits for the GIL, never when the app idles).
GUI_SWITCH_INTERVAL = 0.0002


def tune_for_gui() -> None:
    """Shorten the GIL switch interval (see GUI_SWITCH_INTERVAL); never lengthens it."""
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL)


@contextlib.contextmanager
def imports_frozen() -> Iterator[None]:
    """No garbage collection while the check engine is imported, then everything alive
    (the modules, classes and functions of Qt, httpx2 and the app) moved out of the
    collector's sight with gc.freeze().

    A full collection walks every tracked object while holding the GIL: with all of them
    loaded that took 30-35 ms (bench.gui_heartbeat), during which the GUI thread could
    not run a single slot (once amid these imports, then every few rounds). Imports make
    next to no garbage, and frozen objects are the ones that live as long as the app."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()

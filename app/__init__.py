"""Lifeline's core: configuration, probes, status page, impact, monitor, history, tickets.

Nothing in this package imports Qt (ruff's banned-api enforces it), so the core runs
headless (`lifeline check`, `lifeline watch`) and its tests run without a display.
"""

__version__ = "0.1.0"
APP_NAME = "lifeline"
APP_DISPLAY_NAME = "Lifeline"
APP_ID = "io.github.lifeline"

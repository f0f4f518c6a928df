"""Lifeline's own icon for every window (Settings, the ticket form, About...), instead
of the window manager's generic one: the icon theme's entry when installed, else the
PNGs shipped with this install (checkout, frozen bundle or pip's share/)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

from app import APP_ID
from ui.resource_dirs import resource_dirs


def app_icon_files(bases: list[Path]) -> list[Path]:
    """The PNGs of the first place that has any, smallest first."""
    for base in bases:
        pngs = sorted(
            (base / "icons" / "hicolor").glob(f"*/apps/{APP_ID}.png"),
            key=lambda p: int(p.parent.parent.name.split("x", 1)[0]),
        )
        if pngs:
            return pngs
    return []


def app_icon(bases: list[Path] | None = None) -> QIcon:
    """The app icon; a null QIcon only when the install has lost its icons."""
    if bases is None:
        bases = resource_dirs()
    shipped = QIcon()
    for png in app_icon_files(bases):
        shipped.addFile(str(png))
    return QIcon.fromTheme(APP_ID, shipped)

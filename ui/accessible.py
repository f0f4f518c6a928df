"""What a screen reader needs from our widgets, in one place.

In Qt 6.11 a QLabel gives AT-SPI no text of its own, and `setAccessibleName()` replaces
what it shows: a label named "Save status" hides its message. So a message is a
`StatusLabel`, whose accessible name is always its text, and whose changes are announced
(Qt's announcement event: AT-SPI's `object:announcement`, which Orca speaks); a label
the keyboard should reach (a reason to read, a number to call) is `readable()`.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>|</li>", re.IGNORECASE)


def spoken_text(text: str) -> str:
    """A label's text as a screen reader should say it: rich text's tags dropped."""
    if "<" not in text:
        return text.strip()
    flat = _TAG.sub("", _BREAK.sub("\n", text))
    return "\n".join(line.strip() for line in html.unescape(flat).splitlines()).strip()


def announce(widget: QWidget, text: str, *, urgent: bool = False) -> None:
    """Have the screen reader say `text` now (an error: interrupting what it says)."""
    if not text or not QAccessible.isActive():
        return
    event = QAccessibleAnnouncementEvent(widget, text)
    if urgent:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


class StatusLabel(QLabel):
    """A message (a status, an error, a notice): its accessible name is its text, and
    each new text is announced while its window is open. `urgent` for errors."""

    announced = Signal(str)  # the text just announced to assistive technology

    def __init__(self, text: str | QWidget = "", parent: QWidget | None = None, *,
                 urgent: bool = False) -> None:
        if isinstance(text, QWidget):  # StatusLabel(parent), as QLabel(parent)
            parent, text = text, ""
        super().__init__(parent)
        self.urgent = urgent
        self.setText(str(text))

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        spoken = spoken_text(text)
        changed = spoken != self.accessibleName()
        super().setText(text)
        if self.property("tab_stop"):
            # A Tab stop only while it says something: an empty one would be silent.
            self.setFocusPolicy(
                Qt.FocusPolicy.StrongFocus if spoken else Qt.FocusPolicy.NoFocus
            )
        if changed:
            self.setAccessibleName(spoken)  # Qt sends NameChanged with it
            window = self.window()
            if spoken and window is not None and window.isVisible():
                announce(self, spoken, urgent=self.urgent)
                self.announced.emit(spoken)

    def clear(self) -> None:
        self.setText("")


def readable(label: QLabel) -> QLabel:
    """Reachable with Tab (and its text selectable by keyboard), so a screen-reader user
    meets it in reading order. Links inside stay mouse-only: Tab lands on the label,
    not on a silent link within it."""
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
        | Qt.TextInteractionFlag.LinksAccessibleByMouse
    )
    label.setProperty("tab_stop", True)
    has_text = bool(spoken_text(label.text()))
    label.setFocusPolicy(Qt.FocusPolicy.StrongFocus if has_text else Qt.FocusPolicy.NoFocus)
    if not label.accessibleName():
        label.setAccessibleName(spoken_text(label.text()))
    return label


def name_button(button: QAbstractButton, extra: str = "") -> None:
    """A button's accessible name: its visible label (mnemonic dropped), plus `extra`.
    Speech-input users say what they see, so the name always contains the label."""
    label = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    button.setAccessibleName(f"{label} {extra}".strip() if extra else label)

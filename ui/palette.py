"""Every colour the UI paints, in one place: the state colours (tray icon, menu entries,
and any window that shows a state) and the tones of banners, notices and inline errors,
each in a light and a dark variant.

The state colours are the same in both schemes: they are the fill of an icon with a
white glyph and a dark outline, which reads on a light and on a dark panel alike. The
tones are not: a pale banner with dark text would glare in a dark window, so a dark
window gets dark banners with light text. Which one applies is read when a style is
built: `QStyleHints.colorScheme()` (the desktop's light/dark setting), else the window
palette's lightness (a platform that reports no scheme still paints a palette).

Every text/background pair keeps WCAG AA contrast (4.5:1) in both schemes; the tests
compute it with `contrast()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

from app.models import OverallState, SiteState


class Scheme(StrEnum):
    LIGHT = "light"
    DARK = "dark"


class Tone(StrEnum):
    BAD = "bad"  # a site down, a ticket that could not be sent
    WARN = "warn"  # degraded, a notice to read (no keyring)
    INFO = "info"  # nothing wrong, something to know
    OFF = "off"  # not applicable (an environment that cannot be ticketed)
    GOOD = "good"  # done (a ticket filed)


@dataclass(frozen=True)
class Colours:
    background: str
    text: str
    border: str


# The tray icon's fill per state. Sites and the overall state share one look, so a
# site's menu entry looks like the tray icon would for that site alone.
STATE_COLOURS: dict[OverallState, str] = {
    OverallState.OPERATIONAL: "#2E7D32",
    OverallState.DEGRADED: "#F9A825",
    OverallState.EDITORS_BLOCKED: "#EF6C00",
    OverallState.DOWN: "#C62828",
    OverallState.UNKNOWN: "#757575",
    OverallState.MAINTENANCE: "#1565C0",
}
SITE_COLOURS: dict[SiteState, str] = {
    SiteState.OPERATIONAL: STATE_COLOURS[OverallState.OPERATIONAL],
    SiteState.DEGRADED: STATE_COLOURS[OverallState.DEGRADED],
    SiteState.EDITORS_BLOCKED: STATE_COLOURS[OverallState.EDITORS_BLOCKED],
    SiteState.DOWN: STATE_COLOURS[OverallState.DOWN],
    SiteState.UNKNOWN: STATE_COLOURS[OverallState.UNKNOWN],
    # Idling on purpose (a non-live environment asleep): not a problem, not green either.
    SiteState.ASLEEP: "#757575",
}
ICON_GLYPH = "#FFFFFF"  # the glyph and the pending dot drawn on the state colour
# The glyph on a fill too light for white (amber: 1.97:1), like a warning sign's black
# on yellow; graphics need 3:1 (WCAG 1.4.11). Every state's figure is in the README.
ICON_GLYPH_DARK = "#1A1A1A"
GLYPH_CONTRAST = 3.0


def glyph_colour(fill: str) -> str:
    """The glyph's colour on a state colour: white where it reaches 3:1, else dark."""
    return ICON_GLYPH if contrast(ICON_GLYPH, fill) >= GLYPH_CONTRAST else ICON_GLYPH_DARK
# The icon's edge (#AARRGGBB: black at 35 %), visible on a panel of the same colour.
ICON_OUTLINE = "#5A000000"

TONES: dict[Scheme, dict[Tone, Colours]] = {
    Scheme.LIGHT: {
        Tone.BAD: Colours("#FDECEA", "#8A1C12", "#F5C2BD"),
        Tone.WARN: Colours("#FFF4E5", "#7A4B00", "#F7D9A8"),
        Tone.INFO: Colours("#E8F1FB", "#0B3D6E", "#BCD6F2"),
        Tone.OFF: Colours("#F0F0F0", "#333333", "#D0D0D0"),
        Tone.GOOD: Colours("#E7F5EA", "#14532D", "#B7E0C0"),
    },
    Scheme.DARK: {
        Tone.BAD: Colours("#3F1613", "#FFB4AB", "#8C2F27"),
        Tone.WARN: Colours("#3A2A0A", "#FFD699", "#8A6420"),
        Tone.INFO: Colours("#102A44", "#B7D7FF", "#2F5F8F"),
        Tone.OFF: Colours("#2E2E2E", "#E0E0E0", "#555555"),
        Tone.GOOD: Colours("#10301B", "#A8E6B8", "#2F6B40"),
    },
}
# The Lifeline window's charts (ui/window): the response-time line, its min-max band,
# the faint `slow` threshold, and the frame of a timeline strip (blank inside where
# Lifeline was not watching). The segments themselves use the state colours above.
CHART: dict[Scheme, dict[str, str]] = {
    Scheme.LIGHT: {"line": "#1F4E79", "band": "#401F4E79", "slow": "#99B3261E",
                   "frame": "#8C8C8C"},
    Scheme.DARK: {"line": "#9CC8F5", "band": "#509CC8F5", "slow": "#B0FF8A80",
                  "frame": "#8C8C8C"},
}

# Inline error text (under a field, a dialog's status line), on the window's own colour.
ERROR_TEXT: dict[Scheme, str] = {Scheme.LIGHT: "#B3261E", Scheme.DARK: "#FF8A80"}
# The window colours the error text is measured against (Qt's Fusion defaults).
WINDOW: dict[Scheme, str] = {Scheme.LIGHT: "#EFEFEF", Scheme.DARK: "#323232"}


def current_scheme(app: QGuiApplication | None = None) -> Scheme:
    """The desktop's light/dark mode, else the lightness of the window palette."""
    gui = app or QGuiApplication.instance()
    if not isinstance(gui, QGuiApplication):
        return Scheme.LIGHT  # nothing is painted without an application
    return scheme_of(gui.styleHints().colorScheme(), gui.palette().color(QPalette.ColorRole.Window))


def scheme_of(hinted: Qt.ColorScheme, window: QColor) -> Scheme:
    """The scheme the desktop announces; without one (Unknown: an X11 session with no
    platform theme, offscreen), the one the window's colour shows."""
    if hinted == Qt.ColorScheme.Dark:
        return Scheme.DARK
    if hinted == Qt.ColorScheme.Light:
        return Scheme.LIGHT
    return Scheme.DARK if window.lightnessF() < 0.5 else Scheme.LIGHT


def tone(kind: Tone, scheme: Scheme | None = None) -> Colours:
    return TONES[scheme or current_scheme()][kind]


def banner_style(
    kind: Tone, *, padding: int = 8, bold: bool = False, scheme: Scheme | None = None
) -> str:
    """A QLabel style sheet for a banner or notice in the given tone."""
    c = tone(kind, scheme)
    weight = " font-weight: bold;" if bold else ""
    return (
        f"QLabel {{ background: {c.background}; color: {c.text};"
        f" border: 1px solid {c.border}; border-radius: 4px; padding: {padding}px;{weight} }}"
    )


def error_style(scheme: Scheme | None = None) -> str:
    """A style sheet for inline error text on the window's background."""
    return f"color: {ERROR_TEXT[scheme or current_scheme()]};"


def apply_style(widget: QWidget, style: Callable[[], str]) -> None:
    """Give `widget` the style sheet `style()` now, and again whenever the desktop
    switches between light and dark while it is open. A later call replaces `style`."""
    follower = widget.findChild(_StyleFollower, options=Qt.FindChildOption.FindDirectChildrenOnly)
    if follower is None:
        follower = _StyleFollower(widget, style)
    else:
        follower.style = style
    follower.apply()


class _StyleFollower(QObject):
    """Re-applies a widget's style on a scheme or application palette change. Signals,
    not events: a widget with a style sheet of its own is sent no palette events."""

    def __init__(self, widget: QWidget, style: Callable[[], str]) -> None:
        super().__init__(widget)
        self.widget = widget
        self.style = style
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            # Slots of this object: Qt disconnects them when the widget (and this) go.
            app.styleHints().colorSchemeChanged.connect(self.apply)
            app.paletteChanged.connect(self.apply)  # a platform without a colour scheme

    @Slot()
    def apply(self) -> None:
        sheet = self.style()
        if self.widget.styleSheet() != sheet:  # setStyleSheet re-polishes: only on change
            self.widget.setStyleSheet(sheet)


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two #RRGGBB colours, 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)

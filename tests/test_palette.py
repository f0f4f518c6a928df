"""ui.palette: one set of colours, light and dark, readable in both (WCAG AA)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from ui.icons import OVERALL_LOOK, SITE_LOOK
from ui.palette import (
    ERROR_TEXT,
    SITE_COLOURS,
    STATE_COLOURS,
    TONES,
    WINDOW,
    Scheme,
    Tone,
    apply_style,
    banner_style,
    contrast,
    current_scheme,
    error_style,
    scheme_of,
)

AA = 4.5  # WCAG 2 AA for normal text


def colours_of(style: str) -> tuple[str, str]:
    """(text, background) of a style sheet."""
    background = re.search(r"background:\s*(#[0-9A-Fa-f]{6})", style)
    text = re.search(r"(?<![-\w])color:\s*(#[0-9A-Fa-f]{6})", style)
    assert background and text, style
    return text.group(1), background.group(1)


def banner(qtbot: Any) -> QLabel:
    """A banner as the windows make one (the hotline panel's headline)."""
    label = QLabel("The ticket was not filed.")
    qtbot.addWidget(label)
    apply_style(label, lambda: banner_style(Tone.BAD, bold=True))
    label.show()
    return label


@pytest.fixture
def dark_app(qapp: QApplication) -> Iterator[QApplication]:
    """The application painted dark, as a dark desktop theme would paint it."""
    before = QPalette(qapp.palette())
    dark = QPalette(before)
    dark.setColor(QPalette.ColorRole.Window, QColor(WINDOW[Scheme.DARK]))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#EEEEEE"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#1E1E1E"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#EEEEEE"))
    qapp.setPalette(dark)
    yield qapp
    qapp.setPalette(before)


def test_contrast_matches_wcag() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast("#777777", "#777777") == pytest.approx(1.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the AA grey


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("kind", list(Tone))
def test_every_banner_is_readable(scheme: Scheme, kind: Tone) -> None:
    text, background = colours_of(banner_style(kind, scheme=scheme))
    assert contrast(text, background) >= AA


@pytest.mark.parametrize("scheme", list(Scheme))
def test_error_text_is_readable_on_the_window(scheme: Scheme) -> None:
    assert contrast(ERROR_TEXT[scheme], WINDOW[scheme]) >= AA


def test_dark_tones_are_dark_and_light_tones_light() -> None:
    for kind in Tone:
        assert QColor(TONES[Scheme.DARK][kind].background).lightnessF() < 0.3
        assert QColor(TONES[Scheme.LIGHT][kind].background).lightnessF() > 0.9


def test_the_desktop_scheme_wins_over_the_window_colour() -> None:
    light, dark = QColor(WINDOW[Scheme.LIGHT]), QColor(WINDOW[Scheme.DARK])
    assert scheme_of(Qt.ColorScheme.Dark, light) is Scheme.DARK
    assert scheme_of(Qt.ColorScheme.Light, dark) is Scheme.LIGHT
    assert scheme_of(Qt.ColorScheme.Unknown, dark) is Scheme.DARK
    assert scheme_of(Qt.ColorScheme.Unknown, light) is Scheme.LIGHT


def test_a_dark_window_gets_dark_readable_banners(dark_app: QApplication, qtbot: Any) -> None:
    # Offscreen Qt reports no colour scheme: the window palette decides, as on a bare X11.
    assert current_scheme() is Scheme.DARK
    label = banner(qtbot)
    text, background = colours_of(label.styleSheet())
    assert (text, background) == (
        TONES[Scheme.DARK][Tone.BAD].text, TONES[Scheme.DARK][Tone.BAD].background
    )
    assert contrast(text, background) >= AA
    assert error_style() == f"color: {ERROR_TEXT[Scheme.DARK]};"


def test_a_light_window_keeps_the_light_banners(qapp: QApplication, qtbot: Any) -> None:
    assert current_scheme() is Scheme.LIGHT
    text, background = colours_of(banner(qtbot).styleSheet())
    assert background == TONES[Scheme.LIGHT][Tone.BAD].background
    assert contrast(text, background) >= AA


def test_an_open_window_follows_a_switch_to_dark_and_back(qapp: QApplication, qtbot: Any) -> None:
    label = banner(qtbot)
    light, dark = TONES[Scheme.LIGHT][Tone.BAD], TONES[Scheme.DARK][Tone.BAD]
    assert colours_of(label.styleSheet())[1] == light.background
    before = QPalette(qapp.palette())
    dark_palette = QPalette(before)
    dark_palette.setColor(QPalette.ColorRole.Window, QColor(WINDOW[Scheme.DARK]))
    try:
        qapp.setPalette(dark_palette)  # what Qt does when the desktop turns dark
        qtbot.waitUntil(lambda: colours_of(label.styleSheet())[1] == dark.background)
    finally:
        qapp.setPalette(before)
    qtbot.waitUntil(lambda: colours_of(label.styleSheet())[1] == light.background)


def test_a_later_style_replaces_the_earlier_one(qapp: QApplication, qtbot: Any) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    apply_style(label, lambda: banner_style(Tone.BAD, scheme=Scheme.LIGHT))
    apply_style(label, lambda: banner_style(Tone.GOOD, scheme=Scheme.LIGHT))
    assert colours_of(label.styleSheet())[1] == TONES[Scheme.LIGHT][Tone.GOOD].background
    assert len(label.findChildren(QObject)) == 1  # one follower, not one per call


def test_a_closed_window_stops_following(qapp: QApplication, qtbot: Any) -> None:
    label = QLabel()
    apply_style(label, error_style)
    destroyed: list[bool] = []
    label.destroyed.connect(lambda: destroyed.append(True))
    label.deleteLater()
    qtbot.waitUntil(lambda: bool(destroyed))
    before = QPalette(qapp.palette())
    dark_palette = QPalette(before)
    dark_palette.setColor(QPalette.ColorRole.Window, QColor(WINDOW[Scheme.DARK]))
    try:
        qapp.setPalette(dark_palette)  # no call into the deleted label (pytest-qt would fail)
    finally:
        qapp.setPalette(before)


def test_icons_paint_the_palette_state_colours() -> None:
    assert {state: look[0] for state, look in OVERALL_LOOK.items()} == STATE_COLOURS
    assert {state: look[0] for state, look in SITE_LOOK.items()} == SITE_COLOURS

"""The tray icon, drawn with QPainter for any size: a state-coloured shape with a glyph
(white, or dark on amber, so each reaches 3:1 on its fill).

Colour AND glyph, so the state does not rest on colour alone (colour-blind users). The
shape fills nearly the whole square, so most of the icon's pixels are the state colour
and a glance is enough. A pending (unconfirmed) problem adds a small dot and leaves the
colour alone. Rendered icons are cached per (state, pending): the tray never redraws
an icon it already has.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QIconEngine,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

from app.models import OverallState, SiteState
from ui.palette import ICON_GLYPH, ICON_OUTLINE, SITE_COLOURS, STATE_COLOURS, glyph_colour


class Glyph(StrEnum):
    CHECK = "check"
    BANG = "bang"
    HALF = "half"
    CROSS = "cross"
    QUESTION = "question"
    CLOCK = "clock"
    SLEEP = "sleep"


# (colour, glyph) per state; the colours are ui.palette's.
_OVERALL_GLYPH: dict[OverallState, Glyph] = {
    OverallState.OPERATIONAL: Glyph.CHECK,
    OverallState.DEGRADED: Glyph.BANG,
    OverallState.EDITORS_BLOCKED: Glyph.HALF,
    OverallState.DOWN: Glyph.CROSS,
    OverallState.UNKNOWN: Glyph.QUESTION,
    OverallState.MAINTENANCE: Glyph.CLOCK,
}
_SITE_GLYPH: dict[SiteState, Glyph] = {
    SiteState.OPERATIONAL: Glyph.CHECK,
    SiteState.DEGRADED: Glyph.BANG,
    SiteState.EDITORS_BLOCKED: Glyph.HALF,
    SiteState.DOWN: Glyph.CROSS,
    SiteState.UNKNOWN: Glyph.QUESTION,
    SiteState.ASLEEP: Glyph.SLEEP,
}
OVERALL_LOOK: dict[OverallState, tuple[str, Glyph]] = {
    state: (STATE_COLOURS[state], glyph) for state, glyph in _OVERALL_GLYPH.items()
}
SITE_LOOK: dict[SiteState, tuple[str, Glyph]] = {
    state: (SITE_COLOURS[state], glyph) for state, glyph in _SITE_GLYPH.items()
}

SIZES = (16, 22, 24, 32, 48, 64)
PENDING_DOT = ICON_GLYPH
_OUTLINE = QColor(ICON_OUTLINE)


def render_image(colour: str, glyph: Glyph, pending: bool, size: int, dpr: float = 1.0) -> QImage:
    """One icon as an ARGB image of size×dpr device pixels (devicePixelRatio set)."""
    px = max(1, round(size * dpr))
    image = QImage(px, px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(px / 100.0, px / 100.0)  # draw in a 100×100 design space
        _draw(painter, QColor(colour), glyph, pending, px)
    finally:
        painter.end()
    image.setDevicePixelRatio(dpr)
    return image


def _draw(p: QPainter, colour: QColor, glyph: Glyph, pending: bool, px: int) -> None:
    # Tiny icons get a thinner margin and a fatter stroke, so the glyph survives 16 px.
    margin = 2.0 if px < 24 else 4.0
    rect = QRectF(margin, margin, 100 - 2 * margin, 100 - 2 * margin)
    outline = QPen(_OUTLINE, max(1.0, 100.0 / px))
    p.setPen(outline)
    p.setBrush(QBrush(colour))
    p.drawRoundedRect(rect, 22, 22)

    stroke = 15.0 if px < 24 else 12.0 if px < 40 else 10.0
    white = QColor(glyph_colour(colour.name()))  # dark on amber: 3:1 at least
    pen = QPen(white, stroke)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    if glyph is Glyph.CHECK:
        path = QPainterPath(QPointF(27, 52))
        path.lineTo(43, 68)
        path.lineTo(74, 34)
        p.drawPath(path)
    elif glyph is Glyph.CROSS:
        p.drawLine(QPointF(31, 31), QPointF(69, 69))
        p.drawLine(QPointF(69, 31), QPointF(31, 69))
    elif glyph is Glyph.BANG:
        p.drawLine(QPointF(50, 24), QPointF(50, 57))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(white)
        p.drawEllipse(QPointF(50, 75), stroke * 0.75, stroke * 0.75)
    elif glyph is Glyph.HALF:
        # A ring with its left half filled: half the audience (visitors) still served.
        ring = QRectF(27, 27, 46, 46)
        p.setPen(QPen(white, stroke * 0.7))
        p.drawEllipse(ring)
        half = QPainterPath()
        half.moveTo(50, 27)
        half.arcTo(ring, 90, 180)
        half.closeSubpath()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(white)
        p.drawPath(half)
    elif glyph is Glyph.QUESTION:
        path = QPainterPath(QPointF(34, 38))
        path.arcTo(QRectF(34, 20, 32, 32), 180, -250)
        path.quadTo(QPointF(50, 52), QPointF(50, 60))
        p.drawPath(path)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(white)
        p.drawEllipse(QPointF(50, 77), stroke * 0.75, stroke * 0.75)
    elif glyph is Glyph.CLOCK:
        p.setPen(QPen(white, stroke * 0.7))
        p.drawEllipse(QRectF(24, 24, 52, 52))
        p.setPen(pen)
        p.drawLine(QPointF(50, 50), QPointF(50, 34))
        p.drawLine(QPointF(50, 50), QPointF(62, 58))
    elif glyph is Glyph.SLEEP:
        path = QPainterPath(QPointF(32, 32))
        path.lineTo(68, 32)
        path.lineTo(32, 68)
        path.lineTo(68, 68)
        p.drawPath(path)

    if pending:
        # A white dot ringed in the state colour's dark shade, top right: "something
        # is being confirmed"; the colour itself stays until the monitor decides.
        r = 17.0 if px < 24 else 12.0
        centre = QPointF(100 - margin - r * 0.9, margin + r * 0.9)
        p.setPen(QPen(colour.darker(160), max(2.0, 150.0 / px)))
        p.setBrush(QColor(PENDING_DOT))
        p.drawEllipse(centre, r, r)


def build_icon(
    colour: str, glyph: Glyph, pending: bool, dprs: tuple[float, ...] = (1.0, 2.0)
) -> QIcon:
    """A QIcon holding a crisp pixmap for every tray size at every device pixel ratio."""
    icon = QIcon()
    for dpr in dprs:
        for size in SIZES:
            icon.addPixmap(QPixmap.fromImage(render_image(colour, glyph, pending, size, dpr)))
    return icon


class _DrawnIcon(QIconEngine):
    """Draws the icon at the size (and pixel ratio) asked for, when first asked.

    Building all twelve pixmaps up front cost the GUI thread 8 ms whenever a state was
    first seen, mid-round; a tray or a menu paints one or two sizes of them."""

    def __init__(self, colour: str, glyph: Glyph, pending: bool,
                 cache: dict[tuple[int, float, QIcon.Mode], QPixmap] | None = None) -> None:
        super().__init__()
        self._look = (colour, glyph, pending)
        self._cache = {} if cache is None else cache

    def scaledPixmap(  # noqa: N802 (Qt's name)
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        side = max(1, min(size.width(), size.height()))
        key = (side, scale, mode)
        pixmap = self._cache.get(key)
        if pixmap is None:
            pixmap = QPixmap.fromImage(render_image(*self._look, side, scale))
            if mode is QIcon.Mode.Disabled:  # greyed as Qt greys any icon
                pixmap = QIcon(pixmap).pixmap(QSize(side, side), scale, mode)
            self._cache[key] = pixmap
        return pixmap

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        painter.drawPixmap(rect, self.scaledPixmap(rect.size(), mode, state, ratio))

    def actualSize(  # noqa: N802 (Qt's name)
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State
    ) -> QSize:
        side = min(size.width(), size.height())
        return QSize(side, side)

    def availableSizes(  # noqa: N802 (Qt's name)
        self, mode: QIcon.Mode = QIcon.Mode.Normal, state: QIcon.State = QIcon.State.Off
    ) -> list[QSize]:
        return [QSize(s, s) for s in SIZES]

    def clone(self) -> QIconEngine:
        return _DrawnIcon(*self._look, cache=self._cache)

    def key(self) -> str:
        return "lifeline-drawn"


class IconSet:
    """The icon of each look, cached: each is drawn once per size, when first painted."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, Glyph, bool], QIcon] = {}
        self.rendered = 0  # how many icons were made (not served from the cache)

    def overall(self, state: OverallState, pending: bool = False) -> QIcon:
        colour, glyph = OVERALL_LOOK[state]
        return self._get(colour, glyph, pending)

    def site(self, state: SiteState, pending: bool = False) -> QIcon:
        colour, glyph = SITE_LOOK[state]
        return self._get(colour, glyph, pending)

    def _get(self, colour: str, glyph: Glyph, pending: bool) -> QIcon:
        key = (colour, glyph, pending)
        icon = self._cache.get(key)
        if icon is None:
            icon = QIcon(_DrawnIcon(colour, glyph, pending))
            self._cache[key] = icon
            self.rendered += 1
        return icon


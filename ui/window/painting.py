"""Painting a timeline strip and a response-time sparkline with QPainter, and finding
what lies under a point of them (for tooltips). Only paints what app.timeline returns.

Segments are drawn in the state colours of ui.palette; maintenance is the maintenance
colour with a hatch over it; time Lifeline was not watching is left blank inside the
strip's frame, never painted as "up".
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen

from app.models import OverallState, SiteState
from app.timeline import MAINTENANCE, UNWATCHED, Point, Segment, Timeline
from ui.palette import CHART, SITE_COLOURS, STATE_COLOURS, Scheme


def x_of(rect: QRectF, timeline: Timeline, when: datetime) -> float:
    total = (timeline.end - timeline.start).total_seconds()
    share = (when - timeline.start).total_seconds() / total if total > 0 else 0.0
    return rect.left() + rect.width() * min(1.0, max(0.0, share))


def time_at(rect: QRectF, timeline: Timeline, x: float) -> datetime:
    share = 0.0 if rect.width() <= 0 else (x - rect.left()) / rect.width()
    return timeline.start + (timeline.end - timeline.start) * min(1.0, max(0.0, share))


def segment_colour(kind: str) -> QColor | None:
    """None: not painted (unwatched)."""
    if kind == UNWATCHED:
        return None
    if kind == MAINTENANCE:
        return QColor(STATE_COLOURS[OverallState.MAINTENANCE])
    try:
        return QColor(SITE_COLOURS[SiteState(kind)])
    except (ValueError, KeyError):
        return QColor(SITE_COLOURS[SiteState.UNKNOWN])


def paint_strip(p: QPainter, rect: QRectF, timeline: Timeline, scheme: Scheme) -> None:
    p.save()
    p.setPen(Qt.PenStyle.NoPen)
    for seg in timeline.segments:
        colour = segment_colour(seg.kind)
        if colour is None:
            continue
        left = x_of(rect, timeline, seg.start)
        # At least a pixel: a two-minute outage in a 30-day strip must still show.
        width = max(1.0, x_of(rect, timeline, seg.end) - left)
        piece = QRectF(left, rect.top(), width, rect.height())
        p.fillRect(piece, colour)
        if seg.kind == MAINTENANCE:
            p.fillRect(piece, QBrush(QColor("#FFFFFF"), Qt.BrushStyle.BDiagPattern))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(CHART[scheme]["frame"]), 1))
    p.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
    p.restore()


def spark_scale(points: tuple[Point, ...], slow: float) -> float:
    """The top of the sparkline's y axis, in seconds: room for the threshold, and for
    the means (a single huge max would flatten everything else)."""
    top = max((pt.mean for pt in points), default=0.0)
    return max(slow * 1.25, top * 1.1, 0.05)


def paint_sparkline(
    p: QPainter, rect: QRectF, timeline: Timeline, slow: float, scheme: Scheme
) -> None:
    colours = CHART[scheme]
    top = spark_scale(timeline.points, slow)

    def y_of(seconds: float) -> float:
        return rect.bottom() - rect.height() * min(1.0, seconds / top)

    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    threshold = y_of(slow)
    pen = QPen(QColor(colours["slow"]), 1, Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.drawLine(QPointF(rect.left(), threshold), QPointF(rect.right(), threshold))
    band = QPainterPath()
    line = QPainterPath()
    previous_end: datetime | None = None
    for pt in timeline.points:
        mid = x_of(rect, timeline, pt.start + (pt.end - pt.start) / 2)
        if previous_end != pt.start:  # a gap: nothing measured between these
            line.moveTo(mid, y_of(pt.mean))
        else:
            line.lineTo(mid, y_of(pt.mean))
        left, right = x_of(rect, timeline, pt.start), x_of(rect, timeline, pt.end)
        band.addRect(
            QRectF(left, y_of(pt.max), max(1.0, right - left), y_of(pt.min) - y_of(pt.max))
        )
        previous_end = pt.end
    p.setPen(Qt.PenStyle.NoPen)
    p.fillPath(band, QColor(colours["band"]))
    p.setPen(QPen(QColor(colours["line"]), 1.5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(line)
    p.restore()


def segment_under(rect: QRectF, timeline: Timeline, x: float) -> Segment | None:
    if not rect.left() <= x <= rect.right():
        return None
    return timeline.segment_at(time_at(rect, timeline, x))


def point_under(rect: QRectF, timeline: Timeline, x: float) -> Point | None:
    if not rect.left() <= x <= rect.right():
        return None
    when = time_at(rect, timeline, x)
    return next((pt for pt in timeline.points if pt.start <= when < pt.end), None)

"""Painting a timeline strip and a response-time sparkline with QPainter, and finding
what lies under a point of them (for tooltips). Only paints what app.timeline returns.

Segments are drawn in the state colours of ui.palette; maintenance is the maintenance
colour with a hatch over it; time Lifeline was not watching is left blank inside the
strip's frame, never painted as "up".
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF

from app.models import OverallState, SiteState
from app.timeline import MAINTENANCE, UNWATCHED, Point, Segment, Series, Timeline
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
    for seg in timeline.segments:
        if seg.snoozed:  # over whatever was drawn: the lower third dotted
            left = x_of(rect, timeline, seg.start)
            width = max(1.0, x_of(rect, timeline, seg.end) - left)
            low = QRectF(left, rect.bottom() - rect.height() / 3, width, rect.height() / 3)
            p.fillRect(low, QColor(CHART[scheme]["frame"]))
            p.fillRect(low, QBrush(QColor("#FFFFFF"), Qt.BrushStyle.Dense4Pattern))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(CHART[scheme]["frame"]), 1))
    p.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
    p.restore()


def spark_scale(points: Series, slow: float) -> float:
    """The top of the sparkline's y axis, in seconds: room for the threshold, and for
    the means (a single huge max would flatten everything else)."""
    top = max(points.means, default=0.0)
    return max(slow * 1.25, top * 1.1, 0.05)


def paint_sparkline(
    p: QPainter, rect: QRectF, timeline: Timeline, slow: float, scheme: Scheme
) -> None:
    """The mean as a line (broken where nothing was measured) over the min-max band,
    and the `slow` threshold dashed. Plain float arithmetic over the series' arrays."""
    colours = CHART[scheme]
    series = timeline.points
    top = spark_scale(series, slow)
    t0 = timeline.start.timestamp()
    total = (timeline.end.timestamp() - t0) or 1.0
    left, width, bottom, height = rect.left(), rect.width(), rect.bottom(), rect.height()

    def y_of(seconds: float) -> float:
        return bottom - height * min(1.0, seconds / top)

    p.save()
    threshold = y_of(slow)
    p.setPen(QPen(QColor(colours["slow"]), 1, Qt.PenStyle.DashLine))
    p.drawLine(QPointF(left, threshold), QPointF(rect.right(), threshold))
    band = QColor(colours["band"])
    runs: list[list[QPointF]] = []
    previous_end: float | None = None
    for start, end, lo_s, mean, hi_s in zip(
        series.starts, series.ends, series.mins, series.means, series.maxs, strict=True
    ):
        x0 = left + width * (start - t0) / total
        x1 = left + width * (end - t0) / total
        hi, lo = y_of(hi_s), y_of(lo_s)
        p.fillRect(QRectF(x0, hi, max(1.0, x1 - x0), max(1.0, lo - hi)), band)
        where = QPointF((x0 + x1) / 2, y_of(mean))
        if previous_end != start or not runs:  # a gap: nothing measured in between
            runs.append([where])
        else:
            runs[-1].append(where)
        previous_end = end
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    # Width 1: the antialiased one-pixel line is Qt's fast path (0.05 ms for 288 points;
    # 1.5 px took 2.1 ms a row).
    p.setPen(QPen(QColor(colours["line"]), 1.0))
    for run in runs:
        if len(run) == 1:
            p.drawPoint(run[0])
        else:
            p.drawPolyline(QPolygonF(run))
    p.restore()


def segment_under(rect: QRectF, timeline: Timeline, x: float) -> Segment | None:
    if not rect.left() <= x <= rect.right():
        return None
    return timeline.segment_at(time_at(rect, timeline, x))


def point_under(rect: QRectF, timeline: Timeline, x: float) -> Point | None:
    if not rect.left() <= x <= rect.right():
        return None
    when = time_at(rect, timeline, x).timestamp()
    series = timeline.points
    i = bisect_right(series.starts, when) - 1
    return series[i] if i >= 0 and when < series.ends[i] else None

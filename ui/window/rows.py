"""The site list of the Lifeline window: a model of group headings and site rows, and
the delegate that paints a row (state icon, name, reason, timeline strip over the
response-time sparkline, uptime 24 h / 7 d / 30 d) and names what is under the pointer.

A list view with a delegate, not a widget per row: 200 sites are 200 painted rows, not
1,200 widgets, so the window opens and scrolls without stalling the GUI thread; the view
brings arrow-key navigation and accessible items (each row's text is its accessible name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QPaintDevice,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from app.events import SiteStatus
from app.presentation import plain, site_title, uptime_text
from app.timeline import Timeline
from app.timeline_read import UPTIME_WINDOWS, SiteHistory
from ui.icons import IconSet
from ui.palette import CHART, Scheme, current_scheme
from ui.window.painting import paint_sparkline, paint_strip, point_under, segment_under

ROW_HEIGHT = 56
HEADING_HEIGHT = 26
ICON = 20
NAME_WIDTH = 220
UPTIME_WIDTH = 64  # per figure
SPARK_MIN = 80
NEW_PER_FRAME = 4  # charts drawn per paint (about 3 ms each); the rest in later frames
CHART_CACHE = 1000  # pixmaps kept (a few screens of rows in each range and scheme)
WINDOW_LABELS = {"24h": "24 h", "7d": "7 d", "30d": "30 d"}
RowIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Row:
    group: str  # the heading's title for a heading; the site's group for a site
    site: SiteStatus | None = None  # None: a group heading
    history: SiteHistory | None = None


@dataclass(frozen=True)
class RowGeometry:
    icon: QRect
    name: QRect
    reason: QRect
    strip: QRectF
    spark: QRectF
    uptime: tuple[QRect, ...]


def row_geometry(rect: QRect) -> RowGeometry:
    """Where each part of a site row goes; shared by painting, tooltips and tests."""
    x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
    uptime_left = x + w - 8 - UPTIME_WIDTH * len(UPTIME_WINDOWS)
    chart_left = x + 36 + NAME_WIDTH + 12
    chart_width = max(SPARK_MIN, uptime_left - 12 - chart_left)
    return RowGeometry(
        icon=QRect(x + 8, y + (h - ICON) // 2, ICON, ICON),
        name=QRect(x + 36, y + 6, NAME_WIDTH, 20),
        reason=QRect(x + 36, y + 26, NAME_WIDTH, 20),
        strip=QRectF(chart_left, y + 7, chart_width, 14),
        spark=QRectF(chart_left, y + 25, chart_width, h - 31),
        uptime=tuple(
            QRect(uptime_left + i * UPTIME_WIDTH, y, UPTIME_WIDTH, h)
            for i in range(len(UPTIME_WINDOWS))
        ),
    )


def row_text(row: Row) -> str:
    """A row in words: its accessible name, and what a screen reader says."""
    if row.site is None:
        return f"Group {row.group}"
    text = site_title(row.site)
    if row.history is not None:
        figures = ", ".join(
            f"{WINDOW_LABELS[k]} {uptime_text(row.history.uptime[k])}" for k in UPTIME_WINDOWS
        )
        text += f". Uptime {figures}"
    return plain(text, 400)


class SiteRows(QAbstractListModel):
    RowRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Row] = []

    def rowCount(self, parent: RowIndex | None = None) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def data(self, index: RowIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == self.RowRole:
            return row
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return row_text(row)
        return None

    def flags(self, index: RowIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._rows[index.row()].site is None:
            return Qt.ItemFlag.NoItemFlags  # a heading: skipped by the arrow keys
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def row(self, i: int) -> Row:
        return self._rows[i]

    def site_row(self, name: str) -> int | None:
        return next(
            (i for i, r in enumerate(self._rows) if r.site is not None and r.site.name == name),
            None,
        )

    def set_rows(self, rows: list[Row]) -> None:
        """Replace the rows: in place (one dataChanged) when the order of names holds."""
        same = [r.site.name if r.site else f"\0{r.group}" for r in rows] == [
            r.site.name if r.site else f"\0{r.group}" for r in self._rows
        ]
        if same and rows:
            self._rows = rows
            self.dataChanged.emit(self.index(0), self.index(len(rows) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()


class RowDelegate(QStyledItemDelegate):
    def __init__(self, icons: IconSet, slow: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self.slow = slow
        # A row's strip and sparkline drawn once per history read, size and scheme:
        # scrolling and hovering then only copy pixmaps (drawing one costs ~3 ms).
        self._charts: dict[tuple[int, int, int, str, float, float], QPixmap] = {}
        self._kept: dict[int, SiteHistory] = {}  # keeps the ids in the keys unique
        self._drawn_this_frame = 0
        self._behind = False
        self.repaint: Callable[[], None] = lambda: None  # the view's update, set by it

    @property
    def behind(self) -> bool:
        """Rows are waiting for their charts to be drawn (a later frame draws them)."""
        return self._behind

    def _next_frame(self) -> None:
        self._drawn_this_frame = 0
        if self._behind:
            self._behind = False
            self.repaint()

    def _chart(
        self, history: SiteHistory, geo: RowGeometry, scheme: Scheme, device: object
    ) -> QPixmap | None:
        """The row's chart; None when this frame has drawn its share of new ones (a
        read of 25 sites arriving must not make one paint of 75 ms: at most
        NEW_PER_FRAME charts per frame, the rest in the next ones)."""
        area = geo.strip.united(geo.spark).adjusted(-1, -1, 1, 1)  # room for the frame
        ratio = device.devicePixelRatioF() if isinstance(device, QPaintDevice) else 1.0
        key = (id(history), int(area.width()), int(area.height()), scheme.value, self.slow, ratio)
        chart = self._charts.get(key)
        if chart is not None:
            return chart
        if self._drawn_this_frame == 0:
            QTimer.singleShot(0, self._next_frame)  # after this paint: a new frame
        if self._drawn_this_frame >= NEW_PER_FRAME:
            self._behind = True
            return None
        self._drawn_this_frame += 1
        if len(self._charts) > CHART_CACHE:
            self._charts.clear()
            self._kept.clear()
        chart = QPixmap(int(area.width() * ratio) + 1, int(area.height() * ratio) + 1)
        chart.setDevicePixelRatio(ratio)
        chart.fill(Qt.GlobalColor.transparent)
        painter = QPainter(chart)
        offset = area.topLeft()
        paint_strip(painter, geo.strip.translated(-offset), history.timeline, scheme)
        paint_sparkline(painter, geo.spark.translated(-offset), history.timeline, self.slow, scheme)
        painter.end()
        self._charts[key] = chart
        self._kept[id(history)] = history
        return chart

    def sizeHint(self, option: QStyleOptionViewItem, index: RowIndex) -> QSize:  # noqa: N802
        row = index.data(SiteRows.RowRole)
        height = HEADING_HEIGHT if isinstance(row, Row) and row.site is None else ROW_HEIGHT
        return QSize(36 + NAME_WIDTH + 12 + SPARK_MIN + 12 + UPTIME_WIDTH * 3 + 8, height)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: RowIndex) -> None:
        row = index.data(SiteRows.RowRole)
        if not isinstance(row, Row):
            return
        rect: QRect = option.rect
        palette: QPalette = option.palette
        state: QStyle.StateFlag = option.state
        p.save()
        if row.site is None:
            font = QFont(option.font)
            font.setBold(True)
            p.setFont(font)
            # The Active group: a heading is not selectable, but it is not disabled text.
            p.setPen(palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText))
            p.drawText(rect.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter, row.group)
            geo = row_geometry(rect)
            for key, box in zip(UPTIME_WINDOWS, geo.uptime, strict=True):
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, WINDOW_LABELS[key])
            p.restore()
            return
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            p.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        text_colour = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        geo = row_geometry(rect)
        site = row.site
        self._icons.site(site.state, site.pending).paint(p, geo.icon)
        bold = QFont(option.font)
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(text_colour)
        name = QFontMetrics(bold).elidedText(
            site.name, Qt.TextElideMode.ElideRight, geo.name.width()
        )
        p.drawText(geo.name, Qt.AlignmentFlag.AlignVCenter, name)
        small = QFont(option.font)
        p.setFont(small)
        reason = plain(site.reason or site.state.label, 200)
        p.drawText(
            geo.reason,
            Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(small).elidedText(reason, Qt.TextElideMode.ElideRight, geo.reason.width()),
        )
        scheme = current_scheme()
        if row.history is not None:
            area = geo.strip.united(geo.spark).adjusted(-1, -1, 1, 1)  # room for the frame
            chart = self._chart(row.history, geo, scheme, p.device())
            if chart is not None:
                p.drawPixmap(area.topLeft(), chart)
            else:  # drawn in a later frame; the frame shows where it will be
                p.setPen(QColor(CHART[scheme]["frame"]))
                p.drawRect(geo.strip)
            for key, box in zip(UPTIME_WINDOWS, geo.uptime, strict=True):
                p.setPen(text_colour)
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, _percent(row.history.uptime[key]))
        else:
            p.setPen(text_colour)
            p.drawText(
                geo.strip.toRect().adjusted(0, 0, 0, 20),
                Qt.AlignmentFlag.AlignLeft,
                "Reading the history\u2026",
            )
        if state & QStyle.StateFlag.State_HasFocus:
            p.setPen(text_colour)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect.adjusted(1, 1, -2, -2))
        p.restore()

    def helpEvent(  # noqa: N802 (Qt's name)
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: RowIndex,
    ) -> bool:
        if event.type() != QEvent.Type.ToolTip:
            return super().helpEvent(event, view, option, index)
        row = index.data(SiteRows.RowRole)
        text = tooltip_at(row, option.rect, event.pos().x(), event.pos().y(), self.slow)
        if text:
            QToolTip.showText(event.globalPos(), text, view)
        else:
            QToolTip.hideText()
        return True


def tooltip_at(row: object, rect: QRect, x: int, y: int, slow: float) -> str:
    """What a tooltip says at (x, y) of a row: a segment's state, start, end and reason;
    a point's response times; else the row in words. Plain text, never colour alone."""
    if not isinstance(row, Row) or row.site is None:
        return ""
    geo = row_geometry(rect)
    history = row.history
    if history is not None:
        timeline: Timeline = history.timeline
        strip = geo.strip.adjusted(0, -3, 0, 3)
        if strip.contains(x, y):
            seg = segment_under(geo.strip, timeline, x)
            if seg is not None:
                lines = [seg.label, f"{_when(seg.start)} \u2013 {_when(seg.end)}"]
                if seg.reason:
                    lines.append(plain(seg.reason, 200))
                return "\n".join(lines)
        if geo.spark.contains(x, y):
            pt = point_under(geo.spark, timeline, x)
            if pt is None:
                return f"No response times here (slow above {slow:g} s)"
            return (
                f"Visitor response time {_when(pt.start)} \u2013 {_when(pt.end)}\n"
                f"mean {pt.mean:.2f} s, min {pt.min:.2f} s, max {pt.max:.2f} s "
                f"({pt.checks} checks; slow above {slow:g} s)"
            )
        for key, box in zip(UPTIME_WINDOWS, geo.uptime, strict=True):
            if box.contains(x, y):
                return f"Uptime over {WINDOW_LABELS[key]}: {uptime_text(history.uptime[key])}"
    return row_text(row)


def _percent(value: float | None) -> str:
    if value is None:
        return "\u2013"
    if value >= 0.99995:
        return "100 %"
    return f"{value * 100:.2f} %"


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%a %d %b %H:%M")

"""The Lifeline window: every site's recent past at a glance.

At the top the platform's status with its open incidents (plain text, https links only)
and the range switch (24 h / 7 d / 30 d); below, one row per site, grouped by `group`
when sites have one (ui.window.rows paints them); choosing a row (Enter, a click) opens
the detail pane beside the list.

The history is read on a worker (Workers.submit, lane "lifeline-window"), never on the
GUI thread: when the window is shown, when the range changes, and on a snapshot when
the last read is older than REFRESH_EVERY. The current states and reasons come from the
bridge's snapshots and are shown at once. Escape or Ctrl+W hides the window; closing
it never quits the app (monitoring carries on).
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QListView,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_DISPLAY_NAME
from app.config import Config
from app.events import MonitorSnapshot, SiteStatus
from app.history import History, Transition
from app.presentation import (
    https_url,
    overall_line,
    plain,
    platform_line,
    unresolved_incidents,
)
from app.timeline_read import RANGES, SiteHistory, WindowHistory, read_history
from ui.bridge import Bridge
from ui.icons import IconSet
from ui.window.detail import DetailPane
from ui.window.rows import WINDOW_LABELS, Row, RowDelegate, SiteRows
from ui.workers import Workers

log = logging.getLogger(__name__)

REFRESH_EVERY = 60.0  # seconds between history reads while the window is shown
FIRST_CHUNK = 16  # sites in the first read: about a screenful, painted first
CHUNK = 25  # sites per read after that: each job short, the rows fill in as they come
LANE = "lifeline-window"


class LifelineWindow(QWidget):
    historyLoaded = Signal()  # a history read was applied (tests and the bench wait on it)

    def __init__(
        self,
        bridge: Bridge,
        icons: IconSet,
        workers: Workers,
        *,
        history_path: Path,
        open_url: Callable[[str], None],
        open_ticket_form: Callable[[str | None], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._workers = workers
        self._history = History(history_path)  # a reader of its own; opened on a worker
        self._open_url = open_url
        self._clock = clock or (lambda: datetime.now(UTC))
        self._range = "24h"
        self._loaded: dict[str, SiteHistory] = {}  # of the range shown
        self._chunks: list[list[str]] = []  # sites still to read in this load
        self._loading = False
        self._again = False  # asked again while a read ran
        self._loaded_at = float("-inf")
        self._read_before_a_check = False
        self.setWindowTitle(APP_DISPLAY_NAME)
        self.setAccessibleName(f"{APP_DISPLAY_NAME}: every site's recent past")
        self.resize(1100, 640)

        self._build_header()
        switch = self._build_range_switch()
        legend = QLabel(
            "Strip: the state over time (blank: Lifeline was not watching; hatched: "
            "maintenance; dotted base: snoozed). Line: visitor response time, dashed: the "
            "slow threshold. Figures: uptime over 24 h, 7 d, 30 d."
        )
        legend.setWordWrap(True)

        self._build_site_list(icons, bridge, open_url, open_ticket_form)

        layout = QVBoxLayout(self)
        layout.addWidget(self.overall)
        layout.addWidget(self.platform)
        layout.addLayout(switch)
        layout.addWidget(legend)
        layout.addWidget(self.splitter, 1)

        self._add_close_shortcuts()

        bridge.snapshotChanged.connect(self._on_snapshot)
        bridge.configChanged.connect(self._on_config)
        self._on_snapshot(bridge.snapshot)

    def _build_header(self) -> None:
        """The overall state line and the platform's line (with its links)."""
        self.overall = QLabel()
        self.overall.setTextFormat(Qt.TextFormat.PlainText)
        font = self.overall.font()
        font.setBold(True)
        self.overall.setFont(font)
        self.platform = QLabel()
        self.platform.setTextFormat(Qt.TextFormat.RichText)  # escaped text, https links only
        self.platform.setWordWrap(True)
        self.platform.setOpenExternalLinks(False)
        self.platform.linkActivated.connect(self._on_link)
        self.platform.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)

    def _build_range_switch(self) -> QHBoxLayout:
        self.ranges = QButtonGroup(self)
        switch = QHBoxLayout()
        switch.addWidget(QLabel("Show the last"))
        for key in RANGES:
            button = QToolButton()
            button.setText(WINDOW_LABELS[key])
            button.setCheckable(True)
            button.setChecked(key == self._range)
            button.setAccessibleName(f"Show the last {WINDOW_LABELS[key]}")
            button.setObjectName(f"range-{key}")
            button.clicked.connect(lambda _=False, k=key: self.set_range(k))
            self.ranges.addButton(button)
            switch.addWidget(button)
        switch.addStretch(1)
        return switch

    def _build_site_list(
        self,
        icons: IconSet,
        bridge: Bridge,
        open_url: Callable[[str], None],
        open_ticket_form: Callable[[str | None], None] | None,
    ) -> None:
        """One painted row per site, and the detail pane beside them."""
        self.model = SiteRows()
        self.delegate = RowDelegate(icons, bridge.config.monitor.slow, self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(self.delegate)
        self.delegate.repaint = self.list.viewport().update
        self.list.setUniformItemSizes(False)
        self.list.setMouseTracking(True)
        self.list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.list.setAccessibleName("Sites")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.activated.connect(self._on_activated)
        self.list.clicked.connect(self._on_activated)

        self.detail = DetailPane(
            icons,
            open_url=open_url,
            check_now=bridge.check_now,
            open_ticket_form=open_ticket_form,
        )
        self.detail.hide()
        self.splitter = QSplitter()
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

    def _add_close_shortcuts(self) -> None:
        for keys in (
            QKeySequence(Qt.Key.Key_Escape),
            QKeySequence(QKeySequence.StandardKey.Close),
            QKeySequence("Ctrl+W"),
        ):
            shortcut = QShortcut(keys, self)
            shortcut.activated.connect(self.hide)

    # -- showing -----------------------------------------------------------------------

    def open(self) -> None:
        """Show it in front (from the menu, a tray click, `lifeline --window`)."""
        self.show()
        self.raise_()
        self.activateWindow()
        self.list.setFocus()
        log.info("the Lifeline window is open")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.reload()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        event.accept()  # hidden, not deleted: the app keeps running in the tray

    def set_range(self, key: str) -> None:
        if key not in RANGES:
            return
        for button in self.ranges.buttons():
            button.setChecked(button.objectName() == f"range-{key}")
        if key != self._range:
            self._range = key
            self._loaded = {}  # rows say "Reading the history…" until their part arrives
            self._fill(self._bridge.snapshot)
            self.reload()

    @property
    def range(self) -> str:
        return self._range

    # -- data --------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the history again on a worker, a few sites per job in the order shown
        (the first screenful first); the rows repaint as each part arrives."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        snapshot = self._bridge.snapshot
        self._read_before_a_check = snapshot.last_check is None
        names = [site.name for _, site in grouped(snapshot.sites) if site is not None] or [
            s.name for s in self._bridge.config.sites
        ]
        self._chunks = [names[:FIRST_CHUNK]] + [
            names[i : i + CHUNK] for i in range(FIRST_CHUNK, len(names), CHUNK)
        ]
        self._next_chunk(self._clock(), self._range)

    def _next_chunk(self, now: datetime, key: str) -> None:
        if self._again or not self._chunks:
            self._loading = False
            if self._again:  # asked again meanwhile (a new range): start over
                self._again = False
                self.reload()
                return
            self._loaded_at = time.monotonic()
            self.historyLoaded.emit()
            return
        chunk, history = self._chunks.pop(0), self._history
        self._workers.submit(
            lambda: read_history(history, chunk, now=now, range_key=key),
            lambda got: self._on_chunk(got, now, key),
            self._on_history_error,
            lane=LANE,
            owner=self,
        )

    def _on_chunk(self, got: WindowHistory, now: datetime, key: str) -> None:
        if got.range == self._range:
            self._loaded.update(got.sites)
            self._fill(self._bridge.snapshot)
        self._next_chunk(now, key)

    def _on_history_error(self, exc: BaseException) -> None:
        self._loading = False
        self._again = False
        self._chunks = []
        log.warning("the window cannot read the history: %s", exc)
        self.overall.setText(plain(f"The history cannot be read: {exc}", 300))
        self.historyLoaded.emit()

    def _on_snapshot(self, snapshot: MonitorSnapshot) -> None:
        self._fill(snapshot)
        stale = time.monotonic() - self._loaded_at > REFRESH_EVERY
        # Opened at start-up, before the first check: read again once one has ended.
        first = self._read_before_a_check and snapshot.last_check is not None
        if self.isVisible() and (stale or first):
            self.reload()

    def _on_config(self, config: Config) -> None:
        self.delegate.slow = config.monitor.slow
        self._fill(self._bridge.snapshot)
        if self.isVisible():
            self.reload()

    def _fill(self, snapshot: MonitorSnapshot) -> None:
        self.overall.setText(plain(_overall(snapshot), 200))
        self.platform.setText(_platform_html(snapshot, self._bridge.config))
        loaded = self._loaded
        self.model.set_rows(
            [
                Row(group, site, loaded.get(site.name) if site is not None else None)
                for group, site in grouped(snapshot.sites)
            ]
        )
        if self.detail.site_name is not None:
            shown = snapshot.site(self.detail.site_name)
            if shown is not None:
                self.detail.show_site(shown, self._bridge.config, snapshot.platform)

    # -- the detail pane ---------------------------------------------------------------

    def _on_activated(self, index: QModelIndex) -> None:
        row = self.model.row(index.row()) if index.isValid() else None
        if row is not None and row.site is not None:
            self.show_detail(row.site.name)

    def show_detail(self, name: str) -> None:
        snapshot = self._bridge.snapshot
        site = snapshot.site(name)
        if site is None:
            return
        self.detail.show_site(site, self._bridge.config, snapshot.platform)
        self.detail.show_transitions(name, [])
        if not self.detail.isVisible():
            self.detail.show()
            # The strips keep most of the width; the pane gets the rest.
            total = max(1, self.splitter.width())
            self.splitter.setSizes([total * 3 // 5, total - total * 3 // 5])
        history = self._history
        self._workers.submit(
            lambda: history.transitions(site=name, limit=50, kinds=("site",)),
            lambda rows: self._on_transitions(name, rows),
            lambda exc: log.warning("transitions of %s: %s", name, exc),
            lane=LANE,
            owner=self,
        )

    def _on_transitions(self, name: str, rows: list[Transition]) -> None:
        self.detail.show_transitions(name, rows)

    def _on_link(self, url: str) -> None:
        safe = https_url(url)
        if safe:
            self._open_url(safe)

    def close_history(self) -> None:
        """At quit, once the workers are idle: close the reader's connection (a read
        still running would be waited for: the history's lock)."""
        self._history.close()


def grouped(sites: tuple[SiteStatus, ...]) -> list[tuple[str, SiteStatus | None]]:
    """(heading, None) before each group's sites when any site has a group; sites
    without one come first, then the groups by name; config order within each. Without
    groups, one "Sites" heading (it carries the uptime columns' titles)."""
    if not any(s.group for s in sites):
        return [("Sites", None), *(("", s) for s in sites)] if sites else []
    out: list[tuple[str, SiteStatus | None]] = [("", s) for s in sites if not s.group]
    groups: dict[str, list[SiteStatus]] = {}
    for s in sites:
        if s.group:
            groups.setdefault(s.group, []).append(s)
    if out:
        out.insert(0, ("Sites without a group", None))
    for name in sorted(groups, key=str.casefold):
        out.append((plain(name, 80), None))
        out.extend((name, s) for s in groups[name])
    return out


def _overall(snapshot: MonitorSnapshot) -> str:
    return overall_line(snapshot)


def _platform_html(snapshot: MonitorSnapshot, config: Config) -> str:
    """The platform line and open incidents: every piece of outside text escaped, and
    a link only where the incident's URL is https."""
    parts = [html.escape(plain(platform_line(snapshot.platform, config.provider.name), 200))]
    for text, link in unresolved_incidents(snapshot.platform)[:5]:
        shown = html.escape(plain(text, 160))
        if link:
            parts.append(f'\u2022 <a href="{html.escape(link, quote=True)}">{shown}</a>')
        else:
            parts.append(f"\u2022 {shown}")
    return "<br>".join(parts)

"""Outside text shown in Qt is plain (issue 12, defect 9): links with whitespace or markup
are no links, tooltips render literally, report boxes are PlainText."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QMenu, QMessageBox

from app.config import SiteConfig
from app.models import Incident
from app.presentation import https_url, web_url
from app.printable import plain_tooltip
from app.statuspage import parse_summary
from tests.conftest import summary_payload
from tests.test_tray_menu import CONFIG, NOW, PLATFORM, SNAPSHOT, Recorder
from ui.icons import IconSet
from ui.menu import MenuState, populate

BAD_LINKS = [
    "https://stspg.io/abc\tjavascript:alert(1)",
    "https://stspg.io/abc\njavascript:alert(1)",
    "https://stspg.io/abc\u00a0x",
    'https://stspg.io/abc"><b>x</b>',
    "https://stspg.io/<img src=x>",
    "https://stspg.io/\x1b]8;;x",
]


def shown_as(tooltip: str) -> str:
    """What a person reads: Qt renders a tooltip as rich text when it looks like HTML."""
    if not GuiQt.mightBeRichText(tooltip):
        return tooltip
    doc = QTextDocument()
    doc.setHtml(tooltip)
    return doc.toPlainText()


@pytest.mark.parametrize("link", BAD_LINKS)
def test_a_link_with_whitespace_or_markup_is_no_link(link: str) -> None:
    assert https_url(link) is None and web_url(link) is None


@pytest.mark.parametrize("link", BAD_LINKS)
def test_a_status_page_link_with_whitespace_or_markup_is_replaced(link: str) -> None:
    data = summary_payload(incidents=[{
        "id": "inc1", "name": "Errors", "status": "investigating", "impact": "major",
        "shortlink": link, "url": link,
    }])
    status = parse_summary(data, page_url="https://status.example.test")
    # The page's own link for the incident instead.
    assert [i.url.split("/")[-2:] for i in status.incidents] == [["incidents", "inc1"]]


def test_the_menu_never_opens_a_link_with_a_tab_in_it(qapp: Any) -> None:
    platform = replace(PLATFORM, incidents=(
        Incident("Tabbed", "major", "investigating", BAD_LINKS[0]),
    ))
    menu = QMenu()
    rec = Recorder()
    populate(menu, replace(SNAPSHOT, platform=platform), CONFIG, rec.handlers(), IconSet(),
             MenuState(now=NOW, autostart=False))
    entry = next(a for a in menu.actions() if "Tabbed" in a.text())
    assert not entry.isEnabled()
    entry.trigger()
    assert rec.calls == []


@pytest.mark.parametrize("text", ["<b>Wiki</b>", "a & b", "x <i>y", "https://h.test/?a=1&b=2",
                                  "plain", "&lt;b&gt;"])
def test_a_tooltip_shows_outside_text_literally(text: str, qapp: Any) -> None:
    assert shown_as(plain_tooltip(text)) == text


def test_settings_sites_table_tooltips_are_literal(qapp: Any) -> None:
    from ui.settings.sites_tab import SitesTab

    tab = SitesTab((SiteConfig(name="<b>Wiki</b> &amp;", url="https://wiki.example.test/"),))
    item = tab.table.item(0, 0)
    assert item.text() == "<b>Wiki</b> &amp;"
    assert shown_as(item.toolTip()) == "<b>Wiki</b> &amp;"


def test_the_saved_tickets_report_box_is_plain_text(qapp: Any, tmp_path: Path) -> None:
    from ui.outbox_offer import OutboxOffer
    from ui.workers import Workers

    offer = OutboxOffer(outbox_path=tmp_path / "outbox.db", workers=Workers(),
                        send=lambda: [], pending=lambda: [])
    offer._report("Not sent: <a href='https://evil.example'>click</a>")
    box = offer.findChildren(QMessageBox) or offer._boxes
    assert box and box[-1].textFormat() is Qt.TextFormat.PlainText
    for b in box:
        b.close()


# ------------------------------------------------- defect 10: thousands of incidents


def test_thousands_of_incidents_are_capped_with_one_entry_to_the_status_page(qapp: Any) -> None:
    from ui.menu import MENU_INCIDENTS

    many = tuple(Incident(f"Incident {n}", "minor", "investigating", f"https://stspg.io/{n}")
                 for n in range(30_000))
    platform = replace(PLATFORM, incidents=many)
    menu = QMenu()
    rec = Recorder()
    populate(menu, replace(SNAPSHOT, platform=platform), CONFIG, rec.handlers(), IconSet(),
             MenuState(now=NOW, autostart=False))
    indented = [a for a in menu.actions() if a.text().startswith("    ")]
    assert [a.text().strip() for a in indented[:MENU_INCIDENTS]] == [
        f"Incident {n} (investigating)" for n in range(MENU_INCIDENTS)
    ]
    more = indented[MENU_INCIDENTS]
    assert more.text().strip() == f"{30_000 - MENU_INCIDENTS:,} more on the status page"
    more.trigger()
    assert rec.calls == [("url", "https://status.example.test")]
    assert len(menu.actions()) < 60

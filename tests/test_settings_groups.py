"""Settings' Sites tab with many sites: sort by any column (Group too), filter by text
and by group; Edit and Remove act on the site shown, whatever the order."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.config import SiteConfig
from ui.settings.sites_tab import SitesTab

SITES = (
    SiteConfig("zeta", "https://zeta.example/", group="Globex"),
    SiteConfig("alpha", "https://alpha.example/", group="Acme Corp"),
    SiteConfig("mid", "https://mid.example/"),
    SiteConfig("beta", "https://beta.example/", group="Acme Corp"),
)


def shown(tab: SitesTab) -> list[str]:
    table = tab.table
    return [table.item(r, 0).text() for r in range(table.rowCount())  # type: ignore[union-attr]
            if not table.isRowHidden(r)]


def test_sort_by_group_and_filter(qtbot: Any) -> None:
    tab = SitesTab(SITES)
    qtbot.addWidget(tab)
    assert shown(tab) == ["zeta", "alpha", "mid", "beta"]  # the file's order at first
    assert [tab.group_filter.itemText(i) for i in range(tab.group_filter.count())] == [
        "All groups", "Acme Corp", "Globex"
    ]

    tab.table.sortItems(4, Qt.SortOrder.AscendingOrder)  # a click on "Group"
    assert shown(tab) == ["mid", "alpha", "beta", "zeta"]
    tab.table.selectRow(0)
    assert tab.selected_site() == SITES[2]  # the row's site, not the file's first
    tab.remove_site()
    assert [s.name for s in tab.sites] == ["zeta", "alpha", "beta"]

    tab.filter.setText("ACME")
    assert sorted(shown(tab)) == ["alpha", "beta"]
    tab.filter.setText("zeta.example")
    assert shown(tab) == ["zeta"]
    tab.filter.clear()
    tab.group_filter.setCurrentIndex(tab.group_filter.findData("Acme Corp"))
    assert sorted(shown(tab)) == ["alpha", "beta"]
    tab.filter.setText("nothing matches")
    assert shown(tab) == [] and tab.selected_site() is None
    assert not tab.edit_button.isEnabled() and not tab.remove_button.isEnabled()

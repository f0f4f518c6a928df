"""Add or edit one site: the [[site]] keys of the schema, checked as the loader checks them.

Keys the schema puts in a `group` (the content checks) come last, under a heading and
one line on what they are for; the Group field offers the groups the other sites already have.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.config import CONTENT_CHECKS, SECTION, SiteConfig
from app.config_rules import REQUIRED
from ui.accessible import StatusLabel
from ui.settings.fields import SchemaField, collect_values, field_for

# One line under a group's heading, on what its keys are for.
GROUP_INTROS = {
    CONTENT_CHECKS: "A page can answer 200 and still be broken. A check that fails makes "
                    "the site down (the backend page: editors blocked).",
}


class SiteEditor(QDialog):
    """Accepting is refused while a field is wrong or the name is taken."""

    def __init__(
        self,
        site: SiteConfig | None,
        *,
        taken_names: Collection[str],
        groups: Collection[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        """`groups`: the groups of the configured sites, offered as the Group field's
        completions."""
        super().__init__(parent)
        self.setObjectName("site_editor")
        self.original_name = site.name if site else None
        self._site = site
        self._taken = {name.casefold() for name in taken_names}
        self._result: SiteConfig | None = None
        self.setWindowTitle("Edit site" if site else "Add site")
        self.setAccessibleName(self.windowTitle())

        intro = StatusLabel(
            "Lifeline probes the URL as a visitor, and the backend URL (or the URL) with "
            "the cache bypassed, as an editor would reach it."
        )
        intro.setWordWrap(True)

        form = self._build_form(site)
        self._offer_groups(groups)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&OK")
        ok.setAccessibleDescription("Keep these site settings")
        ok.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleDescription("Cancel editing the site")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.fields["name"].edit.setFocus()

    def _build_form(self, site: SiteConfig | None) -> QFormLayout:
        """One field per in_form [[site]] key, filled from `site`; grouped keys last,
        each group under a heading in the same form (not a QGroupBox, which AT-SPI
        would give its fields as a second label), so the columns line up too."""
        form = _form()
        self.headings: dict[str, StatusLabel] = {}
        grouped: dict[str, list[SchemaField]] = {}
        self.fields: dict[str, SchemaField] = {}
        for key in SECTION["site"].settings():
            if not key.spec.in_form:
                continue
            also = self._check_unique if key.name == "name" else None
            made = field_for(key, parent=self, also=also)
            blank = "" if key.default is REQUIRED else key.default
            made.set_value(getattr(site, key.name) if site else blank)
            if key.spec.group:
                grouped.setdefault(key.spec.group, []).append(made)
            else:
                made.add_to(form)
            self.fields[key.name] = made
        for group, members in grouped.items():
            heading = StatusLabel(group, self)
            heading.setTextFormat(Qt.TextFormat.PlainText)
            heading.setStyleSheet("font-weight: 600; padding-top: 8px;")
            form.addRow(heading)
            self.headings[group] = heading
            if group in GROUP_INTROS:
                intro_line = StatusLabel(GROUP_INTROS[group], self)
                intro_line.setTextFormat(Qt.TextFormat.PlainText)
                intro_line.setWordWrap(True)
                form.addRow(intro_line)
            for made in members:
                made.add_to(form)
        return form

    def _offer_groups(self, groups: Collection[str]) -> None:
        edit = self.fields["group"].edit if "group" in self.fields else None
        names = sorted({g for g in groups if g}, key=str.casefold)
        if not isinstance(edit, QLineEdit) or not names:
            return
        completer = QCompleter(names, edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)  # "acme" finds "Client Acme"
        edit.setCompleter(completer)

    def _check_unique(self, name: Any) -> None:
        if isinstance(name, str) and name.casefold() in self._taken:
            raise ValueError(f"a site named {name!r} already exists; names must be unique")

    def result_site(self) -> SiteConfig | None:
        """The edited site, once accepted."""
        return self._result

    def accept(self) -> None:
        values, first_bad = collect_values(list(self.fields.values()))
        if first_bad is not None:
            first_bad.focus()
            return
        if self._site is not None:  # keys not in the form keep their values
            self._result = replace(self._site, **values)
        else:
            self._result = SiteConfig(**values)
        super().accept()


def _form(parent: QWidget | None = None) -> QFormLayout:
    form = QFormLayout(parent)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form

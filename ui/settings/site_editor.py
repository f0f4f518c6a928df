"""Add or edit one site: the [[site]] keys of the schema, checked as the loader checks them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from app.config import SECTION, SiteConfig
from app.config_rules import REQUIRED
from ui.accessible import StatusLabel
from ui.settings.fields import ValidatedField, collect_values, field_for


class SiteEditor(QDialog):
    """Accepting is refused while a field is wrong or the name is taken."""

    def __init__(
        self,
        site: SiteConfig | None,
        *,
        taken_names: Collection[str],
        parent: QWidget | None = None,
    ) -> None:
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

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, ValidatedField] = {}
        for key in SECTION["site"].settings():
            if not key.spec.in_form:
                continue
            also = self._check_unique if key.name == "name" else None
            made = field_for(key, parent=self, also=also)
            blank = "" if key.default is REQUIRED else key.default
            made.set_value(getattr(site, key.name) if site else blank)
            made.add_to(form)
            self.fields[key.name] = made

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

    def _check_unique(self, name: Any) -> None:
        if isinstance(name, str) and name.casefold() in self._taken:
            raise ValueError(f"a site named {name!r} already exists; names must be unique")

    def result_site(self) -> SiteConfig | None:
        """The edited site, once accepted."""
        return self._result

    def accept(self) -> None:
        values, first_bad = collect_values(list(self.fields.values()))
        if first_bad is not None:
            first_bad.edit.setFocus()
            first_bad.edit.selectAll()
            return
        if self._site is not None:  # keys not in the form keep their values
            self._result = replace(self._site, **values)
        else:
            self._result = SiteConfig(**values)
        super().accept()

"""A Settings tab generated from one [table] of the schema: a form of its in_form keys."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from app.config import Section
from ui.settings.fields import SchemaField, collect_values, field_for


class FormTab(QWidget):
    """Shows one section's values; `merged_into(current)` gives them back, validated."""

    changed = Signal()  # the user changed a field

    def __init__(self, section: Section, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        self.setAccessibleName(section.tab.replace("&", ""))
        layout = QVBoxLayout(self)
        if section.intro:
            intro = QLabel(section.intro, self)
            intro.setWordWrap(True)
            layout.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: list[SchemaField] = []
        for key in section.settings():
            if key.spec.in_form:
                made = field_for(key, parent=self)
                made.add_to(form)
                made.on_edited(self.changed.emit)
                self.fields.append(made)
        layout.addLayout(form)
        layout.addStretch(1)

    def fill(self, value: Any) -> None:
        """Show `value` (the section's dataclass)."""
        for f in self.fields:
            f.set_value(getattr(value, f.key))

    def merged_into(self, current: Any) -> tuple[Any, SchemaField | None]:
        """`current` with the typed values; or the first wrong field, every one marked."""
        values, first_bad = collect_values(self.fields)
        if first_bad is not None:
            return current, first_bad
        return replace(current, **values), None

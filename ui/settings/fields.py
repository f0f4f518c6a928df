"""A labelled line edit checked by the config loader's own rule, its message right under it.

`field_for(key)` builds one from the schema (app.config SECTIONS): label, help,
placeholder and rule all come from there, so a new key needs no code here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCompleter, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.config import Key, validate_field
from app.config_rules import Kind
from ui.accessible import StatusLabel
from ui.palette import apply_style, error_style

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, tuple | list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def parse_text(kind: Kind, text: str) -> Any:
    """Turn what was typed into the value the config would hold (before validation)."""
    stripped = text.strip()
    if kind == "text":
        return text
    if kind == "list":
        return [part for part in stripped.replace(",", " ").split() if part]
    if kind == "bool":
        if stripped.lower() in _TRUE + _FALSE:
            return stripped.lower() in _TRUE
        raise ValueError(f"must be true or false, not {stripped!r}")
    if not stripped:
        raise ValueError("must not be empty")
    try:
        return int(stripped)
    except ValueError:
        if kind == "int":
            raise ValueError(f"must be a whole number, not {stripped!r}") from None
    try:
        return float(stripped)
    except ValueError:
        raise ValueError(f"must be a number, not {stripped!r}") from None


class ValidatedField:
    """A labelled line edit whose value is checked by app.config.validate_field."""

    def __init__(
        self,
        section: str,
        key: str,
        label: str,
        *,
        accessible_name: str,
        kind: Kind = "text",
        placeholder: str = "",
        help_text: str = "",
        description: str = "",
        empty_means: str | None = None,
        also: Callable[[Any], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`description`: what a screen reader says after the name (else the help text;
        never the placeholder, which is an example value, not a description)."""
        self.section = section
        self.key = key
        self.kind: Kind = kind
        self.empty_means = empty_means
        self.also = also  # a further rule (e.g. unique names), raising ValueError
        self.accessible_name = accessible_name
        self.container = QWidget(parent)
        self.edit = QLineEdit(self.container)
        self.edit.setObjectName(f"{section}.{key}")
        self.edit.setAccessibleName(accessible_name)
        if placeholder:
            self.edit.setPlaceholderText(placeholder)
        if help_text:
            self.edit.setToolTip(help_text)
        self.description = description or help_text or (
            f"For example: {placeholder}" if placeholder and placeholder != "optional" else ""
        )
        self.edit.setAccessibleDescription(self.description)
        self.error = StatusLabel(self.container, urgent=True)
        self.error.setObjectName(f"{section}.{key}.error")
        apply_style(self.error, error_style)
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        box = QVBoxLayout(self.container)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.edit)
        box.addWidget(self.error)
        self.label = QLabel(label, parent)
        self.label.setBuddy(self.edit)
        # Once a message is showing, re-check as the user types so it goes away when fixed.
        self.edit.textEdited.connect(self._recheck_if_wrong)
        self.edit.editingFinished.connect(self.validate)

    def add_to(self, form: QFormLayout) -> None:
        form.addRow(self.label, self.container)

    def set_value(self, value: Any) -> None:
        self.edit.setText(format_value(value))
        self.clear_error()

    def text(self) -> str:
        return self.edit.text()

    def value(self) -> Any:
        """The validated value. Raises ValueError with the loader's message."""
        text = self.edit.text()
        if self.empty_means is not None and not text.strip():
            text = self.empty_means
        value = validate_field(self.section, self.key, parse_text(self.kind, text))
        if self.also is not None:
            self.also(value)
        return value

    def validate(self) -> bool:
        try:
            self.value()
        except ValueError as exc:
            self.show_error(str(exc))
            return False
        self.clear_error()
        return True

    def show_error(self, message: str) -> None:
        text = message[:1].upper() + message[1:]
        self.error.setText(text)
        self.error.show()
        self.edit.setAccessibleDescription(text)

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()
        self.edit.setAccessibleDescription(self.description)

    @property
    def has_error(self) -> bool:
        return not self.error.isHidden()

    def _recheck_if_wrong(self, _text: str) -> None:
        if self.has_error:
            self.validate()


def field_for(
    key: Key, *, parent: QWidget, also: Callable[[Any], None] | None = None
) -> ValidatedField:
    """The form field the schema describes for `key`."""
    spec = key.spec
    # Speech-input users say what they see: the name holds the visible label; a longer
    # phrasing that does not contain it becomes the description.
    label = spec.plain_label
    longer = spec.accessible or label
    name = longer if label.lower() in longer.lower() else label
    made = ValidatedField(
        key.section,
        key.name,
        spec.label,
        accessible_name=name,
        description="" if name == longer else longer,
        kind=key.kind,
        placeholder=spec.placeholder,
        help_text=spec.help,
        empty_means=format_value(key.default) if spec.empty_means_default else None,
        also=also,
        parent=parent,
    )
    if spec.suggestions:
        made.edit.setCompleter(QCompleter(list(spec.suggestions), made.edit))
    return made


def collect_values(fields: list[ValidatedField]) -> tuple[dict[str, Any], ValidatedField | None]:
    """Every field's value by key, marking each wrong one; and the first wrong field."""
    values: dict[str, Any] = {}
    first_bad: ValidatedField | None = None
    for f in fields:
        try:
            values[f.key] = f.value()
            f.clear_error()
        except ValueError as exc:
            f.show_error(str(exc))
            first_bad = first_bad or f
    return values, first_bad

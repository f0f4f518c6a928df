"""A labelled form control checked by the config loader's own rule, its message right under it.

`field_for(key)` builds one from the schema (app.config SECTIONS): label, help,
placeholder, rule and the control itself (by the key's kind: a line edit, a combo box
for a Choice, a check box for true/false, a text box for a list entered one per line)
all come from there, so a new key needs no code here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.config import Key, validate_field
from app.config_rules import Choice, Kind
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
    if kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
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


class SchemaField:
    """What every form control shares: its label, its rule, its message under it.

    A subclass gives the control (`edit`), how a value is shown in it (`set_value`) and
    what was entered (`entered`, before the rule runs)."""

    edit: QWidget

    def __init__(
        self,
        control: QWidget,
        section: str,
        key: str,
        label: str,
        *,
        accessible_name: str,
        kind: Kind = "text",
        help_text: str = "",
        description: str = "",
        also: Callable[[Any], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`description`: what a screen reader says after the name (else the help text)."""
        self.section = section
        self.key = key
        self.kind: Kind = kind
        self.also = also  # a further rule (e.g. unique names), raising ValueError
        self.accessible_name = accessible_name
        self.edit = control
        control.setObjectName(f"{section}.{key}")
        control.setAccessibleName(accessible_name)
        if help_text:
            control.setToolTip(help_text)
        self.description = description or help_text
        control.setAccessibleDescription(self.description)
        self.error = StatusLabel("", parent, urgent=True)
        self.error.setObjectName(f"{section}.{key}.error")
        apply_style(self.error, error_style)
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        # A layout, not a widget around them: the label stays the control's sibling,
        # which is how Qt tells AT-SPI what labels it (a combo box's name on Linux is
        # its value; Orca reads the label from that relation).
        self.box = QVBoxLayout()
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(2)
        self.box.addWidget(control)
        self.box.addWidget(self.error)
        self.label = QLabel(label, parent)
        self.label.setBuddy(control)

    def add_to(self, form: QFormLayout) -> None:
        form.addRow(self.label, self.box)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def entered(self) -> Any:
        """What the control holds, as the rule takes it. Raises ValueError."""
        raise NotImplementedError

    def on_edited(self, slot: Callable[[], None]) -> None:
        """Call `slot` when the user changes the value (not when `set_value` does)."""
        raise NotImplementedError

    def focus(self) -> None:
        """Bring the control forward to be corrected."""
        self.edit.setFocus()

    def value(self) -> Any:
        """The validated value. Raises ValueError with the loader's message."""
        value = validate_field(self.section, self.key, self.entered())
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

    def _recheck_if_wrong(self) -> None:
        # Once a message is showing, re-check as the user types so it goes away when fixed.
        if self.has_error:
            self.validate()


class ValidatedField(SchemaField):
    """A line edit: text, numbers, a list separated by spaces."""

    edit: QLineEdit

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
        """`description`: never the placeholder, which is an example value."""
        edit = QLineEdit(parent)
        super().__init__(
            edit, section, key, label, accessible_name=accessible_name, kind=kind,
            help_text=help_text,
            description=description or help_text or (
                f"For example: {placeholder}" if placeholder and placeholder != "optional"
                else ""),
            also=also, parent=parent,
        )
        self.empty_means = empty_means
        if placeholder:
            edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda _text: self._recheck_if_wrong())
        edit.editingFinished.connect(self.validate)

    def set_value(self, value: Any) -> None:
        self.edit.setText(format_value(value))
        self.clear_error()

    def text(self) -> str:
        return self.edit.text()

    def entered(self) -> Any:
        text = self.edit.text()
        if self.empty_means is not None and not text.strip():
            text = self.empty_means
        return parse_text(self.kind, text)

    def on_edited(self, slot: Callable[[], None]) -> None:
        self.edit.textEdited.connect(lambda _text: slot())

    def focus(self) -> None:
        self.edit.setFocus()
        self.edit.selectAll()


class ChoiceField(SchemaField):
    """A combo box of a Choice's options by their labels, and a line on what each gets."""

    edit: QComboBox

    def __init__(self, choice: Choice, section: str, key: str, label: str, *,
                 accessible_name: str, help_text: str = "", description: str = "",
                 parent: QWidget | None = None) -> None:
        combo = QComboBox(parent)
        for option in choice.options:
            combo.addItem(option.label, option.value)
            if option.gets:
                combo.setItemData(combo.count() - 1, option.gets, Qt.ItemDataRole.ToolTipRole)
        summary = choice.summary()
        spoken = "; ".join(summary)
        super().__init__(
            combo, section, key, label, accessible_name=accessible_name, kind="choice",
            help_text=help_text,
            description=" ".join(
                part for part in (description or help_text, f"{spoken}." if spoken else "")
                if part),
            parent=parent,
        )
        self.summary = StatusLabel("\n".join(summary), parent)
        self.summary.setObjectName(f"{section}.{key}.summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setVisible(bool(summary))
        self.box.insertWidget(1, self.summary)

    def set_value(self, value: Any) -> None:
        index = self.edit.findData(value)
        if index < 0:  # the rule allows no other value; shown as it is rather than lost
            self.edit.addItem(str(value), value)
            index = self.edit.count() - 1
        self.edit.blockSignals(True)
        self.edit.setCurrentIndex(index)
        self.edit.blockSignals(False)
        self.clear_error()

    def entered(self) -> Any:
        return self.edit.currentData()

    def on_edited(self, slot: Callable[[], None]) -> None:
        self.edit.activated.connect(lambda _index: slot())


class FlagField(SchemaField):
    """A check box for a true/false key, labelled by its own text (Alt+letter toggles it),
    with the help as a line under it, so what it turns on is read without hovering."""

    edit: QCheckBox

    def __init__(self, section: str, key: str, label: str, *, accessible_name: str,
                 help_text: str = "", description: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(QCheckBox(label, parent), section, key, label,
                         accessible_name=accessible_name, kind="bool", help_text=help_text,
                         description=description, parent=parent)
        self.label.hide()  # the box's own text is its label
        self.help = StatusLabel(help_text, parent)
        self.help.setTextFormat(Qt.TextFormat.PlainText)
        self.help.setWordWrap(True)
        style = self.edit.style()
        self.help.setIndent(  # under the box's text, not its square
            style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
            + style.pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing))
        self.help.setVisible(bool(help_text))
        self.box.insertWidget(1, self.help)

    def add_to(self, form: QFormLayout) -> None:
        form.addRow(self.box)

    def set_value(self, value: Any) -> None:
        self.edit.setChecked(bool(value))
        self.clear_error()

    def entered(self) -> Any:
        return self.edit.isChecked()

    def on_edited(self, slot: Callable[[], None]) -> None:
        self.edit.clicked.connect(lambda _checked: slot())


class LinesField(SchemaField):
    """A small text box for a list entered one item per line (items may hold spaces)."""

    edit: QPlainTextEdit

    def __init__(self, section: str, key: str, label: str, *, accessible_name: str,
                 placeholder: str = "", help_text: str = "", description: str = "",
                 parent: QWidget | None = None) -> None:
        edit = QPlainTextEdit(parent)
        super().__init__(edit, section, key, label, accessible_name=accessible_name,
                         kind="lines", help_text=help_text, description=description,
                         parent=parent)
        edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
        edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lines = 4
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines
                            + 2 * int(edit.document().documentMargin()) + 2 * edit.frameWidth())
        if placeholder:
            edit.setPlaceholderText(placeholder)
        self._set = False  # set_value is filling it: not an edit
        self._slots: list[Callable[[], None]] = []
        edit.textChanged.connect(self._changed)

    def _changed(self) -> None:
        if self._set:
            return
        self._recheck_if_wrong()
        for slot in self._slots:
            slot()

    def set_value(self, value: Any) -> None:
        self._set = True
        try:
            self.edit.setPlainText("\n".join(str(v) for v in value or ()))
        finally:
            self._set = False
        self.clear_error()

    def entered(self) -> Any:
        return parse_text("lines", self.edit.toPlainText())

    def on_edited(self, slot: Callable[[], None]) -> None:
        self._slots.append(slot)


def field_for(
    key: Key, *, parent: QWidget, also: Callable[[Any], None] | None = None
) -> SchemaField:
    """The form field the schema describes for `key`."""
    spec = key.spec
    # Speech-input users say what they see: the name holds the visible label; a longer
    # phrasing that does not contain it becomes the description.
    label = spec.plain_label
    longer = spec.accessible or label
    name = longer if label.lower() in longer.lower() else label
    description = "" if name == longer else longer
    made: SchemaField
    if isinstance(spec.rule, Choice):
        made = ChoiceField(spec.rule, key.section, key.name, spec.label, accessible_name=name,
                           help_text=spec.help, description=description, parent=parent)
    elif key.kind == "bool":
        made = FlagField(key.section, key.name, spec.label, accessible_name=name,
                         help_text=spec.help, description=description, parent=parent)
    elif key.kind == "lines":
        made = LinesField(key.section, key.name, spec.label, accessible_name=name,
                          placeholder=spec.placeholder, help_text=spec.help,
                          description=description, parent=parent)
    else:
        line = ValidatedField(
            key.section,
            key.name,
            spec.label,
            accessible_name=name,
            description=description,
            kind=key.kind,
            placeholder=spec.placeholder,
            help_text=spec.help,
            empty_means=format_value(key.default) if spec.empty_means_default else None,
            parent=parent,
        )
        if spec.suggestions:
            line.edit.setCompleter(QCompleter(list(spec.suggestions), line.edit))
        made = line
    made.also = also
    return made


def collect_values(fields: list[SchemaField]) -> tuple[dict[str, Any], SchemaField | None]:
    """Every field's value by key, marking each wrong one; and the first wrong field."""
    values: dict[str, Any] = {}
    first_bad: SchemaField | None = None
    for f in fields:
        try:
            values[f.key] = f.value()
            f.clear_error()
        except ValueError as exc:
            f.show_error(str(exc))
            first_bad = first_bad or f
    return values, first_bad

"""One site's fields, validated as the config loader validates them; and the field helper.

ValidatedField pairs a line edit with the message shown right under it, so a typo is
explained where it was made. The rules are app.config.validate_field's, not a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.config import SiteConfig, validate_field
from ui.palette import error_style

Kind = Literal["text", "int", "float", "urls"]



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
    if kind == "urls":
        return [part for part in stripped.replace(",", " ").split() if part]
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
        echo_password: bool = False,
        empty_means: str | None = None,
        also: Callable[[Any], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.section = section
        self.empty_means = empty_means
        self.also = also  # a further rule (e.g. unique names), raising ValueError
        self.key = key
        self.kind: Kind = kind
        self.accessible_name = accessible_name
        self.container = QWidget(parent)
        self.edit = QLineEdit(self.container)
        self.edit.setObjectName(f"{section}.{key}")
        self.edit.setAccessibleName(accessible_name)
        if placeholder:
            self.edit.setPlaceholderText(placeholder)
        if help_text:
            self.edit.setToolTip(help_text)
        if echo_password:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(self.container)
        self.error.setObjectName(f"{section}.{key}.error")
        self.error.setStyleSheet(error_style())
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setAccessibleName(f"{accessible_name}: problem")
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
        self.edit.setAccessibleDescription("")

    @property
    def has_error(self) -> bool:
        return not self.error.isHidden()

    def _recheck_if_wrong(self, _text: str) -> None:
        if self.has_error:
            self.validate()


class SiteEditor(QDialog):
    """Add or edit one site. Accepting is refused while a field is wrong or the name is taken."""

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
        self._taken = {name.casefold() for name in taken_names}
        self._result: SiteConfig | None = None
        self.setWindowTitle("Edit site" if site else "Add site")
        self.setAccessibleName(self.windowTitle())

        intro = QLabel(
            "Lifeline probes the URL as a visitor, and the backend URL (or the URL) with "
            "the cache bypassed, as an editor would reach it."
        )
        intro.setWordWrap(True)

        self.name = ValidatedField(
            "site", "name", "&Name", accessible_name="Site name",
            placeholder="shop", also=self._check_unique, parent=self,
        )
        self.url = ValidatedField(
            "site", "url", "&URL", accessible_name="Site URL",
            placeholder="https://live-shop.pantheonsite.io/", parent=self,
        )
        self.backend_url = ValidatedField(
            "site", "backend_url", "&Backend URL", accessible_name="Backend URL (optional)",
            placeholder="optional, e.g. https://live-shop.pantheonsite.io/user/login",
            help_text="A page that is never served from the cache. Empty: the URL above.",
            parent=self,
        )
        self.environment = ValidatedField(
            "site", "environment", "En&vironment", accessible_name="Environment",
            placeholder="live", help_text="live, test, dev or a multidev name",
            empty_means="live", parent=self,
        )
        completer = QCompleter(["live", "test", "dev"], self.environment.edit)
        self.environment.edit.setCompleter(completer)
        self.newrelic_app = ValidatedField(
            "site", "newrelic_app", "New &Relic app", accessible_name="New Relic application",
            placeholder="optional", parent=self,
        )
        self.dashboard_url = ValidatedField(
            "site", "dashboard_url", "&Dashboard URL", accessible_name="Dashboard URL (optional)",
            placeholder="optional: this site's page in the host's dashboard", parent=self,
        )
        self.fields = [
            self.name, self.url, self.backend_url, self.environment,
            self.newrelic_app, self.dashboard_url,
        ]
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for field in self.fields:
            field.add_to(form)

        site = site or SiteConfig(name="", url="")
        for field in self.fields:
            field.set_value(getattr(site, field.key))

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&OK")
        ok.setAccessibleName("Keep these site settings")
        ok.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel editing the site")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.name.edit.setFocus()

    def _check_unique(self, name: Any) -> None:
        if isinstance(name, str) and name.casefold() in self._taken:
            raise ValueError(f"a site named {name!r} already exists; names must be unique")

    def result_site(self) -> SiteConfig | None:
        """The edited site, once accepted."""
        return self._result

    def accept(self) -> None:
        values: dict[str, Any] = {}
        first_bad: ValidatedField | None = None
        for field in self.fields:
            try:
                values[field.key] = field.value()
                field.clear_error()
            except ValueError as exc:
                field.show_error(str(exc))
                first_bad = first_bad or field
        if first_bad is not None:
            first_bad.edit.setFocus()
            first_bad.edit.selectAll()
            return
        self._result = SiteConfig(**values)
        super().accept()

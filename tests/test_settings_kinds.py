"""The Settings form's controls by the schema's kind: a Choice as a combo box with labels
(the support tier, issue 11), a check box, a list one per line and the site editor's
content checks (issue 13), and the Group field's completions (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QPlainTextEdit,
)

from app import config_rules as rules
from app.config import (
    CONTENT_CHECKS,
    SUPPORT_TIERS,
    Config,
    ConfigError,
    ProviderConfig,
    SiteConfig,
    load_config,
    parse_config,
)
from app.paths import Paths
from tests import test_settings_dialog as dialog_tests
from tests.test_settings_dialog import (
    RecordingStore,
    answer,
    click_save_and_wait,
    field,
    type_into,
)
from ui.settings import SettingsDialog, open_first_run
from ui.settings.dialog import WELCOME
from ui.settings.site_editor import SiteEditor

# The Settings dialog's fixtures: a dialog over an isolated config and recording keyring.
make_dialog = dialog_tests.make_dialog
saved = dialog_tests.saved
store = dialog_tests.store

def open_editor(qtbot: Any, dialog: SettingsDialog, button: QAbstractButton) -> SiteEditor:
    """The editor, once it has the keyboard (keys go to the active window)."""
    editor = dialog_tests.open_editor(qtbot, dialog, button)
    qtbot.waitUntil(editor.fields["name"].edit.hasFocus, timeout=2000)
    return editor


SHOP = SiteConfig("shop", "https://live-shop.pantheonsite.io/", group="Client Acme")
BLOG = SiteConfig("blog", "https://blog.example.org/", group="Client Beta")
LOOSE = SiteConfig("docs", "https://docs.example.org/")


# --------------------------------------------------------------------------- the rule


def test_a_choice_is_the_loaders_rule_and_says_what_each_option_gets() -> None:
    assert rules.kind_of("str", SUPPORT_TIERS) == "choice"
    assert SUPPORT_TIERS(" Gold ") == "gold"
    with pytest.raises(ValueError, match='must be "unknown" or "diamond"'):
        SUPPORT_TIERS("bronze")
    assert SUPPORT_TIERS.label_of("unknown") == "I don't know"
    # Options that get the same thing share one line, in the schema's order.
    assert SUPPORT_TIERS.summary() == (
        "Diamond/Platinum: an emergency on-call ticket",
        "Gold: a general support ticket",
        "Silver: a live chat",
    )
    with pytest.raises(Exception, match="provider.support_tier"):
        parse_config('[provider]\nsupport_tier = "bronze"\n')


# --------------------------------------------------------------------------- support tier


def test_the_support_tier_is_a_combo_box_with_labels_and_a_line_per_tier(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    dialog = make_dialog(Config(sites=(SHOP,)))
    tier = field(dialog, "provider", "support_tier")
    combo = tier.edit
    assert isinstance(combo, QComboBox) and not combo.isEditable()
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "I don't know", "Diamond", "Platinum", "Gold", "Silver"
    ]
    assert combo.currentText() == "I don't know"  # the default
    assert combo.itemData(3, Qt.ItemDataRole.ToolTipRole) == "a general support ticket"
    assert tier.summary.text().splitlines() == list(SUPPORT_TIERS.summary())
    dialog.tabs.setCurrentWidget(dialog.form("provider"))
    assert tier.summary.isVisible()
    # A screen reader hears what each tier gets too, not only sighted users.
    assert "Silver: a live chat" in combo.accessibleDescription()
    assert "Support tier" in combo.accessibleName()
    # On Linux Qt names a combo box by its value; what labels it reaches AT-SPI as the
    # relation to its buddy label, which Qt finds among the combo box's siblings.
    face = QAccessible.queryAccessibleInterface(combo)
    labels = [other.object() for other, _kind in face.relations(QAccessible.RelationFlag.Label)]
    assert tier.label in labels

    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the keyboard chooses, as a person would
    assert combo.currentText() == "Diamond"
    result = click_save_and_wait(qtbot, dialog, saved)
    assert result.provider.support_tier == "diamond"
    assert load_config(paths.config_file).provider.support_tier == "diamond"


def test_choosing_a_tier_is_a_change_to_keep_and_a_saved_one_is_shown(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config]
) -> None:
    dialog = make_dialog(Config(provider=ProviderConfig(support_tier="silver"), sites=(SHOP,)))
    combo = field(dialog, "provider", "support_tier").edit
    assert combo.currentText() == "Silver"
    dialog.tabs.setCurrentWidget(dialog.form("provider"))
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Up)
    assert combo.currentText() == "Gold"
    qtbot.keyClick(combo, Qt.Key.Key_Escape)
    answer(qtbot, dialog, "discard_confirm", "Keep editing")  # asked: nothing lost
    assert dialog.isVisible() and combo.currentText() == "Gold"


def test_the_first_run_asks_for_the_tier_with_i_dont_know_as_the_default(
    qtbot: Any, paths: Paths, store: RecordingStore, saved: list[Config]
) -> None:
    dialog = open_first_run(paths=paths, store=store, on_saved=saved.append)
    qtbot.addWidget(dialog)
    assert dialog.welcome.text() == WELCOME and dialog.welcome.isVisible()
    for line in SUPPORT_TIERS.summary():
        assert line in WELCOME
    assert "\u201cI don't know\u201d" in WELCOME
    assert field(dialog, "provider", "support_tier").edit.currentText() == "I don't know"
    result = click_save_and_wait(qtbot, dialog, saved)
    assert result.provider.support_tier == "unknown"


# --------------------------------------------------------------------------- certificates


def test_certificate_warning_days_on_the_monitor_tab(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config]
) -> None:
    dialog = make_dialog(Config(sites=(SHOP,)))
    days = field(dialog, "monitor", "cert_warn_days")
    assert days.text() == "14" and days.label.buddy() is days.edit
    dialog.tabs.setCurrentWidget(dialog.form("monitor"))
    type_into(qtbot, days.edit, "-3")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert days.error.text() == "Must be at least 0 (got -3)"
    assert days.edit.hasFocus() and saved == []
    type_into(qtbot, days.edit, "30")
    assert click_save_and_wait(qtbot, dialog, saved).monitor.cert_warn_days == 30


# --------------------------------------------------------------------------- content checks


def test_content_checks_under_their_heading_in_the_site_editor(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    dialog = make_dialog(Config(sites=(SHOP,)))
    editor = open_editor(qtbot, dialog, dialog.sites.add_button)
    heading = editor.headings[CONTENT_CHECKS]
    assert heading.text() == "Content checks" and heading.isVisible()
    below = [key for key, f in editor.fields.items()
             if f.edit.geometry().top() > heading.geometry().bottom()]
    assert below == ["expect", "forbid", "builtin_checks"]  # under its heading, together
    forbid = editor.fields["forbid"].edit
    builtin = editor.fields["builtin_checks"].edit
    assert isinstance(forbid, QPlainTextEdit) and isinstance(builtin, QCheckBox)
    assert builtin.isChecked()  # on by default
    # The check box is labelled by its own text, and says under it what it turns on.
    assert builtin.text() == "Built-in chec&ks" and "Built-in checks" in builtin.accessibleName()
    assert "PHP fatal errors" in editor.fields["builtin_checks"].help.text()
    assert editor.fields["builtin_checks"].help.isVisible()

    type_into(qtbot, editor.fields["name"].edit, "docs")
    type_into(qtbot, editor.fields["url"].edit, "https://docs.example.org/")
    type_into(qtbot, editor.fields["expect"].edit, "Add to cart")
    forbid.setFocus()
    qtbot.keyClicks(forbid, "Maintenance mode")
    qtbot.keyClick(forbid, Qt.Key.Key_Return)
    qtbot.keyClick(forbid, Qt.Key.Key_Return)  # an empty line is no text to forbid
    qtbot.keyClicks(forbid, " Fatal error ")
    qtbot.keyClick(forbid, Qt.Key.Key_Tab)  # Tab leaves the box, as in any field
    assert builtin.hasFocus()
    qtbot.keyClick(builtin, Qt.Key.Key_Space)
    editor.accept()
    added = dialog.sites.sites[-1]
    assert (added.expect, added.forbid, added.builtin_checks) == (
        "Add to cart", ("Maintenance mode", "Fatal error"), False
    )


def test_editing_a_site_shows_its_content_checks_and_a_bad_one_is_explained(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    checked = SiteConfig("shop", "https://live-shop.pantheonsite.io/", expect="Cart",
                         forbid=("Maintenance mode", "Out of stock"), builtin_checks=False)
    dialog = make_dialog(Config(sites=(checked,)))
    dialog.sites.table.selectRow(0)
    editor = open_editor(qtbot, dialog, dialog.sites.edit_button)
    assert editor.fields["expect"].text() == "Cart"
    assert editor.fields["forbid"].edit.toPlainText() == "Maintenance mode\nOut of stock"
    assert not editor.fields["builtin_checks"].edit.isChecked()

    forbid = editor.fields["forbid"].edit
    forbid.setFocus()
    forbid.moveCursor(forbid.textCursor().MoveOperation.End)
    forbid.insertPlainText("\nOut of\tstock")  # pasted from a spreadsheet: one cell per line
    editor.accept()
    assert editor.isVisible() and forbid.hasFocus()
    error = editor.fields["forbid"].error
    assert error.isVisible() and error.text()
    assert forbid.accessibleDescription() == error.text()
    forbid.setPlainText("Maintenance mode")  # fixed: the message goes as it is corrected
    assert not error.isVisible()
    editor.accept()
    assert dialog.sites.sites[0].forbid == ("Maintenance mode",)
    assert dialog.sites.sites[0].expect == "Cart"  # untouched keys keep their values


# --------------------------------------------------------------------------- groups


def test_the_group_field_offers_the_groups_of_the_configured_sites(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    dialog = make_dialog(Config(sites=(SHOP, BLOG, LOOSE, SiteConfig(
        "shop-test", "https://test-shop.pantheonsite.io/", group="Client Acme"))))
    editor = open_editor(qtbot, dialog, dialog.sites.add_button)
    group = editor.fields["group"].edit
    completer = group.completer()
    assert completer is not None
    assert completer.model().stringList() == ["Client Acme", "Client Beta"]  # once each
    group.setFocus()
    qtbot.keyClicks(group, "acme")  # any part, in any case
    popup = completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert completer.completionCount() == 1 and completer.currentCompletion() == "Client Acme"
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert group.text() == "Client Acme"
    # a new group is still free text
    type_into(qtbot, group, "Client Gamma")
    assert editor.fields["group"].validate()


def test_with_no_groups_yet_the_group_field_is_plain_text(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    dialog = make_dialog(Config(sites=(LOOSE,)))
    editor = open_editor(qtbot, dialog, dialog.sites.add_button)
    assert editor.fields["group"].edit.completer() is None


@pytest.mark.parametrize("rule", [rules.name, rules.optional_line])
def test_one_line_rules_refuse_control_characters_and_keep_emoji(rule: Any) -> None:
    # A colour code pasted with a word would reach the menu, tickets and `check` output.
    for typed in ("Add to cart\x1b[31m", "shop\x07", "a\u202eb", "two\nlines", "tab\there"):
        with pytest.raises(ValueError, match="must be one line of printable text"):
            rule(typed)
    team = "Client \U0001f469\u200d\U0001f4bb Acme"  # a joined emoji: printable
    assert rule(f"  {team} ") == team


def test_a_forbidden_text_with_an_escape_is_one_config_message(tmp_path: Any) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[site]]\nname = "shop"\nurl = "https://shop.example.org/"\n'
                    'forbid = ["Fatal error", "oops\\u001b[0m"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"forbid.*must be one line of printable text"):
        load_config(path)

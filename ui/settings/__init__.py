"""The Settings dialog, in parts: the dialog, its tabs, and the schema-driven form fields."""

from ui.settings.dialog import SettingsDialog, open_first_run

__all__ = ["SettingsDialog", "open_first_run"]

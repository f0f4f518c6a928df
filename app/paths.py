"""Where Lifeline keeps things: one place, from platformdirs.

User preferences (config.toml) live in the config dir; runtime state (history, outbox)
in the data dir; logs in the log dir. Tests point platformdirs at tmp_path through the
XDG variables, so nothing here needs a test hook.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app import APP_NAME


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    log_dir: Path
    runtime_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def outbox_db(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def planned_notices(self) -> Path:
        """Which planned-maintenance notices were shown (so a restart does not repeat them)."""
        return self.data_dir / "planned-notices.json"

    @property
    def snoozes(self) -> Path:
        """Snoozed sites and until when (app/snooze.py): state, so not in config.toml."""
        return self.data_dir / "snoozes.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "lifeline.log"

    @property
    def plaintext_secrets(self) -> Path:
        """Only used after the user explicitly agreed to a plaintext fallback."""
        return self.data_dir / "secrets.json"


def default_paths() -> Paths:
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR (cron, a root shell) platformdirs warns on stderr and
        # falls back to a private /tmp folder; the fallback is fine, the warning would
        # break `lifeline check`'s one-line output.
        warnings.simplefilter("ignore")
        runtime = platformdirs.user_runtime_dir(APP_NAME, appauthor=False)
    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        runtime_dir=Path(runtime),
    )

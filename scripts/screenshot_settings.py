"""Screenshots of the Settings dialog for the docs: `python scripts/screenshot_settings.py [DIR]`.

Renders the real dialog (sample sites, an in-memory keyring holding one token) into PNGs:
settings.png (the Sites tab), settings-secrets.png, settings-site-editor.png (a typo
being explained). Isolated from the user's machine: HOME, the XDG dirs and the keyring
point at a throwaway folder / memory. `shoot_settings(out_dir)` can be called from a
combined screenshots script.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """A throwaway HOME and XDG dirs for the duration; the environment restored after."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="lifeline-shots-") as home:
        try:
            _isolate(Path(home))
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def shoot_settings_isolated(out_dir: Path) -> list[Path]:
    """For scripts/screenshots.py: shoot_settings inside `isolated()`."""
    with isolated():
        return shoot_settings(out_dir)


def _isolate(home: Path) -> None:
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(home / sub)
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(home / "run")
    os.environ["HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def shoot_settings(out_dir: Path) -> list[Path]:
    """Write the three PNGs into out_dir and return their paths."""
    import keyring
    from keyring.backend import KeyringBackend
    from PySide6.QtWidgets import QApplication

    from app.config import Config, ContactConfig, SiteConfig
    from app.credentials import TICKET_TOKEN, CredentialStore
    from app.paths import default_paths
    from ui.settings_dialog import SettingsDialog

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    backend = MemoryKeyring()
    backend.set_password("lifeline", TICKET_TOKEN, "not-a-real-token")
    keyring.set_keyring(backend)

    app = QApplication.instance() or QApplication([])
    paths = default_paths()
    config = Config(
        contact=ContactConfig(
            name="Ada Lovelace", email="ada@example.org", phone="+44 20 7946 0000"
        ),
        sites=(
            SiteConfig("shop", "https://live-shop.pantheonsite.io/",
                       backend_url="https://live-shop.pantheonsite.io/user/login"),
            SiteConfig("blog", "https://www.example-blog.org/"),
            SiteConfig("docs", "https://test-docs.pantheonsite.io/", environment="test"),
        ),
    )
    dialog = SettingsDialog(
        config,
        paths=paths,
        store=CredentialStore(plaintext_path=paths.plaintext_secrets),
        on_saved=lambda _config: None,
    )
    dialog.show()
    dialog.sites_table.selectRow(0)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def settle() -> None:
        for _ in range(20):
            app.processEvents()

    # Wait (on events, no sleep) for the keyring status from the worker thread.
    import time

    deadline = time.monotonic() + 10
    while dialog.secret_states[TICKET_TOKEN].text().startswith("Checking"):
        if time.monotonic() > deadline:
            raise SystemExit("the keyring status never arrived")
        app.processEvents()

    settle()
    target = out_dir / "settings.png"
    dialog.grab().save(str(target))
    written.append(target)

    dialog.tabs.setCurrentIndex(4)
    settle()
    target = out_dir / "settings-secrets.png"
    dialog.grab().save(str(target))
    written.append(target)

    dialog.tabs.setCurrentIndex(0)
    dialog.edit_site()
    editor = dialog.site_editor
    assert editor is not None
    editor.url.edit.setText("live-shop.pantheonsite.io")
    editor.accept()  # refused: shows what is wrong next to the field
    settle()
    target = out_dir / "settings-site-editor.png"
    editor.grab().save(str(target))
    written.append(target)
    editor.reject()
    dialog.reject()
    settle()
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "img"
    for path in shoot_settings_isolated(out_dir.resolve()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

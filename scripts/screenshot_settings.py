"""Screenshots of the Settings dialog for the docs: `python scripts/screenshot_settings.py [DIR]`.

Renders the real dialog (sample sites, an in-memory keyring holding one token) into PNGs:
settings.png (the Sites tab), settings-provider.png (the support tier),
settings-secrets.png, settings-site-editor.png (a typo being explained, the content
checks under it). Isolated from the user's machine: HOME, the XDG dirs and the keyring
point at a throwaway folder / memory. `shoot_settings(out_dir)` can be called from a
combined screenshots script.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.isolation import isolated  # noqa: E402


def shoot_settings_isolated(out_dir: Path) -> list[Path]:
    """For scripts/screenshots.py: shoot_settings with HOME and the XDG dirs isolated."""
    with isolated():
        return shoot_settings(out_dir)


def shoot_settings(out_dir: Path) -> list[Path]:
    """Write the four PNGs into out_dir and return their paths."""
    import keyring
    from PySide6.QtWidgets import QApplication

    from app.config import Config, ContactConfig, ProviderConfig, SiteConfig
    from app.credentials import TICKET_TOKEN, CredentialStore
    from app.paths import default_paths
    from tests.memory_keyring import MemoryKeyring
    from ui.settings import SettingsDialog

    backend = MemoryKeyring()
    backend.set_password("lifeline", TICKET_TOKEN, "not-a-real-token")
    keyring.set_keyring(backend)

    app = QApplication.instance() or QApplication([])
    paths = default_paths()
    config = Config(
        contact=ContactConfig(
            name="Ada Lovelace", email="ada@example.org", phone="+44 20 7946 0000"
        ),
        provider=ProviderConfig(support_tier="platinum"),
        sites=(
            SiteConfig("shop", "https://live-shop.pantheonsite.io/",
                       backend_url="https://live-shop.pantheonsite.io/user/login",
                       expect="Add to cart", forbid=("Maintenance mode",),
                       group="Acme Corp"),
            SiteConfig("blog", "https://www.example-blog.org/", group="Personal"),
            SiteConfig("docs", "https://test-docs.pantheonsite.io/", environment="test",
                       group="Acme Corp"),
        ),
    )
    dialog = SettingsDialog(
        config,
        paths=paths,
        store=CredentialStore(plaintext_path=paths.plaintext_secrets),
        on_saved=lambda _config: None,
    )
    dialog.show()
    dialog.sites.table.selectRow(0)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def settle() -> None:
        for _ in range(20):
            app.processEvents()

    # Wait (on events, no sleep) for the keyring status from the worker thread.
    import time

    deadline = time.monotonic() + 10
    while dialog.secrets.states[TICKET_TOKEN].text().startswith("Checking"):
        if time.monotonic() > deadline:
            raise SystemExit("the keyring status never arrived")
        app.processEvents()

    settle()
    target = out_dir / "settings.png"
    dialog.grab().save(str(target))
    written.append(target)

    dialog.tabs.setCurrentWidget(dialog.form("provider"))
    settle()
    target = out_dir / "settings-provider.png"
    dialog.grab().save(str(target))
    written.append(target)

    dialog.tabs.setCurrentWidget(dialog.secrets)
    settle()
    target = out_dir / "settings-secrets.png"
    dialog.grab().save(str(target))
    written.append(target)

    dialog.tabs.setCurrentIndex(0)
    dialog.sites.edit_site()
    editor = dialog.sites.editor
    assert editor is not None
    editor.fields["url"].edit.setText("live-shop.pantheonsite.io")
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

"""README screenshots, taken from the real app: `make screenshots` (or this script [DIR]).

tray-menu.png: `lifeline --demo` under Xvfb with trayer as the tray host. Notifications
are paused from the menu first (as a user would, so no balloon covers the shot); once
the tray icon shows the demo's "down" phase, the menu is opened with a right click and
the failing site's submenu with the keyboard; then the screen is captured and trimmed.
The grouped menu (tray-groups.png), Settings, ticket-form and Lifeline window shots come
from their own scripts, called from main().
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.isolation import isolated_env  # noqa: E402
from tests.xvfb import VirtualDesktop, missing_tools, poll  # noqa: E402

DOWN = "#C62828"


def icon_is(desk: VirtualDesktop, colour: str, scratch: Path) -> bool:
    from PySide6.QtGui import QColor, QImage

    panel = desk.panel_geometry()
    assert panel is not None
    image = QImage(str(desk.screenshot(scratch / "panel.png", crop=panel)))
    want = QColor(colour)
    hits = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(
                c.blue() - want.blue()
            ) < 40:
                hits += 1
    return hits >= 150


def xdotool(desk: VirtualDesktop, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=desk.env(), check=True)


def shoot_worst_submenu(
    desk: VirtualDesktop, icon: tuple[str, str], scratch: Path, out: Path
) -> None:
    """Open the tray menu and, below its heading, Open Lifeline… and the platform line,
    the first (worst) entry's submenu; write the screen, trimmed and framed, to `out`."""
    xdotool(desk, "mousemove", *icon, "click", "3")
    time.sleep(0.6)
    for key in ("Down", "Down", "Down", "Down", "Right"):
        xdotool(desk, "key", key)
        time.sleep(0.15)
    time.sleep(0.5)
    raw = desk.screenshot(scratch / "screen.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["convert", str(raw), "-trim", "+repage", "-bordercolor", "#202020",
         "-border", "12", str(out)],
        check=True,
    )


def shoot_tray_menu(out_dir: Path) -> Path:
    out = out_dir / "tray-menu.png"
    with tempfile.TemporaryDirectory(prefix="lifeline-shots-") as tmp, VirtualDesktop(
        1280, 560
    ) as desk:
        scratch = Path(tmp)
        env = isolated_env(desk.env(), scratch / "home")
        lifeline = Path(sys.executable).parent / "lifeline"
        command = [str(lifeline)] if lifeline.exists() else [sys.executable, "-m", "app"]
        app = subprocess.Popen([*command, "--demo"], cwd=ROOT, env=env)
        try:
            panel = desk.panel_geometry()
            assert panel is not None
            x, y, w, h = panel
            icon = (str(x + w - 14), str(y + h // 2))
            if not poll(lambda: icon_is(desk, "#2E7D32", scratch), timeout=30, step=0.3):
                raise SystemExit("the demo's icon never showed operational")
            # Pause notifications: right click, "P" (Pause notifications), "h" (1 hour).
            xdotool(desk, "mousemove", *icon, "click", "3")
            time.sleep(0.5)
            xdotool(desk, "key", "p")
            time.sleep(0.3)
            xdotool(desk, "key", "h")
            if not poll(lambda: icon_is(desk, DOWN, scratch), timeout=60, step=0.3):
                raise SystemExit("the demo's icon never showed down")
            shoot_worst_submenu(desk, icon, scratch, out)
        finally:
            app.terminate()
            app.wait(15)
    return out


def main(argv: list[str]) -> int:
    missing = missing_tools()
    if missing:
        print(f"screenshots need {', '.join(missing)} (apt install xvfb trayer imagemagick "
              "x11-utils xdotool)", file=sys.stderr)
        return 1
    out_dir = Path(argv[0]) if argv else ROOT / "docs" / "img"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # for reading PNGs here
    shots = [shoot_tray_menu(out_dir)]
    from scripts import screenshot_sni

    if not screenshot_sni.missing_tools():  # XFCE's panel and dunst: the SNI menu
        shots.append(screenshot_sni.shoot(out_dir))
    from scripts.screenshot_groups import shoot as shoot_groups

    shots.append(shoot_groups(out_dir))
    from scripts.screenshot_settings import shoot_settings_isolated

    shots += shoot_settings_isolated(out_dir)
    from scripts.screenshot_ticket import shoot_ticket_isolated

    shots += shoot_ticket_isolated(out_dir)
    from scripts.screenshot_window import shoot_isolated as shoot_window

    shots += shoot_window(out_dir)
    for shot in shots:
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

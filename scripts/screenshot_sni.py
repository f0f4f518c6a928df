"""docs/img/tray-sni-menu.png: Lifeline's menu as XFCE's panel draws it (StatusNotifierItem).

The same session as tests/test_e2e_sni.py (Xvfb, a private bus, xfce4-panel with only its
systray plugin, dunst) and loopback sites, one of them down; once the exported menu says
so, the icon is right-clicked in the panel, so the panel itself draws the menu from
dbusmenu, and the top-left of the screen is captured.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.isolation import isolated_env  # noqa: E402
from tests.conftest import summary_payload  # noqa: E402
from tests.loopback import LoopbackServer, Reply  # noqa: E402
from tests.sni import PANEL_HEIGHT, SniDesktop, missing_tools  # noqa: E402
from tests.xvfb import poll  # noqa: E402

DOWN = (0xC6, 0x28, 0x28)


def icon_centre(shot: Path, width: int) -> tuple[int, int] | None:
    """The middle of the down-red pixels in the panel's strip of the screen."""
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    xs, ys = [], []
    for y in range(min(PANEL_HEIGHT, image.height())):
        for x in range(min(width, image.width())):
            c = image.pixelColor(x, y)
            if abs(c.red() - DOWN[0]) + abs(c.green() - DOWN[1]) + abs(c.blue() - DOWN[2]) < 40:
                xs.append(x)
                ys.append(y)
    if len(xs) < 20:
        return None
    return (min(xs) + max(xs)) // 2, (min(ys) + max(ys)) // 2


def shoot(out_dir: Path) -> Path:
    out = out_dir / "tray-sni-menu.png"
    servers = [LoopbackServer() for _ in range(4)]
    shop, blog, wiki, status = servers
    shop.route("*", Reply(503, "<title>503 Service Unavailable</title>"))
    blog.route("*", Reply(200, "<html><title>Blog</title></html>"))
    wiki.route("*", Reply(200, "<html><title>Wiki</title></html>"))
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    try:
        with tempfile.TemporaryDirectory(prefix="lifeline-sni-shot-") as tmp, SniDesktop(
            Path(tmp) / "session", 800, 480
        ) as desk:
            scratch = Path(tmp)
            config = scratch / "config.toml"
            config.write_text(
                f'[provider]\nstatus_page = "{status.url}"\n\n'
                "[monitor]\ninterval = 2\nretry_interval = 0.5\nfailures_to_alert = 2\n\n"
                + "".join(f'[[site]]\nname = "{name}"\nurl = "{srv.url}/"\n\n'
                          for name, srv in (("shop", shop), ("blog", blog), ("wiki", wiki))),
                encoding="utf-8",
            )
            env = isolated_env(desk.env(), scratch / "home")
            lifeline = Path(sys.executable).parent / "lifeline"
            command = [str(lifeline)] if lifeline.exists() else [sys.executable, "-m", "app"]
            app = subprocess.Popen([*command, "--config", str(config)], cwd=ROOT, env=env)
            try:
                with desk.client() as client:
                    items = poll(client.items, timeout=20)
                    if not items:
                        raise SystemExit("Lifeline never registered with the panel")
                    item = client.item(items[0])
                    if not poll(lambda: any(t.startswith("shop: Down")
                                            for t in item.layout().labels()), timeout=30):
                        raise SystemExit("the menu never showed the shop down")
                centre = poll(lambda: icon_centre(
                    desk.x.screenshot(scratch / "panel.png"), desk.x.width), timeout=10)
                if centre is None:
                    raise SystemExit("no down-red icon in the panel")
                subprocess.run(["dunstctl", "close-all"], env=desk.env(), check=False)
                subprocess.run(["xdotool", "mousemove", str(centre[0]), str(centre[1]),
                                "click", "3"], env=desk.env(), check=True)
                time.sleep(1.0)  # the panel fetches the layout and maps its menu
                raw = desk.x.screenshot(scratch / "screen.png")
                out_dir.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    ["convert", str(raw), "-crop", "520x400+0+0", "+repage", "-trim",
                     "+repage", "-bordercolor", "#202020", "-border", "12", str(out)],
                    check=True,
                )
            finally:
                app.terminate()
                app.wait(15)
    finally:
        for srv in servers:
            srv.close()
    return out


def main(argv: list[str]) -> int:
    missing = missing_tools()
    if missing:
        print(f"the SNI screenshot needs {', '.join(missing)}", file=sys.stderr)
        return 1
    print(shoot(Path(argv[0]) if argv else ROOT / "docs" / "img"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

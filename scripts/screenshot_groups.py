"""docs/img/tray-groups.png: the tray menu of an agency, sites grouped by client.

The real app (`lifeline --config ...`) under Xvfb with trayer as the tray host, checking
sites served by loopback servers: one client's shop starts answering 502, a
university's sites are inside a `[[maintenance]]` window, one site is snoozed (as
`lifeline snooze` leaves it). Notifications are paused from the menu first (as in
scripts/screenshots.py), then the failures begin; once the icon turns red the menu is
opened with a right click and the worst group's submenu with the keyboard, then the
screen is captured and trimmed.

    .venv/bin/python scripts/screenshot_groups.py [DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.isolation import isolated_env  # noqa: E402
from scripts.screenshots import DOWN, icon_is, shoot_worst_submenu, xdotool  # noqa: E402
from tests.conftest import summary_payload  # noqa: E402
from tests.loopback import LoopbackServer, Reply  # noqa: E402
from tests.xvfb import VirtualDesktop, missing_tools, poll  # noqa: E402

GROUPS = {
    "Acme Corp": ["acme-shop", "acme-blog", "acme-careers", "acme-intranet"],
    "Globex": ["globex-www", "globex-store", "globex-docs"],
    "Riverside University": ["riverside-admissions", "riverside-library", "riverside-news"],
    "Personal": ["my-blog"],
}
DOWN_SITES = {"acme-shop", "acme-intranet", "riverside-library"}
LOOSE = ["agency-website"]


def write_config(path: Path, status_page: str, site_url: str) -> None:
    lines = ["[provider]", f'status_page = "{status_page}"', "", "[monitor]",
             "interval = 5", "retry_interval = 1", "failures_to_alert = 1"]
    for group, names in GROUPS.items():
        for name in names:
            lines += ["", "[[site]]", f'name = "{name}"', f'url = "{site_url}/{name}"',
                      f'group = "{group}"']
    for name in LOOSE:
        lines += ["", "[[site]]", f'name = "{name}"', f'url = "{site_url}/{name}"']
    lines += ["", "[[maintenance]]", 'sites = ["group:Riverside University"]',
              'rrule = "FREQ=DAILY"', 'duration = "2d"']
    path.write_text("\n".join(lines) + "\n")


def shoot(out_dir: Path) -> Path:
    out = out_dir / "tray-groups.png"
    status, sites = LoopbackServer(), LoopbackServer()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))

    broken = threading.Event()  # set once notifications are paused: no balloon, no form

    def answer(req: object) -> Reply:
        name = getattr(req, "path", "").strip("/").split("?")[0]
        if name in DOWN_SITES and broken.is_set():
            return Reply(502, "<title>502 Bad Gateway</title>")
        return Reply(200, "<title>ok</title>")

    sites.route("*", answer)
    with tempfile.TemporaryDirectory(prefix="lifeline-shots-") as tmp, VirtualDesktop(
        1280, 640
    ) as desk:
        scratch = Path(tmp)
        env = isolated_env(desk.env(), scratch / "home")
        config = scratch / "config.toml"
        write_config(config, status.url, sites.url)
        from app.snooze import SnoozeStore

        store = SnoozeStore(Path(env["XDG_DATA_HOME"]) / "lifeline" / "snoozes.json")
        now = datetime.now(UTC)  # a script, not a test: the snooze runs for two hours
        store.snooze("acme-intranet", now + timedelta(hours=2), now=now)
        app = subprocess.Popen([sys.executable, "-m", "lifeline", "--config", str(config)],
                               cwd=ROOT, env=env)
        try:
            panel = desk.panel_geometry()
            assert panel is not None
            x, y, w, h = panel
            icon = (str(x + w - 14), str(y + h // 2))
            if not poll(lambda: icon_is(desk, "#2E7D32", scratch), timeout=60, step=0.3):
                raise SystemExit("the tray icon never showed operational")
            xdotool(desk, "mousemove", *icon, "click", "3")
            time.sleep(0.5)
            xdotool(desk, "key", "p")
            time.sleep(0.3)
            xdotool(desk, "key", "h")
            broken.set()
            if not poll(lambda: icon_is(desk, DOWN, scratch), timeout=60, step=0.3):
                raise SystemExit("the icon never turned red")
            time.sleep(1.0)
            shoot_worst_submenu(desk, icon, scratch, out)
        finally:
            app.terminate()
            app.wait(15)
            status.close()
            sites.close()
    return out


def main(argv: list[str]) -> int:
    missing = missing_tools()
    if missing:
        print(f"the screenshot needs {', '.join(missing)}", file=sys.stderr)
        return 1
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # for reading PNGs here
    print(shoot(Path(argv[0]) if argv else ROOT / "docs" / "img"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

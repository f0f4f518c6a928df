"""End to end on a real StatusNotifierItem host (issue 18): XFCE's panel (its systray
plugin is the SNI watcher and host) and dunst on a private session bus under Xvfb,
`lifeline` against loopback sites, read and driven over D-Bus the way the panel does.

Skipped (with the reason) only where the programs are missing; with
LIFELINE_REQUIRE_E2E=1 (CI) that is a failure instead.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.models import OverallState
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply
from tests.sni import (
    MenuNode,
    SniDesktop,
    SniItem,
    dominant_colour,
    hex_rgb,
    missing_tools,
    require_e2e,
)
from tests.test_e2e_tray import lifeline_command
from tests.xvfb import poll
from ui.palette import STATE_COLOURS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
PALETTE = {state.value: hex_rgb(colour) for state, colour in STATE_COLOURS.items()}
GENERIC_ICONS = {"dialog-information", "dialog-warning", "dialog-error"}


@pytest.fixture
def sni(tmp_path: Path) -> Iterator[SniDesktop]:
    missing = missing_tools()
    if missing:
        reason = f"needs {', '.join(missing)} (Debian: apt install xvfb dbus xfce4-panel dunst)"
        if require_e2e():
            pytest.fail(f"LIFELINE_REQUIRE_E2E=1 but the SNI e2e test cannot run: {reason}")
        pytest.skip(reason)
    with SniDesktop(tmp_path / "session") as desk:
        yield desk


def write_config(path: Path, status: LoopbackServer, shop: LoopbackServer,
                 blog: LoopbackServer) -> None:
    path.write_text(
        f"""
[provider]
status_page = "{status.url}"

[monitor]
interval = 1
retry_interval = 0.5
timeout = 2
failures_to_alert = 2
successes_to_recover = 2

[[site]]
name = "shop"
url = "{shop.url}/"

[[site]]
name = "blog"
url = "{blog.url}/"
""",
        encoding="utf-8",
    )


def site_line(layout: MenuNode, name: str) -> str | None:
    return next((t for t in layout.labels() if t.startswith(f"{name}: ")), None)


def test_lifeline_on_an_sni_host(
    sni: SniDesktop, make_server: Any, tmp_path: Path
) -> None:
    down = {"now": False}
    shop: LoopbackServer = make_server()
    shop.route("*", lambda _r: Reply(503, "<title>503 Service Unavailable</title>")
               if down["now"] else Reply(200, "<html><title>Shop</title></html>"))
    blog: LoopbackServer = make_server()
    blog.route("*", Reply(200, "<html><title>Blog</title></html>"))
    status: LoopbackServer = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    config = tmp_path / "config.toml"
    write_config(config, status, shop, blog)

    started = time.monotonic()
    proc = subprocess.Popen(
        [*lifeline_command(), "--config", str(config)],
        cwd=ROOT, env=sni.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    client = sni.client()
    try:
        # Registered with the watcher, under the app's name.
        registered = poll(client.items, timeout=20)
        assert registered, f"no item registered with the watcher: {sni.log('panel')}"
        item: SniItem = client.item(registered[0])
        registered_s = time.monotonic() - started
        props = item.props()
        assert props["Title"] == "Lifeline" and props["Id"] == "Lifeline"

        # The site entries are in the exported menu before anyone calls AboutToShow.
        def operational() -> MenuNode | None:
            layout = item.layout()
            shop_line, blog_line = site_line(layout, "shop"), site_line(layout, "blog")
            return layout if shop_line and blog_line and shop_line.startswith(
                "shop: Operational") and blog_line.startswith("blog: Operational") else None

        first = poll(operational, timeout=20, step=0.2)
        assert first is not None, item.layout().labels()
        assert first.labels()[0].startswith("Operational")
        assert "File an emergency ticket…" in first.labels()
        assert dominant_colour(item.props()["IconPixmap"], PALETTE) == "operational"
        tooltip = item.props()["ToolTip"]
        assert "Lifeline" in tooltip[2] and "<" not in tooltip[2] + tooltip[3]

        # The shop goes down: the closed menu, the icon and a notification follow.
        down["now"] = True
        shown_down = poll(
            lambda: (lambda layout: layout if (site_line(layout, "shop") or "").startswith(
                "shop: Down") else None)(item.layout()),
            timeout=30, step=0.2,
        )
        assert shown_down is not None, item.layout().labels()
        down_s = time.monotonic() - started
        assert shown_down.labels() != first.labels()
        assert shown_down.labels()[0].startswith("Down")
        assert poll(lambda: dominant_colour(item.props()["IconPixmap"], PALETTE) == "down",
                    timeout=10)
        assert "<" not in "".join(item.props()["ToolTip"][2:])

        log_file = Path(sni.env()["XDG_STATE_HOME"]) / "lifeline" / "log" / "lifeline.log"
        assert poll(lambda: log_file.exists() and "notification: shop: Down"
                    in log_file.read_text(), timeout=10), "no notification was shown"
        # The message went to the notification server, and the item kept its state icon
        # (Qt's showMessage would have made it NeedsAttention with dialog-error).
        assert poll(lambda: sni.dunstctl("count", "displayed") not in ("", "0"), timeout=10)
        after = item.props()
        assert after["Status"] == "Active", (after["Status"], after["AttentionIconName"])
        assert after["AttentionIconName"] not in GENERIC_ICONS
        assert dominant_colour(after["IconPixmap"], PALETTE) == "down"
        # A click on it (its default action) opens the ticket form for the site.
        sni.dunstctl("action", "0")
        assert poll(lambda: sni.window_shown("^Emergency ticket: shop"), timeout=10)

        # It recovers: the menu and the icon turn back.
        down["now"] = False
        recovered = poll(operational, timeout=30, step=0.2)
        assert recovered is not None, item.layout().labels()
        recovered_s = time.monotonic() - started
        assert recovered.labels() != shown_down.labels()
        assert poll(
            lambda: dominant_colour(item.props()["IconPixmap"], PALETTE) == "operational",
            timeout=10,
        )
        assert OverallState.OPERATIONAL.value in PALETTE

        # A second launch: the panel never says where the icon is, so the window opens.
        assert not sni.window_shown("^Lifeline$")
        second = subprocess.run([*lifeline_command(), "--config", str(config)], cwd=ROOT,
                                env=sni.env(), capture_output=True, text=True, timeout=30)
        assert second.returncode == 0, second.stderr
        assert poll(lambda: sni.window_shown("^Lifeline$"), timeout=10)

        # Quit, chosen as the panel does it: Event(id, "clicked") on the exported entry.
        quit_entry = item.layout().find("Quit")
        assert quit_entry is not None
        item.click(quit_entry.id)
        proc.wait(15)
        print(f"\nfigures: registered {registered_s:.2f} s after launch, menu says down at "
              f"{down_s:.2f} s, operational again at {recovered_s:.2f} s")
    finally:
        client.conn.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err

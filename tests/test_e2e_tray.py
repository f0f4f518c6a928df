"""End to end, as a user sees it: a real tray host (trayer) under Xvfb, `lifeline` against
loopback sites, the tray icon's colour read from a screenshot of the screen.

Skipped (with the reason) only where Xvfb/trayer/ImageMagick are missing; with
LIFELINE_REQUIRE_E2E=1 (CI) that is a failure instead.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage

from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply
from tests.xvfb import VirtualDesktop, missing_tools, poll

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DOWN = QColor("#C62828")
OPERATIONAL = QColor("#2E7D32")
ROOT = Path(__file__).resolve().parents[1]
STATE_COLOURS = [QColor(c) for c in ("#2E7D32", "#F9A825", "#EF6C00", "#C62828", "#757575",
                                     "#1565C0")]


@pytest.fixture
def desktop() -> Iterator[VirtualDesktop]:
    missing = missing_tools()
    if missing:
        reason = (
            f"needs {', '.join(missing)} (Debian: apt install xvfb trayer imagemagick x11-utils)"
        )
        if os.environ.get("LIFELINE_REQUIRE_E2E") == "1":
            pytest.fail(f"LIFELINE_REQUIRE_E2E=1 but the e2e test cannot run: {reason}")
        pytest.skip(reason)
    with VirtualDesktop(800, 600) as desk:
        yield desk


@dataclass
class IconSample:
    box: tuple[int, int, int, int]  # x, y, w, h within the panel
    fractions: dict[str, float]  # share of the icon's box per reference colour


def sample_tray_icon(shot: Path, references: dict[str, QColor]) -> IconSample | None:
    """Find the icon in a panel screenshot: the box around pixels of any state colour.

    (Not "whatever differs from the panel": a notification balloon's arrow may reach
    into the panel, and must not dilute the icon's measured colour.)
    """
    image = QImage(str(shot))
    if image.isNull():
        return None
    xs: list[int] = []
    ys: list[int] = []
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if any(_distance(pixel, c) <= 40 for c in STATE_COLOURS):
                xs.append(x)
                ys.append(y)
    if len(xs) < 20:
        return None
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    w, h = x1 - x0 + 1, y1 - y0 + 1
    counts = dict.fromkeys(references, 0)
    for y in range(y0, y1 + 1):
        for x in range(x0, x1 + 1):
            pixel = image.pixelColor(x, y)
            for name, ref in references.items():
                if _distance(pixel, ref) <= 40:
                    counts[name] += 1
    return IconSample((x0, y0, w, h), {k: v / (w * h) for k, v in counts.items()})


def _distance(a: QColor, b: QColor) -> float:
    return math.dist((a.red(), a.green(), a.blue()), (b.red(), b.green(), b.blue()))


def lifeline_command() -> list[str]:
    script = Path(sys.executable).parent / "lifeline"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app"]


def test_tray_icon_turns_red_when_a_site_is_down_and_green_when_it_recovers(
    desktop: VirtualDesktop, make_server: Any, tmp_path: Path, qapp: Any
) -> None:
    down = {"now": True}
    site: LoopbackServer = make_server()
    site.route("*", lambda _r: Reply(503, "<title>503 Service Unavailable</title>")
               if down["now"] else Reply(200, "<html><title>Shop</title></html>"))
    other: LoopbackServer = make_server()
    other.route("*", Reply(200, "<html><title>Blog</title></html>"))
    status: LoopbackServer = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    config = tmp_path / "config.toml"
    config.write_text(
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
url = "{site.url}/"

[[site]]
name = "blog"
url = "{other.url}/"
""",
        encoding="utf-8",
    )
    panel = desktop.panel_geometry()
    assert panel is not None
    shots = tmp_path / "shots"
    shots.mkdir()
    references = {"down": DOWN, "operational": OPERATIONAL}
    counter = iter(range(10_000))

    def look() -> IconSample | None:
        shot = desktop.screenshot(shots / f"panel-{next(counter):04}.png", crop=panel)
        return sample_tray_icon(shot, references)

    started = time.monotonic()
    proc = subprocess.Popen(
        [*lifeline_command(), "--config", str(config)],
        cwd=ROOT, env=desktop.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = poll(look, timeout=20, step=0.2)
        assert first is not None, "no tray icon appeared in trayer's panel"
        icon_seconds = time.monotonic() - started

        def is_down() -> IconSample | None:
            sample = look()
            return sample if sample and sample.fractions["down"] >= 0.5 else None

        red = poll(is_down, timeout=30, step=0.3)
        assert red is not None, f"the icon never turned down-red: {look()}"
        down_seconds = time.monotonic() - started
        assert red.fractions["operational"] == 0
        w, h = red.box[2], red.box[3]
        assert 14 <= w <= 32 and 14 <= h <= 32, red.box  # an icon, not a smear

        down["now"] = False

        def is_operational() -> IconSample | None:
            sample = look()
            return sample if sample and sample.fractions["operational"] >= 0.5 else None

        green = poll(is_operational, timeout=30, step=0.3)
        assert green is not None, f"the icon never turned operational-green: {look()}"
        assert green.fractions["down"] == 0
        recovered_seconds = time.monotonic() - started
        print(
            f"\nfigures: icon visible {icon_seconds:.2f} s after launch, down-red at "
            f"{down_seconds:.2f} s, operational-green at {recovered_seconds:.2f} s"
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    log = (Path(os.environ["XDG_STATE_HOME"]) / "lifeline" / "log" / "lifeline.log").read_text()
    assert "tray icon: down" in log and "tray icon: operational" in log
    assert "notification: shop: Down" in log, log

"""Benchmark 5: seconds from a site going down to the `down` event, and back to `operational`.

`python -m bench.detection CYCLES` runs in its own process: an asyncio server on
127.0.0.1 whose /flip/K routes answer 200 or 503 at the flip of a flag, and Lifeline's
Monitor (interval = 1, retry_interval = 1, the default confirmation counts) watching one
site per cycle on it (a fresh site each time: repeated outages of one site would be, and
are, reported as flapping). Each cycle starts at a random phase of the check interval,
so the figures are what a user would see on average, not a lucky alignment. Prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, bench_env, free_port, log, median, run_process


async def _measure(cycles: int) -> dict[str, Any]:
    from app.config import load_config
    from app.events import SiteStateChanged
    from app.models import SiteState
    from app.monitor import Monitor
    from bench.delay_server import Site, load_summary, start
    from bench.sites import write_config

    site = Site(0.0, load_summary())
    port = free_port()
    server = await start(port, site)
    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        path = write_config(
            Path(tmp) / "config.toml", f"http://127.0.0.1:{port}", cycles,
            interval=1, retry_interval=1, timeout=2,
            paths=[f"/flip/{k}" for k in range(cycles)],
        )
        monitor = Monitor(load_config(path))
    changes: dict[str, asyncio.Queue[tuple[float, SiteState]]] = {
        f"site-{k:04d}": asyncio.Queue() for k in range(cycles)
    }

    def on_event(event: object) -> None:
        if isinstance(event, SiteStateChanged) and event.site in changes:
            changes[event.site].put_nowait((time.monotonic(), event.state))

    async def wait_for(k: int, state: SiteState, limit: float) -> float:
        while True:
            at, seen = await asyncio.wait_for(changes[f"site-{k:04d}"].get(), limit)
            if seen is state:
                return at

    monitor.subscribe(on_event)
    task = asyncio.create_task(monitor.run())
    down: list[float] = []
    up: list[float] = []
    try:
        for k in range(cycles):
            await wait_for(k, SiteState.OPERATIONAL, 30)
        for k in range(cycles):
            flag = str(k).encode()
            await asyncio.sleep(random.uniform(0.5, 1.5))
            site.down.add(flag)
            began = time.monotonic()
            down.append(await wait_for(k, SiteState.DOWN, 30) - began)
            await asyncio.sleep(random.uniform(0.5, 1.5))
            site.down.discard(flag)
            began = time.monotonic()
            up.append(await wait_for(k, SiteState.OPERATIONAL, 30) - began)
    finally:
        monitor.stop()
        try:
            await asyncio.wait_for(task, 15)
        finally:
            server.close()
    return {"down_s": down, "up_s": up}


def run(cycles: int) -> dict[str, Any]:
    log(f"detection: {cycles} outages and recoveries at interval 1 s")
    proc = run_process([PYTHON, "-m", "bench.detection", str(cycles)], env=bench_env(),
                       timeout=60 + 20 * cycles)
    raw = proc.json()
    return {
        "interval_s": 1,
        "retry_interval_s": 1,
        "cycles": cycles,
        "down_s": round(median(raw["down_s"]), 3),
        "down_max_s": round(max(raw["down_s"]), 3),
        "operational_s": round(median(raw["up_s"]), 3),
        "operational_max_s": round(max(raw["up_s"]), 3),
        "samples": raw,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_measure(int(sys.argv[1])))))

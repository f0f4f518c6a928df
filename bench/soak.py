"""Soak: `lifeline watch` over many sites at interval 1 for minutes, memory and history.

`python -m bench.soak [--duration 600] [--sites 100] [--flapping 10]`

The sites live on the bench's asyncio server in this process; `lifeline watch` runs as
its own process with its own (temporary) data dir, so its resident memory and its
history file are what a user's would be. A few sites go down and come back at random
moments throughout, so the history keeps growing (and flapping is detected) while the
rest stay healthy. Reports RSS after 1 minute and at the end, their ratio (target: the
end within 10 % of the first minute), the history file's size, and the events seen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, bench_env, free_port, log


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _size_kb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("history.sqlite3*")) / 1024


async def _soak(duration: float, sites: int, flapping: int) -> dict[str, Any]:
    from bench.delay_server import Site, load_summary, start
    from bench.sites import write_config

    site = Site(0.05, load_summary())
    port = free_port()
    server = await start(port, site)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        home = Path(tmp)
        config = write_config(
            home / "config.toml", f"http://127.0.0.1:{port}", sites,
            interval=1, retry_interval=1, timeout=2,
            paths=[f"/flip/{k}" for k in range(sites)],
        )
        env = bench_env(
            XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
            XDG_STATE_HOME=str(home / "state"), XDG_RUNTIME_DIR=str(home),
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app", "watch", "--config", str(config),
            "--json-lines", "--duration", str(duration),
            env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        events: dict[str, int] = {}

        async def read_events() -> None:
            assert proc.stdout is not None
            async for line in proc.stdout:
                kind = json.loads(line).get("event", "?")
                events[kind] = events.get(kind, 0) + 1

        async def flip() -> None:
            while True:
                await asyncio.sleep(rng.uniform(2, 8))
                k = str(rng.randrange(flapping)).encode()
                if k in site.down:
                    site.down.discard(k)
                else:
                    site.down.add(k)

        reader = asyncio.create_task(read_events())
        flipper = asyncio.create_task(flip())
        began = time.monotonic()
        samples: list[tuple[float, float]] = []
        try:
            while proc.returncode is None and time.monotonic() - began < duration - 2:
                await asyncio.sleep(1)
                samples.append((time.monotonic() - began, _rss_mb(proc.pid)))
        finally:
            flipper.cancel()
            await proc.wait()
            await reader
            server.close()
        history_kb = _size_kb(home / "data")
    first_minute = next((rss for at, rss in samples if at >= min(60, duration / 2)), 0.0)
    end = samples[-1][1] if samples else 0.0
    return {
        "duration_s": duration,
        "sites": sites,
        "flapping_sites": flapping,
        "rss_after_1min_mb": round(first_minute, 1),
        "rss_end_mb": round(end, 1),
        "rss_end_over_1min": round(end / first_minute, 3) if first_minute else None,
        "rss_max_mb": round(max(r for _, r in samples), 1) if samples else None,
        "history_kb": round(history_kb, 1),
        "events": events,
        "exit_code": proc.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--flapping", type=int, default=10)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = parser.parse_args()
    log(f"soak: {args.sites} sites at interval 1 for {args.duration:.0f} s")
    result = asyncio.run(_soak(args.duration, args.sites, args.flapping))
    result["machine_cores"] = os.cpu_count()
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Lifeline's check engine called in-process: `python -m bench.engine_inproc CONFIG`.

Prints {"wall", "cpu", "ok", "n", "rss_before_mb", "rss_after_mb", "max_rss_mb"}: wall and CPU
of run_check alone (imports and config parsing excluded, as for the floor scripts), the
resident memory before the check (interpreter, imports, config) and after it.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1024 / 1024


def main() -> None:
    from app.check import run_check
    from app.config import load_config
    from app.models import SiteState

    config = load_config(Path(sys.argv[1]))
    rss_before = _rss_mb()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    report = asyncio.run(run_check(config))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    probes_ok = sum(site.anonymous.ok + site.backend.ok for site in report.sites)
    operational = sum(site.state is SiteState.OPERATIONAL for site in report.sites)
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "ok": probes_ok,
                "n": 2 * len(report.sites),
                "operational": operational,
                "rss_before_mb": rss_before,
                "rss_after_mb": _rss_mb(),
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()

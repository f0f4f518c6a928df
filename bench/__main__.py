"""`python -m bench [--quick] [--only NAME ...]`: run the benchmarks, print a table, save JSON.

The six benchmarks of issue 7, in order: throughput, responsiveness, idle, startup,
detection, scale; then menu (issue 14: 300 sites in 12 groups) and window (issue 15: the
Lifeline window over 200 sites and 30 days of history). One that fails prints
one line and the others still run. Results go to bench/results/latest.json (written
atomically) with the machine they ran on; with --only, give --output elsewhere to keep
the full run there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import (
    detection,
    grouped_menu,
    idle,
    report,
    responsiveness,
    scale,
    startup,
    throughput,
    window,
)
from bench.common import ROOT, machine

NAMES = (
    "throughput", "responsiveness", "idle", "startup", "detection", "scale", "menu", "window"
)


def _plan(quick: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "throughput": lambda: throughput.run(reps=1 if quick else 5, engine=True),
        "responsiveness": lambda: responsiveness.run(reps=1 if quick else 2),
        "idle": lambda: idle.run(window=15 if quick else 120),
        "startup": lambda: startup.run(cold_runs=1 if quick else 2, warm_runs=2 if quick else 5),
        "detection": lambda: detection.run(cycles=2 if quick else 5),
        "scale": lambda: scale.run(reps=1 if quick else 3),
        "menu": lambda: grouped_menu.run(openings=11 if quick else 41),
        "window": lambda: window.run(openings=3 if quick else 5),
    }


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True)
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short repetition of each")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME",
                        help=f"run only these ({', '.join(NAMES)})")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "latest.json"))
    args = parser.parse_args(argv)

    plan = _plan(args.quick)
    results: dict[str, Any] = {
        "machine": machine(),
        "commit": _commit(),
        "mode": "quick" if args.quick else "full",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    began = time.perf_counter()
    for name in args.only or NAMES:
        print(f"[bench] {name}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            results[name] = plan[name]()
        except Exception as exc:  # one broken benchmark must not hide the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"[bench] {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc(limit=3, file=sys.stderr)
        results.setdefault("durations_s", {})[name] = round(time.perf_counter() - t0, 1)
    results["elapsed_s"] = round(time.perf_counter() - began, 1)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["verdicts"] = report.verdicts(results)

    out = args.output
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(results, handle, indent=1)
        handle.write("\n")
    os.replace(tmp, out)
    print(report.render(results))
    print(f"Results: {os.path.relpath(out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

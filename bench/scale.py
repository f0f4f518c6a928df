"""Benchmark 6: how a check's cost grows with sites (50, 500, 2,000) on the 50 ms server.

Each size runs bench.engine_inproc in a fresh process: wall and CPU of run_check, and
resident memory before the check and at its peak. Per-site figures are least-squares
slopes across the sizes, so the fixed cost (interpreter, imports) drops out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.common import PYTHON, Figures, bench_env, log, run_process
from bench.peers import delay_server
from bench.sites import write_config

SIZES = (50, 500, 2000)


def _slope(xs: list[float], ys: list[float]) -> float:
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den if den else float("nan")


def run(reps: int) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": {}}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, delay_server(0.05) as base:
        for size in SIZES:
            config = write_config(Path(tmp) / f"scale-{size}.toml", base, size)
            figures = Figures()
            # The largest size costs most; one run fewer keeps `make bench` under 10 minutes.
            runs = max(1, reps - 1) if size == max(SIZES) else reps
            for rep in range(runs):
                log(f"scale: {size} sites, repetition {rep + 1}/{runs}")
                proc = run_process([PYTHON, "-m", "bench.engine_inproc", str(config)],
                                   env=bench_env())
                inner = proc.json()
                if inner["ok"] < inner["n"]:
                    log(f"scale {size}: only {inner['ok']} of {inner['n']} probes succeeded")
                figures.add(
                    wall=inner["wall"],
                    cpu=inner["cpu"],
                    rss_before_mb=inner["rss_before_mb"],
                    peak_rss_mb=inner["max_rss_mb"],
                    rss_after_mb=inner["rss_after_mb"],
                    ok=inner["ok"],
                )
            results["sizes"][str(size)] = figures.summary()
    sizes = [float(size) for size in SIZES]
    rows = [results["sizes"][str(size)] for size in SIZES]
    results["per_site"] = {
        "cpu_ms": round(_slope(sizes, [r["cpu"] for r in rows]) * 1000, 3),
        "wall_ms": round(_slope(sizes, [r["wall"] for r in rows]) * 1000, 3),
        "peak_rss_kb": round(_slope(sizes, [r["peak_rss_mb"] for r in rows]) * 1024, 1),
        "config_rss_kb": round(_slope(sizes, [r["rss_before_mb"] for r in rows]) * 1024, 1),
    }
    # Linear means the cost per site at 2,000 is close to that at 500.
    small, large = results["sizes"]["500"], results["sizes"]["2000"]
    results["cpu_per_site_500_vs_2000"] = round(
        (large["cpu"] / 2000) / (small["cpu"] / 500), 3
    )
    return results

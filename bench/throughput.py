"""Benchmark 1: check throughput and cost, Lifeline beside its floor and its peers.

500 sites = 1000 probes, concurrency 100, fresh connections, in two regimes: nginx
answering at once (CPU-bound) and the asyncio server answering after 50 ms (like a site
across the internet: concurrency-bound). Contenders, run round-robin in each repetition
so drift on a shared machine hits them alike:

  lifeline (in-process)  run_check() timed inside its process (bench.engine_inproc)
  lifeline check         the `lifeline check --json` command, a whole process
  httpx2 floor           bare httpx2.AsyncClient + gather, timed inside / as a process
  aiohttp                the same script on aiohttp
  blackbox_exporter      /probe?target= at the same concurrency; its own CPU from psutil

"wall"/"cpu" are the requests alone (start-up excluded); "*_process" the whole process.
Ratios are taken within each repetition, then the median is reported.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

from bench.common import BIN, PYTHON, Figures, bench_env, log, median, run_process
from bench.peers import blackbox_exporter, delay_server, nginx
from bench.sites import probe_urls, write_config

SITES = 500
CONCURRENCY = 100

Runner = Callable[[], dict[str, float]]


def _lifeline_argv() -> list[str]:
    script = BIN / "lifeline"
    return [str(script)] if script.exists() else [PYTHON, "-m", "app"]


def _checked(name: str, figures: dict[str, float], n: int) -> dict[str, float]:
    if figures.get("ok", n) < n:
        log(f"{name}: only {figures['ok']:g} of {n} probes succeeded; its figures are suspect")
    return figures


def _script_runner(name: str, argv: list[str], n: int) -> Runner:
    def run() -> dict[str, float]:
        proc = run_process(argv, env=bench_env())
        inner = proc.json()
        return _checked(
            name,
            {
                "wall": inner["wall"],
                "cpu": inner["cpu"],
                "wall_process": proc.wall,
                "cpu_process": proc.cpu,
                "ok": inner["ok"],
            },
            n,
        )

    return run


def _check_runner(config: Path, n_sites: int) -> Runner:
    def run() -> dict[str, float]:
        proc = run_process([*_lifeline_argv(), "check", "--config", str(config), "--json"],
                           env=bench_env())
        try:
            report = json.loads(proc.stdout)
            operational = sum(s["state"] == "operational" for s in report["sites"])
        except (ValueError, KeyError, TypeError):
            raise RuntimeError(
                f"lifeline check gave no JSON report (exit {proc.returncode}): "
                f"{proc.stderr.strip()[-300:]}"
            ) from None
        if operational < n_sites:
            log(f"lifeline check: {operational} of {n_sites} sites operational; suspect figures")
        return {"wall_process": proc.wall, "cpu_process": proc.cpu, "operational": operational}

    return run


def _blackbox_runner(exporter: str, pid: int, urls: Path, n: int) -> Runner:
    process = psutil.Process(pid)
    argv = [PYTHON, "-m", "bench.drive_blackbox", exporter, str(urls), str(CONCURRENCY)]

    def run() -> dict[str, float]:
        before = process.cpu_times()
        proc = run_process(argv, env=bench_env())
        after = process.cpu_times()
        inner = proc.json()
        own = (after.user - before.user) + (after.system - before.system)
        return _checked(
            "blackbox_exporter",
            {"wall": inner["wall"], "cpu": own, "driver_cpu": inner["cpu"], "ok": inner["ok"]},
            n,
        )

    return run


def _ratios(rep: dict[str, dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}

    def ratio(key: str, a: str, b: str, field_a: str, field_b: str | None = None) -> None:
        if a in rep and b in rep and rep[b].get(field_b or field_a):
            out[key] = rep[a][field_a] / rep[b][field_b or field_a]

    ratio("engine_vs_httpx2_wall", "lifeline", "httpx2", "wall")
    ratio("engine_vs_httpx2_cpu", "lifeline", "httpx2", "cpu")
    ratio("check_vs_httpx2_wall_process", "lifeline check", "httpx2", "wall_process")
    ratio("check_vs_httpx2_cpu_process", "lifeline check", "httpx2", "cpu_process")
    ratio("engine_vs_aiohttp_cpu", "lifeline", "aiohttp", "cpu")
    ratio("engine_vs_aiohttp_wall", "lifeline", "aiohttp", "wall")
    ratio("engine_vs_blackbox_wall", "lifeline", "blackbox_exporter", "wall")
    ratio("engine_vs_blackbox_cpu", "lifeline", "blackbox_exporter", "cpu")
    # The floor itself against the peer: how much of the gap is httpx2's, not Lifeline's.
    ratio("httpx2_vs_blackbox_wall", "httpx2", "blackbox_exporter", "wall")
    ratio("aiohttp_vs_blackbox_wall", "aiohttp", "blackbox_exporter", "wall")
    return out


def _regime(name: str, base: str, blackbox: tuple[str, int] | None, reps: int,
            engine: bool, tmp: Path) -> dict[str, Any]:
    config = write_config(tmp / f"{name}.toml", base, SITES, concurrency=CONCURRENCY)
    urls = probe_urls(tmp / f"{name}-urls.txt", base, SITES)
    n = 2 * SITES
    runners: dict[str, Runner] = {}
    if engine:
        runners["lifeline"] = _script_runner(
            "lifeline", [PYTHON, "-m", "bench.engine_inproc", str(config)], n
        )
        runners["lifeline check"] = _check_runner(config, SITES)
    runners["httpx2"] = _script_runner(
        "httpx2", [PYTHON, "-m", "bench.floor_httpx2", str(urls), str(CONCURRENCY)], n
    )
    runners["aiohttp"] = _script_runner(
        "aiohttp", [PYTHON, "-m", "bench.floor_aiohttp", str(urls), str(CONCURRENCY)], n
    )
    if blackbox is not None:
        runners["blackbox_exporter"] = _blackbox_runner(*blackbox, urls, n)

    figures = {contender: Figures() for contender in runners}
    ratios: list[dict[str, float]] = []
    for rep in range(reps):
        log(f"throughput [{name}] repetition {rep + 1}/{reps}")
        this: dict[str, dict[str, float]] = {}
        for contender, run in runners.items():
            try:
                this[contender] = run()
            except RuntimeError as exc:
                log(f"{contender}: {exc}")
                continue
            figures[contender].add(**this[contender])
        ratios.append(_ratios(this))
    keys = sorted({key for r in ratios for key in r})
    return {
        "contenders": {c: f.summary() for c, f in figures.items() if f.runs},
        "ratios": {k: round(median([r[k] for r in ratios if k in r]), 3) for k in keys},
        "per_probe_cpu_ms": {
            c: round(f.median("cpu") / n * 1000, 3) for c, f in figures.items() if f.runs
            and c != "lifeline check"
        },
    }


def run(reps: int, engine: bool) -> dict[str, Any]:
    results: dict[str, Any] = {"sites": SITES, "probes": 2 * SITES, "concurrency": CONCURRENCY}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tp-")))
        blackbox = stack.enter_context(blackbox_exporter())
        if blackbox is None:
            results["blackbox_exporter"] = "skipped: not installed and not installable here"
        base = stack.enter_context(delay_server(0.05))
        results["delay_50ms"] = _regime("delay_50ms", base, blackbox, reps, engine, tmp)
        nginx_base = stack.enter_context(nginx())
        if nginx_base is None:
            results["instant"] = "skipped: nginx not installed and not installable here"
        else:
            results["instant"] = _regime("instant", nginx_base, blackbox, reps, engine, tmp)
    return results

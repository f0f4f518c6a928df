"""The bench's results as a table (terminal or Markdown) and the verdict on each target.

`python -m bench.report [--markdown] [RESULTS_JSON]` reprints a saved run
(bench/results/latest.json by default). `--update docs/performance.md` rewrites the part
of that file between the bench markers with the run's Markdown, so the published table
is always one real run.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

LATEST = Path(__file__).resolve().parent / "results" / "latest.json"
BEGIN = "<!-- bench:results:begin (python -m bench.report --update) -->"
END = "<!-- bench:results:end -->"


def _f(value: Any, digits: int = 2, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int | float):
        return f"{value:.{digits}f}{unit}"
    return str(value)


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 7: the figure measured, the bound, and whether it was met."""
    out: list[dict[str, Any]] = []

    def add(target: str, value: Any, bound: float, *, below: bool = True) -> None:
        if not isinstance(value, int | float) or math.isnan(value):
            out.append({"target": target, "value": None, "bound": bound, "met": None})
            return
        met = value <= bound if below else value > bound
        out.append({"target": target, "value": round(value, 3), "bound": bound, "met": met})

    tp = results.get("throughput", {})
    for regime, label in (("delay_50ms", "50 ms server"), ("instant", "nginx")):
        ratios = tp.get(regime, {}).get("ratios", {}) if isinstance(tp.get(regime), dict) else {}
        add(f"engine wall / httpx2 floor ({label}) <= 1.25", ratios.get("engine_vs_httpx2_wall"),
            1.25)
        add(f"engine CPU / httpx2 floor ({label}) <= 1.25", ratios.get("engine_vs_httpx2_cpu"),
            1.25)
        add(f"`lifeline check` wall / httpx2 process ({label}) <= 1.25",
            ratios.get("check_vs_httpx2_wall_process"), 1.25)
        add(f"`lifeline check` CPU / httpx2 process ({label}) <= 1.25",
            ratios.get("check_vs_httpx2_cpu_process"), 1.25)
        add(f"engine wall / blackbox_exporter ({label}) < 1 (ahead)",
            ratios.get("engine_vs_blackbox_wall"), 1.0)
        # Issue 17: the probes at the cost of Python's fastest stack.
        add(f"engine CPU / aiohttp floor ({label}) <= 1.5",
            ratios.get("engine_vs_aiohttp_cpu"), 1.5)
    gui = results.get("responsiveness", {})
    add("GUI: longest heartbeat gap < 30 ms", gui.get("worst_gap_ms"), 30)
    add("GUI: p99 heartbeat gap < 10 ms", gui.get("p99_gap_ms"), 10)
    idle = results.get("idle", {})
    add("idle: resident memory < 90 MB", idle.get("rss_mb"), 90)
    quiet = idle.get("between_checks", {})
    add("idle: CPU < 0.5 % of one core, averaged incl. checks", idle.get("cpu_percent"), 0.5)
    add("idle: CPU < 0.5 % of one core, between checks", quiet.get("cpu_percent"), 0.5)
    add("idle: wakeups < 1 per second, averaged incl. checks", idle.get("wakeups_per_s"), 1)
    add("idle: wakeups < 1 per second, between checks", quiet.get("wakeups_per_s"), 1)
    start = results.get("startup", {}).get("source", {})
    if isinstance(start, dict):
        add("start-up from source (warm) < 1 s", start.get("warm", {}).get("to_icon_s"), 1.0)
        add("start-up from source (cold) < 1 s", start.get("cold", {}).get("to_icon_s"), 1.0)
    scale = results.get("scale", {})
    add("scale: CPU per site at 2,000 vs 500 < 1.25 (linear)",
        scale.get("cpu_per_site_500_vs_2000"), 1.25)
    menu = results.get("menu")
    if isinstance(menu, dict):  # a run from before this benchmark has no verdict on it
        add("menu: 300 sites in 12 groups opens in < 50 ms (median)",
            menu.get("menu_rebuild_open_ms_median"), 50)
    win = results.get("window")
    if isinstance(win, dict):
        add("window: 200 sites x 30 days, first paint < 300 ms (median)",
            win.get("first_paint_ms_median"), 300)
        add("window: strips painted < 300 ms (median)", win.get("strips_painted_ms_median"), 300)
        add("window: longest heartbeat gap while reading and scrolling <= 30 ms",
            win.get("heartbeat_longest_gap_ms"), 30.001)
    return out


def _throughput_rows(tp: dict[str, Any], md: bool) -> list[list[str]]:
    rows: list[list[str]] = []
    for regime, label in (("delay_50ms", "50 ms server"), ("instant", "nginx (at once)")):
        data = tp.get(regime)
        if not isinstance(data, dict):
            rows.append([label, f"skipped: {data}", "", "", "", ""])
            continue
        for name, fig in data["contenders"].items():
            per_probe = data["per_probe_cpu_ms"].get(name)
            rows.append([
                label, name, _f(fig.get("wall")), _f(fig.get("cpu")),
                f"{_f(fig.get('wall_process'))} / {_f(fig.get('cpu_process'))}",
                _f(per_probe, 2),
            ])
    return rows


def render(results: dict[str, Any], *, markdown: bool = False) -> str:
    lines: list[str] = []

    def table(title: str, header: list[str], rows: list[list[str]]) -> None:
        if markdown:
            lines.append(f"**{title.strip()}**\n")
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines.extend("| " + " | ".join(r) + " |" for r in rows)
            lines.append("")
            return
        widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
        lines.append(title)
        for row in [header, *rows]:
            lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths,
                                                                           strict=False)))
        lines.append("")

    m = results.get("machine", {})
    lines.append(
        f"Machine: {m.get('cores')} cores, {m.get('memory_gib')} GiB, {m.get('cpu', '')}; "
        f"Python {m.get('python')}; {results.get('mode', '')} run of "
        f"{results.get('elapsed_s', 0):.0f} s at {results.get('finished_at', '')}\n"
    )
    tp = results.get("throughput")
    if isinstance(tp, dict) and "error" not in tp:
        table(
            f"1. Check throughput: {tp['sites']} sites = {tp['probes']} probes, "
            f"concurrency {tp['concurrency']}, fresh connections (medians)",
            ["server", "contender", "wall s", "CPU s", "process wall / CPU s", "CPU ms/probe"],
            _throughput_rows(tp, markdown),
        )
        ratio_rows = []
        for regime, label in (("delay_50ms", "50 ms"), ("instant", "nginx")):
            data = tp.get(regime)
            if isinstance(data, dict):
                r = data["ratios"]
                ratio_rows.append([
                    label,
                    _f(r.get("engine_vs_httpx2_wall")), _f(r.get("engine_vs_httpx2_cpu")),
                    _f(r.get("check_vs_httpx2_wall_process")),
                    _f(r.get("check_vs_httpx2_cpu_process")),
                    _f(r.get("engine_vs_blackbox_wall")), _f(r.get("engine_vs_blackbox_cpu")),
                    _f(r.get("engine_vs_aiohttp_cpu")),
                    _f(r.get("httpx2_vs_blackbox_wall")),
                    _f(r.get("aiohttp_vs_blackbox_wall")),
                ])
        table(
            "   Ratios (median of per-repetition ratios; < 1 is faster)",
            ["server", "engine/httpx2 wall", "engine/httpx2 CPU", "check/httpx2 wall (proc)",
             "check/httpx2 CPU (proc)", "engine/blackbox wall", "engine/blackbox CPU",
             "engine/aiohttp CPU", "httpx2 floor/blackbox wall",
             "aiohttp floor/blackbox wall"],
            ratio_rows,
        )
    gui = results.get("responsiveness")
    if isinstance(gui, dict) and "error" not in gui:
        ctl = gui.get("control_check_in_other_process", {})
        table(
            f"2. GUI responsiveness: {gui.get('sites')} sites ({gui.get('hanging')} hang, "
            f"{gui.get('big_bodies')} x 64 MiB), 5 ms heartbeat, {gui.get('runs')} runs",
            ["longest gap ms (worst)", "p99 ms", "p50 ms", "gaps > 30 ms",
             "control: check in another process, longest / p99 ms",
             "machine alone: longest / p99 ms", "GUI thread's own CPU in one gap, max ms",
             "200-site menu rebuild ms"],
            [[_f(gui.get("worst_gap_ms"), 1), _f(gui.get("p99_gap_ms"), 1),
              _f(gui.get("p50_gap_ms"), 1), _f(gui.get("gaps_over_30ms"), 0),
              f"{_f(ctl.get('worst_gap_ms'), 1)} / {_f(ctl.get('p99_gap_ms'), 1)}",
              f"{_f(gui.get('baseline_longest_gap_ms'), 1)} / "
              f"{_f(gui.get('baseline_p99_gap_ms'), 1)}",
              _f(gui.get("gui_cpu_longest_ms"), 1),
              _f(gui.get("menu_rebuild_ms"), 0)]],
        )
    idle = results.get("idle")
    if isinstance(idle, dict) and "error" not in idle:
        quiet = idle.get("between_checks", {})
        table(
            f"3. Idle footprint: {idle.get('sites')} sites, interval {idle.get('interval_s')} s, "
            f"{idle.get('window_s')} s window ({idle.get('display')})",
            ["RSS MB", "of which anon / file MB", "CPU % (all)", "wakeups/s (all)",
             "CPU % between checks",
             "wakeups/s between checks", "CPU s per check", "threads"],
            [[_f(idle.get("rss_mb"), 1),
              f"{_f(idle.get('rss_anon_mb'), 1)} / {_f(idle.get('rss_file_mb'), 1)}",
              _f(idle.get("cpu_percent"), 3), _f(idle.get("wakeups_per_s"), 2),
              _f(quiet.get("cpu_percent"), 3), _f(quiet.get("wakeups_per_s"), 2),
              _f(idle.get("cpu_s_per_check"), 2), _f(idle.get("threads"), 0)]],
        )
    start = results.get("startup")
    if isinstance(start, dict) and "error" not in start and "skipped" not in start:
        rows = []
        for build in ("source", "frozen"):
            data = start.get(build)
            if not isinstance(data, dict):
                rows.append([build, str(data), "", ""])
                continue
            for kind in ("cold", "warm"):
                fig = data.get(kind, {})
                rows.append([build, kind, _f(fig.get("to_icon_s")),
                             _f(fig.get("app_reported_s"))])
        table("4. Start-up to tray icon shown (median)",
              ["build", "cache", "process start -> icon s", "app's own figure s"], rows)
    elif isinstance(start, dict):
        lines.append(f"4. Start-up: {start.get('skipped') or start.get('error')}\n")
    det = results.get("detection")
    if isinstance(det, dict) and "error" not in det:
        table(
            f"5. Detection latency: interval {det.get('interval_s')} s, retry_interval "
            f"{det.get('retry_interval_s')} s, {det.get('cycles')} outages",
            ["site down -> `down` s (median / max)", "recovery -> `operational` s (median / max)"],
            [[f"{_f(det.get('down_s'))} / {_f(det.get('down_max_s'))}",
              f"{_f(det.get('operational_s'))} / {_f(det.get('operational_max_s'))}"]],
        )
    scale = results.get("scale")
    if isinstance(scale, dict) and "error" not in scale:
        rows = []
        for size, fig in scale["sizes"].items():
            rows.append([size, _f(fig.get("wall")), _f(fig.get("cpu")),
                         _f(fig.get("rss_before_mb"), 1), _f(fig.get("peak_rss_mb"), 1)])
        per = scale["per_site"]
        rows.append(["per site (slope)", f"{_f(per['wall_ms'], 2)} ms",
                     f"{_f(per['cpu_ms'], 2)} ms", f"{_f(per['config_rss_kb'], 1)} KB",
                     f"{_f(per['peak_rss_kb'], 1)} KB"])
        table("6. Scale: one check on the 50 ms server (median)",
              ["sites", "wall s", "CPU s", "RSS before check MB", "peak RSS MB"], rows)
    menu = results.get("menu")
    if isinstance(menu, dict) and "error" not in menu:
        table(
            f"7. Tray menu: {menu.get('sites')} sites in {menu.get('groups')} groups, "
            f"{menu.get('openings')} openings each, {menu.get('platform')} (median / max ms)",
            ["open (in place)", "open, menu rebuilt first", "open one group's submenu"],
            [[f"{_f(menu.get('menu_open_ms_median'))} / {_f(menu.get('menu_open_ms_max'))}",
              f"{_f(menu.get('menu_rebuild_open_ms_median'))} / "
              f"{_f(menu.get('menu_rebuild_open_ms_max'))}",
              f"{_f(menu.get('group_open_ms_median'))} / {_f(menu.get('group_open_ms_max'))}"]],
        )
    win = results.get("window")
    if isinstance(win, dict) and "error" not in win:
        phases = win.get("longest_gap_ms_by_phase", {})
        table(
            f"8. Lifeline window: {win.get('sites')} sites x {win.get('days')} days "
            f"({win.get('history_mib')} MiB of history), {win.get('platform')}",
            ["first paint ms (median / max)", "strips painted ms", "all 200 read ms",
             "30 d range ms", "heartbeat longest / p99 ms", "machine alone: longest ms"],
            [[f"{_f(win.get('first_paint_ms_median'))} / {_f(win.get('first_paint_ms_max'))}",
              f"{_f(win.get('strips_painted_ms_median'))} / "
              f"{_f(win.get('strips_painted_ms_max'))}",
              _f(win.get("all_read_ms_median"), 0), _f(win.get("range_30d_ms"), 0),
              f"{_f(win.get('heartbeat_longest_gap_ms'))} / {_f(win.get('heartbeat_p99_ms'))}",
              _f(phases.get("machine alone"))]],
        )
    for name in ("throughput", "responsiveness", "idle", "startup", "detection", "scale",
                 "menu", "window"):
        data = results.get(name)
        if isinstance(data, dict) and "error" in data:
            lines.append(f"{name}: FAILED: {data['error']}\n")
    checks = verdicts(results)
    rows = [[v["target"], _f(v["value"], 3),
             {True: "met", False: "NOT MET", None: "not measured"}[v["met"]]] for v in checks]
    table("Targets", ["target", "measured", "verdict"], rows)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", nargs="?", type=Path, default=LATEST)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--update", type=Path, metavar="DOC",
                        help="replace the results between the bench markers in DOC")
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    if args.update is None:
        print(render(results, markdown=args.markdown))
        return
    text = args.update.read_text()
    head, found, rest = text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{args.update}: no {BEGIN} ... {END} markers")
    args.update.write_text(f"{head}{BEGIN}\n{render(results, markdown=True)}\n{END}{tail}")


if __name__ == "__main__":
    main()

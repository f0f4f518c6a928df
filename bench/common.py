"""What every benchmark shares: child processes measured by wall and CPU, medians, the machine."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
STATUSPAGE_FIXTURE = ROOT / "tests" / "data" / "statuspage" / "summary-operational.json"


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


@dataclass
class ProcessRun:
    """One child process: wall from spawn to exit, CPU (user+sys) from wait4's rusage."""

    wall: float
    cpu: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        """The last stdout line, where the bench scripts print their own figures."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"no JSON from child (exit {self.returncode}): {self.stderr[-400:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        return result


def run_process(
    argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 300.0
) -> ProcessRun:
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-out.txt"
    err_path = out_path.with_suffix(".err")
    with out_path.open("w+") as out, err_path.open("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, cwd=ROOT)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    return ProcessRun(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def bench_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class Figures:
    """Several runs of one contender: each figure kept, medians reported."""

    runs: list[dict[str, float]] = field(default_factory=list)
    note: str = ""

    def add(self, **values: float) -> None:
        self.runs.append(values)

    def median(self, key: str) -> float:
        return median([run[key] for run in self.runs if key in run])

    def summary(self) -> dict[str, Any]:
        keys = sorted({key for run in self.runs for key in run})
        out: dict[str, Any] = {key: round(self.median(key), 4) for key in keys}
        out["runs"] = len(self.runs)
        out["each"] = {key: [round(run[key], 3) for run in self.runs if key in run]
                       for key in keys if key in ("wall", "cpu", "wall_process", "cpu_process",
                                                  "longest_gap_ms", "to_icon_s")}
        if self.note:
            out["note"] = self.note
        return out


def machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def ensure_debian_package(binary: str, package: str) -> str | None:
    """The path of `binary`, installing `package` with apt-get when root and it is missing."""
    found = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    log(f"installing {package} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
    ):
        if subprocess.run(argv, env=env, capture_output=True).returncode != 0:
            return None
    return shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )


@contextmanager
def background(argv: Sequence[str], *, env: dict[str, str] | None = None,
               ready: Callable[[], None] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A helper process (a server) for the length of a block; always stopped after."""
    proc = subprocess.Popen(
        list(argv), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        if ready is not None:
            try:
                ready()
            except Exception:
                proc.kill()
                _, err = proc.communicate(timeout=5)
                raise RuntimeError(
                    f"{argv[0]} did not start: {err.decode(errors='replace')[-400:]}"
                ) from None
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr:
            proc.stderr.close()

"""`lifeline --demo`: a simulated host on 127.0.0.1, so a new user sees every state at once.

One small HTTP server plays three parts: a Statuspage (`/status/api/v2/summary.json` in
the documented v2 schema), three sites (`/sites/<name>/`, answering visitors and, with
the cookie NO_CACHE=1, the cache-bypassing backend probe as Pantheon's edge would), and
a dashboard page. Every `phase_seconds` it moves on:

    operational -> degraded (shop is slow) -> editors_blocked (shop: cache hit for
    visitors, 503 from the origin) -> down (shop: a 502 error page; blog: editors
    blocked) -> maintenance (the platform) -> operational ...

The demo config confirms on the first bad check and checks every two seconds, so each
phase shows up in the tray within a few seconds. Qt-free; the server runs on its own
threads and `stop()` ends them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from app.config import Config, MonitorConfig, ProviderConfig, SiteConfig, save_config

PHASES = ("operational", "degraded", "editors_blocked", "down", "maintenance")
SITES = ("shop", "blog", "docs")

# The demo's monitor: fast enough to see each phase within its few seconds.
# A busy machine can take a second to answer on loopback: keep a margin both ways.
SLOW = 1.5  # seconds: a response slower than this is "degraded"
SLOW_DELAY = 2.5  # how long the slow site takes in the degraded phase
DEMO_MONITOR = MonitorConfig(
    interval=2.0,
    timeout=5.0,
    slow=SLOW,
    retries=0,
    failures_to_alert=1,
    successes_to_recover=1,
    retry_interval=1.0,
    # The demo changes state on purpose every few seconds; that is not flapping.
    flap_threshold=0.99,
    remind_every=0.0,
)

# What each site does in each phase: "ok", "slow", "blocked" (visitors get a cached page,
# the origin fails), "down" (visitors get an error page).
BEHAVIOUR: dict[str, dict[str, str]] = {
    "operational": {},
    "degraded": {"shop": "slow"},
    "editors_blocked": {"shop": "blocked"},
    "down": {"shop": "down", "blog": "blocked"},
    "maintenance": {},
}


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float = 0.0


class Demo:
    """A running simulator. Use `.config` as the app's config; call `.stop()` when done."""

    def __init__(
        self,
        data_dir: Path,
        *,
        phase_seconds: float,
        clock: Callable[[], float],
        owns_dir: bool = False,
    ) -> None:
        if phase_seconds <= 0:
            raise ValueError("phase_seconds must be positive")
        self.phase_seconds = phase_seconds
        self._clock = clock
        self._started = clock()
        self._stopping = threading.Event()
        self._owned_dir = data_dir if owns_dir else None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.config_path = data_dir / "demo-config.toml"
        self.config = _demo_config(self.url, self.config_path)
        # A real file, so anything that reads or edits the config works as usual.
        save_config(self.config, self.config_path)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="lifeline-demo", daemon=True
        )
        self._thread.start()

    # -- the cycle -------------------------------------------------------------------

    @property
    def phase(self) -> str:
        elapsed = max(0.0, self._clock() - self._started)
        return PHASES[int(elapsed // self.phase_seconds) % len(PHASES)]

    def behaviour(self, site: str, phase: str | None = None) -> str:
        return BEHAVIOUR[phase or self.phase].get(site, "ok")

    # -- lifetime --------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving and wake any answer that is waiting out its delay."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)

    def __enter__(self) -> Demo:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- answers ---------------------------------------------------------------------

    def answer(self, path: str, cookie: str) -> _Answer:
        phase = self.phase
        parts = [p for p in urlsplit(path).path.split("/") if p]
        if parts[:3] == ["status", "api", "v2"] and parts[3:] == ["summary.json"]:
            return _json(summary(phase, self.url))
        if parts[:1] == ["status"]:
            return _html(200, "Demo host status", f"<p>The platform is {_platform(phase)}.</p>")
        if parts[:1] == ["dashboard"]:
            return _html(200, "Demo dashboard", "<p>This is the demo host's dashboard.</p>")
        if len(parts) >= 2 and parts[0] == "sites" and parts[1] in SITES:
            backend = "NO_CACHE=1" in cookie.replace(" ", "").split(";")
            return site_answer(parts[1], self.behaviour(parts[1], phase), backend=backend)
        return _html(404, "404 Not Found", "<p>Nothing here.</p>")

    def wait(self, seconds: float) -> bool:
        """Sleep for a slow answer; True when the demo is stopping instead."""
        return self._stopping.wait(seconds)


def start_demo(
    data_dir: Path,
    *,
    phase_seconds: float = 8.0,
    clock: Callable[[], float] = time.monotonic,
) -> Demo:
    """Start the simulator on 127.0.0.1 (a free port) and write its config into data_dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return Demo(data_dir, phase_seconds=phase_seconds, clock=clock)


def start(
    data_dir: Path | None = None,
    *,
    phase_seconds: float = 8.0,
    clock: Callable[[], float] = time.monotonic,
) -> Demo:
    """Like start_demo; without data_dir, in a temporary folder that stop() removes."""
    if data_dir is not None:
        return start_demo(data_dir, phase_seconds=phase_seconds, clock=clock)
    folder = Path(tempfile.mkdtemp(prefix="lifeline-demo-"))
    try:
        return Demo(folder, phase_seconds=phase_seconds, clock=clock, owns_dir=True)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _demo_config(base: str, path: Path) -> Config:
    sites = tuple(
        SiteConfig(
            name=name,
            url=f"{base}/sites/{name}/",
            backend_url=f"{base}/sites/{name}/user/login",
            dashboard_url=f"{base}/dashboard/sites/{name}",
        )
        for name in SITES
    )
    return Config(
        provider=ProviderConfig(
            name="Demo host",
            status_page=f"{base}/status",
            hotline="+1 555 0100 (demo)",
            dashboard=f"{base}/dashboard",
        ),
        monitor=DEMO_MONITOR,
        sites=sites,
        source=str(path),
    )


# --------------------------------------------------------------------------- the sites


def _edge_headers(*, cache: str, age: int) -> dict[str, str]:
    # What Pantheon's edge (Fastly in front of Styx) adds; the probes read these.
    return {
        "Age": str(age),
        "X-Cache": cache,
        "X-Cache-Hits": "0" if cache.endswith("MISS") else "3",
        "X-Served-By": "cache-demo-1, cache-demo-2",
        "X-Pantheon-Styx-Hostname": "styx-demo-1",
        "X-Styx-Req-Id": uuid.uuid4().hex,
    }


def site_answer(site: str, behaviour: str, *, backend: bool) -> _Answer:
    """One site's answer to a visitor (cache allowed) or to the backend probe."""
    page = f"<h1>{site}</h1><p>A page of the demo site {site!r}.</p>"
    if behaviour == "down":
        return _html(
            502,
            "502 Bad Gateway - Unable to connect to PHP backend",
            "<h1>502 Bad Gateway</h1><p>The web server could not reach the PHP backend "
            "(an imitation of a Pantheon error page).</p>",
            _edge_headers(cache="MISS, MISS", age=0),
        )
    if behaviour == "blocked":
        if backend:
            return _html(
                503,
                # Not "Database not Responding": Pantheon's catalogue marks that page
                # platform-side, and this phase shows a failure of the site's own origin.
                "503 Service Unavailable - Backend Fetch Failed",
                "<h1>503 Service Unavailable</h1><p>Backend fetch failed.</p>",
                _edge_headers(cache="MISS, MISS", age=0),
            )
        return _html(200, site, page, _edge_headers(cache="MISS, HIT", age=412))
    delay = SLOW_DELAY if behaviour == "slow" else 0.0
    if backend:
        return _html(200, f"Log in | {site}", page, _edge_headers(cache="MISS, MISS", age=0),
                     delay=delay)
    return _html(200, site, page, _edge_headers(cache="MISS, HIT", age=37), delay=delay)


def _html(
    status: int,
    title: str,
    body: str,
    headers: dict[str, str] | None = None,
    *,
    delay: float = 0.0,
) -> _Answer:
    doc = (
        f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>"
        f"<body>{body}</body></html>"
    )
    return _Answer(
        status,
        doc.encode("utf-8"),
        {"Content-Type": "text/html; charset=utf-8", **(headers or {})},
        delay,
    )


def _json(data: Any) -> _Answer:
    return _Answer(
        200,
        json.dumps(data).encode("utf-8"),
        {"Content-Type": "application/json", "Cache-Control": "max-age=0"},
    )


# --------------------------------------------------------------------------- the status page


def _platform(phase: str) -> str:
    return "under maintenance" if phase == "maintenance" else "operational"


def summary(phase: str, base: str) -> dict[str, Any]:
    """A Statuspage v2 summary.json for the phase (schema: tests/data/statuspage/README)."""
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.isoformat().replace("+00:00", "Z")
    maintenance = phase == "maintenance"
    names = ("Dashboard", "Site traffic", "Code deploys", "Database")

    def component(position: int, name: str) -> dict[str, Any]:
        status = "under_maintenance" if maintenance and name == "Database" else "operational"
        return {
            "id": f"demo{position:08d}",
            "name": name,
            "status": status,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": stamp,
            "position": position,
            "description": None,
            "showcase": True,
            "group_id": None,
            "page_id": "demohost0001",
            "group": False,
            "only_show_if_degraded": False,
        }

    maintenances: list[dict[str, Any]] = []
    if maintenance:
        maintenances.append(
            {
                "id": "demomaint001",
                "name": "Database infrastructure upgrade (demo)",
                "status": "in_progress",
                "impact": "maintenance",
                "shortlink": f"{base}/status/",
                "created_at": stamp,
                "updated_at": stamp,
                "started_at": stamp,
                "scheduled_for": stamp,
                "scheduled_until": (now + timedelta(minutes=30)).isoformat().replace(
                    "+00:00", "Z"
                ),
                "page_id": "demohost0001",
                "incident_updates": [
                    {
                        "id": "demoupdate01",
                        "status": "in_progress",
                        "body": "Scheduled maintenance is currently in progress.",
                        "created_at": stamp,
                    }
                ],
            }
        )
    return {
        "page": {
            "id": "demohost0001",
            "name": "Demo host",
            "url": f"{base}/status/",
            "time_zone": "Etc/UTC",
            "updated_at": stamp,
        },
        "components": [component(i + 1, n) for i, n in enumerate(names)],
        "incidents": [],
        "scheduled_maintenances": maintenances,
        "status": {
            "indicator": "maintenance" if maintenance else "none",
            "description": (
                "Service Under Maintenance" if maintenance else "All Systems Operational"
            ),
        },
    }


# --------------------------------------------------------------------------- HTTP


def _handler_for(demo: Demo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "LifelineDemo/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: it is a demo
            pass

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def _serve(self, *, send_body: bool) -> None:
            answer = demo.answer(self.path, self.headers.get("Cookie", ""))
            if answer.delay and demo.wait(answer.delay):
                self.close_connection = True
                return
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler

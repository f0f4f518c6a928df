"""The monitor against real HTTP servers on 127.0.0.1 whose behaviour changes over time.

Real probes and a real status page read (app.probes, app.statuspage) over TCP; only the
clock is fake, so a hundred checks take a couple of seconds instead of hours: each test
drives the monitor's own `tick()` and moves the clock to when it says the next round is
due, exactly as `run()` does with a real clock.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from app.config import Config, MonitorConfig, ProviderConfig, SiteConfig
from app.events import Event, NetworkChanged, Reminder, SiteStateChanged
from app.history import History
from app.models import SiteState
from app.monitor import Monitor
from app.probes import ProbeOptions
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply, Request, free_port
from tests.test_monitor import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def status_page(make_server: object) -> LoopbackServer:
    srv: LoopbackServer = make_server()  # type: ignore[operator]
    srv.route("/api/v2/summary.json", Reply.json(summary_payload()))
    return srv


class Switchable:
    """A site whose answer the test flips between checks: up (200) or down (503)."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.up = True
        server.route("*", self.answer)

    def answer(self, request: Request) -> Reply:
        if self.up:
            return Reply(200, "<title>Shop</title>", {"X-Styx-Req-Id": "req-ok"})
        return Reply(503, "<title>503 Service Unavailable</title>", {"X-Styx-Req-Id": "req-503"})


class OneInThree:
    """Fails every third request it receives (a lossy load balancer, a sick worker)."""

    def __init__(self, server: LoopbackServer) -> None:
        self.count = itertools.count(1)
        self.lock = threading.Lock()
        self.failed = 0
        server.route("*", self.answer)

    def answer(self, request: Request) -> Reply:
        with self.lock:
            n = next(self.count)
        if n % 3 == 0:
            self.failed += 1
            return Reply(502, "<title>502 Bad Gateway</title>")
        return Reply(200, "<title>ok</title>")


def _config(status_url: str, *sites: tuple[str, str], **monitor: float) -> Config:
    return Config(
        provider=ProviderConfig(status_page=status_url),
        monitor=MonitorConfig(**{"interval": 60.0, "retry_interval": 10.0, **monitor}),  # type: ignore[arg-type]
        sites=tuple(SiteConfig(name, url) for name, url in sites),
    )


class Driver:
    def __init__(self, config: Config, history: History | None = None) -> None:
        self.clock = FakeClock()
        self.events: list[Event] = []
        self.monitor = Monitor(
            config,
            history=history,
            options=ProbeOptions(timeout=2.0, retries=1),
            clock=self.clock,
        )
        self.monitor.subscribe(self.events.append)

    async def check(self, site: str) -> None:
        """Advance to, and run, the next round that checks `site`."""
        for _ in range(10):
            before = self.monitor.snapshot().site(site)
            checked = before.last_checked if before else None
            delay = await self.monitor.tick()
            after = self.monitor.snapshot().site(site)
            self.clock.advance(delay)
            if after is not None and after.last_checked != checked:
                return
        raise AssertionError(f"{site} was not checked")

    def changes(self, site: str) -> list[SiteStateChanged]:
        return [e for e in self.events if isinstance(e, SiteStateChanged) and e.site == site]


async def test_a_real_outage_is_one_down_and_one_recovery(
    make_server: object, status_page: LoopbackServer, tmp_path: Path
) -> None:
    shop = Switchable(make_server())  # type: ignore[operator]
    history = History(tmp_path / "history.sqlite3")
    d = Driver(_config(status_page.url, ("shop", shop.server.url)), history)
    for _ in range(3):
        await d.check("shop")
    shop.up = False
    for _ in range(6):
        await d.check("shop")
    shop.up = True
    for _ in range(4):
        await d.check("shop")
    changes = [(e.previous, e.state) for e in d.changes("shop")]
    assert changes == [
        (None, SiteState.OPERATIONAL),
        (SiteState.OPERATIONAL, SiteState.DOWN),
        (SiteState.DOWN, SiteState.OPERATIONAL),
    ]
    down = d.changes("shop")[1]
    assert down.result is not None and down.result.anonymous.status == 503
    await d.monitor.flush()
    stored = history.transitions(site="shop")
    assert [t.state for t in stored] == ["operational", "down", "operational"]
    assert stored[1].evidence["anonymous"]["request_id"] == "req-503"
    assert stored[1].evidence["platform"]["state"] == "operational"
    history.close()


async def test_one_request_in_three_failing_raises_no_alarm_over_100_checks(
    make_server: object, status_page: LoopbackServer
) -> None:
    server = make_server()  # type: ignore[operator]
    flaky = OneInThree(server)
    d = Driver(_config(status_page.url, ("flaky", server.url)))
    for _ in range(100):
        await d.check("flaky")
    assert flaky.failed >= 60  # the server really did fail a third of its requests
    assert [(e.previous, e.state) for e in d.changes("flaky")] == [(None, SiteState.OPERATIONAL)]
    assert not [e for e in d.events if isinstance(e, Reminder)]


async def test_a_flapping_site_raises_one_flapping_event(
    make_server: object, status_page: LoopbackServer
) -> None:
    site = Switchable(make_server())  # type: ignore[operator]
    d = Driver(_config(status_page.url, ("wobbly", site.server.url)))
    for n in range(60):
        site.up = (n // 2) % 2 == 0
        await d.check("wobbly")
    changes = d.changes("wobbly")
    assert len([e for e in changes if e.flapping]) == 1
    assert len(changes) <= 8
    status = d.monitor.snapshot().site("wobbly")
    assert status is not None and status.flapping and status.state is SiteState.DEGRADED


async def test_everything_unreachable_is_network_never_down() -> None:
    dead = [f"http://127.0.0.1:{free_port()}/" for _ in range(3)]
    status_url = f"http://127.0.0.1:{free_port()}"
    config = _config(status_url, *((f"site{i}", url) for i, url in enumerate(dead)))
    d = Driver(config)
    for _ in range(10):
        await d.check("site0")
    downs = [e for e in d.events if isinstance(e, SiteStateChanged)]
    assert downs == []
    network = [e for e in d.events if isinstance(e, NetworkChanged)]
    assert [n.available for n in network] == [False]
    snap = d.monitor.snapshot()
    assert {s.state for s in snap.sites} == {SiteState.UNKNOWN}
    assert snap.point_of_failure.value == "network"

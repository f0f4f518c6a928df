"""The monitor's logic, driven by a fake clock and scripted probe results (no sleeping).

The real impact assessment (app.impact.assess) turns the scripted probes into states, so
these tests exercise confirmation, flapping, network awareness, sleep, reminders and
platform polling exactly as they run in production; only the network I/O is scripted
here (tests/test_monitor_loopback.py does the same against real servers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.config import Config, MonitorConfig, SiteConfig
from app.confirm import Confirmation, FlapDetector, weighted_change
from app.events import (
    CheckCompleted,
    Event,
    MonitorError,
    NetworkChanged,
    OverallStateChanged,
    PlatformStateChanged,
    Reminder,
    SitePending,
    SiteStateChanged,
)
from app.history import History
from app.models import (
    ErrorKind,
    OverallState,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    ProbeKind,
    ProbeResult,
    SiteState,
)
from app.monitor import PLATFORM_MIN_INTERVAL, RETRY_AFTER_CAP, Monitor
from app.probes import ProbeOptions
from app.statuspage import StatusFetch

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    """Wall and monotonic time that move only when told to (or when the monitor sleeps)."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = START

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)

    def suspend(self, seconds: float) -> None:
        """A laptop lid closed: wall time passes, the monotonic clock (on Linux) does not."""
        self.wall += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


# Site behaviours, as the probes would report them.
def _probe(kind: ProbeKind, url: str, behaviour: str) -> ProbeResult:
    if behaviour == "up":
        return ProbeResult(kind, url, url, True, status=200, seconds=0.05)
    if behaviour == "http":
        return ProbeResult(
            kind,
            url,
            url,
            False,
            status=503,
            error=ErrorKind.HTTP,
            detail="503 Service Unavailable",
        )
    if behaviour == "refused":
        return ProbeResult(
            kind, url, url, False, error=ErrorKind.REFUSED, detail="connection refused"
        )
    raise AssertionError(behaviour)


OPERATIONAL = StatusFetch(PlatformStatus(state=PlatformState.OPERATIONAL, description="ok"))
UNREACHABLE = StatusFetch(
    PlatformStatus(
        state=PlatformState.UNKNOWN, error="status page unreachable", connection_failed=True
    )
)


class Harness:
    def __init__(self, *names: str, **monitor: object) -> None:
        settings = {"interval": 60.0, "retry_interval": 10.0, **monitor}
        self.config = Config(
            monitor=MonitorConfig(**settings),  # type: ignore[arg-type]
            sites=tuple(SiteConfig(n, f"https://{n}.example/") for n in names),
        )
        self.clock = FakeClock()
        self.behaviour: dict[str, str] = dict.fromkeys(names, "up")
        self.platform: StatusFetch = OPERATIONAL
        self.canary = False
        self.probed: list[str] = []
        self.platform_reads: list[float] = []
        self.events: list[Event] = []
        self.during_probe: Callable[[], None] | None = None
        self.last_delay = 0.0
        self.history: History | None = None
        self.monitor = self.make()

    def make(self, history: History | None = None) -> Monitor:
        self.history = history
        monitor = Monitor(
            self.config,
            history=history,
            options=ProbeOptions(timeout=1.0),
            clock=self.clock,
            probe_site=self.probe_site,
            fetch_platform=self.fetch_platform,
            probe_canary=self.probe_canary,
        )
        monitor.subscribe(self.events.append)
        self.monitor = monitor
        return monitor

    async def probe_site(
        self,
        site: SiteConfig,
        options: ProbeOptions,
        limiter: object = None,
        clients: object = None,
    ) -> tuple[ProbeResult, ProbeResult]:
        self.probed.append(site.name)
        if self.during_probe is not None:
            self.during_probe()
        how = self.behaviour[site.name]
        return (
            _probe(ProbeKind.ANONYMOUS, site.url, how),
            _probe(ProbeKind.BACKEND, site.probe_backend_url, how),
        )

    async def fetch_platform(self, status_page: str, options: ProbeOptions) -> StatusFetch:
        self.platform_reads.append(self.clock.mono)
        return self.platform

    async def probe_canary(self, url: str, options: ProbeOptions) -> bool:
        return self.canary

    async def step(self) -> float:
        """One tick, then move the clock to when the next one is due."""
        delay = await self.monitor.tick()
        self.last_delay = delay
        self.clock.advance(delay)
        return delay

    async def checks(self, n: int, site: str | None = None) -> None:
        """Tick until `n` more probes of `site` (or of any site) have run."""

        def count() -> int:
            return len([p for p in self.probed if site is None or p == site])

        target = count() + n
        for _ in range(50 * n + 50):
            if count() >= target:
                return
            await self.step()
        raise AssertionError("the monitor stopped checking")

    def of(self, kind: type) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

    def changes(self, site: str | None = None) -> list[SiteStateChanged]:
        return [
            e
            for e in self.events
            if isinstance(e, SiteStateChanged) and (site is None or e.site == site)
        ]


# ---------------------------------------------------------------------- pure machines


def test_confirmation_needs_consecutive_failures_and_successes() -> None:
    c = Confirmation(failures_to_alert=2, successes_to_recover=2)
    assert c.observe(SiteState.OPERATIONAL).changed  # first healthy look: no alarm at stake
    step = c.observe(SiteState.DOWN)
    assert (step.changed, step.pending, step.suspected) == (False, True, SiteState.DOWN)
    assert c.observe(SiteState.OPERATIONAL).pending is False  # cleared: no alarm
    c.observe(SiteState.DOWN)
    step = c.observe(SiteState.EDITORS_BLOCKED)  # still bad: counts toward the same alarm
    assert step.changed and step.confirmed is SiteState.EDITORS_BLOCKED
    assert c.observe(SiteState.OPERATIONAL).suspected is SiteState.OPERATIONAL
    assert c.observe(SiteState.OPERATIONAL).confirmed is SiteState.OPERATIONAL


def test_confirmation_untrusted_observations_never_confirm() -> None:
    c = Confirmation(failures_to_alert=2)
    c.observe(SiteState.OPERATIONAL)
    for _ in range(5):
        step = c.observe(SiteState.DOWN, may_confirm=False)
        assert step.pending and not step.changed
    assert c.observe(SiteState.DOWN).changed  # one trusted failure on top confirms it

    single = Confirmation(failures_to_alert=1)
    single.observe(SiteState.OPERATIONAL)
    assert single.observe(SiteState.DOWN, may_confirm=False).pending is False
    assert single.observe(SiteState.DOWN).changed


def test_weighted_change_weights_recent_changes_and_never_exceeds_one() -> None:
    steady = [SiteState.OPERATIONAL] * 21
    assert weighted_change(steady) == 0.0
    alternating = [SiteState.DOWN if i % 2 else SiteState.OPERATIONAL for i in range(21)]
    assert weighted_change(alternating) == pytest.approx(1.0)
    old_change = [SiteState.DOWN] + [SiteState.OPERATIONAL] * 20
    new_change = [SiteState.OPERATIONAL] * 20 + [SiteState.DOWN]
    assert weighted_change(old_change) == pytest.approx(0.8 / 20)
    assert weighted_change(new_change) == pytest.approx(1.2 / 20)
    # A short history cannot look like flapping from a couple of changes.
    assert weighted_change([SiteState.OPERATIONAL, SiteState.DOWN, SiteState.OPERATIONAL]) < 0.3


def test_flap_detector_has_hysteresis() -> None:
    flap = FlapDetector(high=0.3)
    starts = []
    for i in range(40):
        state = SiteState.DOWN if (i // 2) % 2 else SiteState.OPERATIONAL
        starts.append(flap.observe(state))
    assert starts.count(True) == 1 and starts.count(False) == 0
    # Fewer changes, but still above the low threshold: stays flapping.
    for i in range(12):
        flap.observe(SiteState.DOWN if (i // 4) % 2 else SiteState.OPERATIONAL)
    assert flap.flapping and flap.low < flap.share <= flap.high + 0.3
    ends = [flap.observe(SiteState.OPERATIONAL) for _ in range(21)]
    assert ends.count(False) == 1 and not flap.flapping


# ---------------------------------------------------------------------- confirmation


async def test_an_outage_is_reported_down_once_and_recovered_once() -> None:
    h = Harness("shop")
    await h.checks(3)
    assert [(e.previous, e.state) for e in h.changes()] == [(None, SiteState.OPERATIONAL)]
    h.behaviour["shop"] = "http"
    await h.checks(1)
    pending = h.of(SitePending)
    assert [(p.site, p.suspected) for p in pending] == [("shop", SiteState.DOWN)]
    status = h.monitor.snapshot().site("shop")
    assert status is not None
    assert (status.state, status.pending, status.suspected) == (
        SiteState.OPERATIONAL,
        True,
        SiteState.DOWN,
    )
    assert status.first_failure_at == status.last_checked
    first_failure = status.first_failure_at
    assert h.last_delay == pytest.approx(10.0)  # retry_interval, not a full interval
    await h.checks(1)
    down = h.changes()[-1]
    assert (down.previous, down.state, down.point_of_failure) == (
        SiteState.OPERATIONAL,
        SiteState.DOWN,
        PointOfFailure.SITE,
    )
    assert down.result is not None and down.result.anonymous.status == 503
    assert down.at - first_failure == timedelta(seconds=10)
    status = h.monitor.snapshot().site("shop")
    assert status is not None and status.first_failure_at == first_failure
    assert status.since == down.at and not status.pending

    await h.checks(5)  # still down: no more changes
    assert len(h.changes()) == 2
    h.behaviour["shop"] = "up"
    await h.checks(3)
    states = [(e.previous, e.state) for e in h.changes()]
    assert states == [
        (None, SiteState.OPERATIONAL),
        (SiteState.OPERATIONAL, SiteState.DOWN),
        (SiteState.DOWN, SiteState.OPERATIONAL),
    ]
    status = h.monitor.snapshot().site("shop")
    assert status is not None and status.first_failure_at is None
    overall = [(e.previous, e.state) for e in h.of(OverallStateChanged)]
    assert overall == [
        (None, OverallState.OPERATIONAL),
        (OverallState.OPERATIONAL, OverallState.DOWN),
        (OverallState.DOWN, OverallState.OPERATIONAL),
    ]


async def test_a_site_failing_one_check_in_three_never_alarms() -> None:
    h = Harness("flaky", "steady")
    for n in range(100):
        h.behaviour["flaky"] = "http" if n % 3 == 2 else "up"
        await h.checks(1, site="flaky")
    assert [(e.site, e.state) for e in h.changes()] == [
        ("flaky", SiteState.OPERATIONAL),
        ("steady", SiteState.OPERATIONAL),
    ]
    pending = [p for p in h.of(SitePending) if isinstance(p, SitePending)]
    assert len(pending) >= 60  # visible as pending hints, each cleared by the re-check
    assert pending[0].suspected is SiteState.DOWN and pending[1].suspected is None
    assert not h.of(Reminder)
    snap = h.monitor.snapshot()
    assert snap.overall is OverallState.OPERATIONAL


async def test_a_flapping_site_is_reported_once_not_on_every_swing() -> None:
    h = Harness("wobbly")
    for n in range(80):
        h.behaviour["wobbly"] = "http" if (n // 2) % 2 else "up"
        await h.checks(1)
    changes = h.changes()
    flapping = [e for e in changes if e.flapping]
    assert len(flapping) == 1
    assert flapping[0].state is SiteState.DEGRADED and "Flapping" in flapping[0].reason
    assert len(changes) <= 8  # a few swings before the pattern is clear, then quiet
    status = h.monitor.snapshot().site("wobbly")
    assert status is not None and status.flapping and status.state is SiteState.DEGRADED
    assert not status.pending  # no pending noise while flapping

    h.behaviour["wobbly"] = "up"
    await h.checks(30)
    last = h.changes()[-1]
    assert (last.previous, last.state, last.flapping) == (
        SiteState.DEGRADED,
        SiteState.OPERATIONAL,
        False,
    )
    assert len([e for e in h.changes() if e.flapping]) == 1


async def test_reminders_while_down_and_never_when_disabled() -> None:
    h = Harness("shop", remind_every=1800.0)
    h.behaviour["shop"] = "http"
    await h.checks(2)
    assert h.changes()[-1].state is SiteState.DOWN
    start = h.clock.mono
    while h.clock.mono - start < 62 * 60:
        await h.step()
    reminders = h.of(Reminder)
    assert len(reminders) == 2
    assert all(r.site == "shop" and r.state is SiteState.DOWN for r in reminders)  # type: ignore[union-attr]

    quiet = Harness("shop", remind_every=0.0)
    quiet.behaviour["shop"] = "http"
    while quiet.clock.mono - start < 62 * 60:
        await quiet.step()
    assert not quiet.of(Reminder)


# ---------------------------------------------------------------------- own network


async def test_everything_unreachable_is_the_network_never_down() -> None:
    h = Harness("a", "b")
    h.behaviour.update(a="refused", b="refused")
    h.platform = UNREACHABLE
    for _ in range(10):
        await h.step()
    assert not [e for e in h.changes() if e.state is SiteState.DOWN]
    network = h.of(NetworkChanged)
    assert [n.available for n in network] == [False]  # type: ignore[union-attr]
    snap = h.monitor.snapshot()
    assert not snap.network_ok
    assert (snap.overall, snap.point_of_failure) == (OverallState.UNKNOWN, PointOfFailure.NETWORK)
    assert {(s.state, s.point_of_failure) for s in snap.sites} == {
        (SiteState.UNKNOWN, PointOfFailure.NETWORK)
    }

    # The network comes back: restored at once, then everything is re-checked at once.
    h.behaviour.update(a="up", b="up")
    h.platform = OPERATIONAL
    h.probed.clear()
    while not any(isinstance(e, NetworkChanged) and e.available for e in h.events):
        await h.step()
    assert h.last_delay == 0.0  # re-check everything at once
    h.probed.clear()
    await h.step()
    assert sorted(h.probed) == ["a", "b"]
    assert h.monitor.snapshot().network_ok
    assert [e.state for e in h.changes()] == [SiteState.OPERATIONAL, SiteState.OPERATIONAL]


async def test_network_loss_after_a_good_start_is_never_blamed_on_the_sites() -> None:
    h = Harness("a", "b", interval=10.0, retry_interval=2.0)
    await h.checks(4)
    assert {e.state for e in h.changes()} == {SiteState.OPERATIONAL}
    # The train enters a tunnel: nothing answers; the status page was read recently.
    h.behaviour.update(a="refused", b="refused")
    h.platform = UNREACHABLE
    for _ in range(40):
        await h.step()
    assert [e.state for e in h.changes()] == [SiteState.OPERATIONAL, SiteState.OPERATIONAL]
    assert [n.available for n in h.of(NetworkChanged)] == [False]  # type: ignore[union-attr]
    # Platform reads stay at least 30 s apart throughout.
    gaps = [b - a for a, b in zip(h.platform_reads, h.platform_reads[1:], strict=False)]
    assert min(gaps) >= PLATFORM_MIN_INTERVAL


async def test_one_site_refusing_while_others_answer_is_down() -> None:
    h = Harness("dead", "alive")
    await h.checks(2)
    h.behaviour["dead"] = "refused"
    for _ in range(6):
        await h.step()
    down = [e for e in h.changes() if e.state is SiteState.DOWN]
    assert [e.site for e in down] == ["dead"]
    assert not h.of(NetworkChanged)


async def test_a_single_refusing_site_waits_for_the_status_page_to_confirm() -> None:
    h = Harness("only", interval=60.0, retry_interval=5.0)
    await h.checks(1)
    h.behaviour["only"] = "refused"
    start = h.clock.mono
    while not [e for e in h.changes() if e.state is SiteState.DOWN]:
        await h.step()
        assert h.clock.mono - start < 200
    down = h.changes()[-1]
    status = h.monitor.snapshot().site("only")
    assert status is not None and status.first_failure_at is not None
    # Not after retry_interval (5 s): a refused connection could be the user's own
    # network, so it is confirmed by a round that also read the status page (it answered).
    assert (down.at - status.first_failure_at).total_seconds() >= 5.0 * 2
    down_mono = 1000.0 + (down.at - START).total_seconds()
    assert down_mono in h.platform_reads
    assert not h.of(NetworkChanged)


async def test_a_working_canary_means_the_sites_are_down_not_the_network() -> None:
    h = Harness("a", canaries=("https://canary.example/",))
    h.behaviour["a"] = "refused"
    h.platform = UNREACHABLE
    h.canary = True
    for _ in range(5):
        await h.step()
    assert not h.of(NetworkChanged)
    assert [e.state for e in h.changes()] == [SiteState.DOWN]


# ---------------------------------------------------------------------- sleep


async def test_sleep_between_checks_drops_pending_and_rechecks_at_once(tmp_path: Path) -> None:
    h = Harness("shop")
    history = History(tmp_path / "h.sqlite3")
    h.make(history)
    await h.checks(2)
    h.behaviour["shop"] = "http"
    await h.checks(1)  # pending down
    h.clock.suspend(3600)  # the lid closes for an hour
    probed = len(h.probed)
    delay = await h.monitor.tick()  # still failing on wake: a first failure, not a second
    assert len(h.probed) == probed + 1  # re-checked on wake
    assert delay > 0
    assert not [e for e in h.changes() if e.state is SiteState.DOWN]
    h.behaviour["shop"] = "up"
    await h.step()
    await h.monitor.flush()
    # The hour asleep is not covered: no downtime, and not counted as uptime either.
    uptime = history.uptime("shop", timedelta(hours=2), now=h.clock.wall)
    assert uptime == 1.0
    history.close()


async def test_results_in_flight_during_a_sleep_are_discarded() -> None:
    h = Harness("shop")
    await h.checks(2)
    h.behaviour["shop"] = "http"
    h.during_probe = lambda: h.clock.suspend(600)
    events = len(h.events)
    assert await h.monitor.tick() == 0.0  # re-check at once
    assert h.events[events:] == []  # nothing was concluded from the interrupted round
    h.during_probe = None
    h.behaviour["shop"] = "up"
    await h.monitor.tick()
    assert [e.state for e in h.changes()] == [SiteState.OPERATIONAL]


# ---------------------------------------------------------------------- platform


async def test_platform_polling_is_rate_limited_and_honours_retry_after() -> None:
    h = Harness("shop", interval=1.0, retry_interval=1.0)
    for _ in range(100):
        await h.step()
    gaps = [b - a for a, b in zip(h.platform_reads, h.platform_reads[1:], strict=False)]
    assert gaps and min(gaps) >= PLATFORM_MIN_INTERVAL

    h.platform = StatusFetch(
        PlatformStatus(state=PlatformState.UNKNOWN, error="429 Too Many Requests"),
        retry_after=120.0,
    )
    reads = len(h.platform_reads)
    while len(h.platform_reads) < reads + 2:
        await h.step()
    assert h.platform_reads[-1] - h.platform_reads[-2] == pytest.approx(120.0)

    h.platform = replace(h.platform, retry_after=86400.0)
    reads = len(h.platform_reads)
    while len(h.platform_reads) < reads + 2:
        await h.step()
    assert h.platform_reads[-1] - h.platform_reads[-2] == pytest.approx(RETRY_AFTER_CAP)


async def test_platform_changes_are_events_and_one_bad_read_is_not() -> None:
    h = Harness("shop", interval=30.0)
    await h.checks(1)
    h.platform = StatusFetch(PlatformStatus(state=PlatformState.UNKNOWN, error="502"))
    await h.checks(1)
    h.platform = StatusFetch(PlatformStatus(state=PlatformState.OUTAGE, description="Major outage"))
    await h.checks(1)
    changes = [(e.previous, e.state) for e in h.of(PlatformStateChanged)]  # type: ignore[union-attr]
    assert changes == [
        (None, PlatformState.OPERATIONAL),
        (PlatformState.OPERATIONAL, PlatformState.OUTAGE),
    ]
    assert h.monitor.snapshot().overall is OverallState.DEGRADED


# ---------------------------------------------------------------------- control


async def test_sites_added_removed_and_edited_while_running() -> None:
    h = Harness("a", "b")
    await h.monitor.tick()
    config = replace(
        h.config,
        sites=(h.config.sites[0], SiteConfig("c", "https://c.example/")),
    )
    h.behaviour["c"] = "up"
    h.monitor.update_config(config)
    assert [s.name for s in h.monitor.snapshot().sites] == ["a", "c"]
    h.probed.clear()
    await h.monitor.tick()
    assert h.probed == ["c"]  # the new site at once, the others on their schedule
    edited = replace(config, sites=(SiteConfig("a", "https://a-moved.example/"), config.sites[1]))
    h.monitor.update_config(edited)
    h.probed.clear()
    await h.monitor.tick()
    assert h.probed == ["a"]
    status = h.monitor.snapshot().site("a")
    assert status is not None and status.url == "https://a-moved.example/"


async def test_check_now_and_subscriber_errors() -> None:
    h = Harness("a", "b")
    await h.monitor.tick()

    def broken(event: Event) -> None:
        if isinstance(event, CheckCompleted):
            raise RuntimeError("boom")

    h.monitor.subscribe(broken)
    h.monitor.check_now("b")
    h.probed.clear()
    await h.monitor.tick()
    assert h.probed == ["b"]
    errors = h.of(MonitorError)
    assert errors and "boom" in errors[0].message  # type: ignore[union-attr]


async def test_events_of_a_round_come_in_a_fixed_order() -> None:
    h = Harness("a", "b")
    await h.monitor.tick()
    kinds = [type(e).__name__ for e in h.events]
    assert kinds == [
        "PlatformStateChanged",
        "SiteStateChanged",
        "SiteStateChanged",
        "OverallStateChanged",
        "CheckCompleted",
    ]
    assert [e.site for e in h.changes()] == ["a", "b"]
    last = h.events[-1]
    assert isinstance(last, CheckCompleted) and last.snapshot.last_check == START


async def test_run_until_stop_with_history_flushed(tmp_path: Path) -> None:
    h = Harness("shop")
    history = History(tmp_path / "history.sqlite3")
    monitor = h.make(history)
    h.behaviour["shop"] = "http"

    def stop_when_down(event: Event) -> None:
        if isinstance(event, SiteStateChanged) and event.state is SiteState.DOWN:
            monitor.stop()

    monitor.subscribe(stop_when_down)
    await asyncio.wait_for(monitor.run(), 5)
    rows = history.transitions(site="shop")
    assert [(t.previous, t.state) for t in rows] == [(None, "down")]
    assert rows[0].evidence["anonymous"]["status"] == 503
    assert rows[0].evidence["platform"]["state"] == "operational"
    history.close()


async def test_overall_is_announced_once_every_site_has_a_confirmed_state() -> None:
    h = Harness("good", "bad")
    h.behaviour["bad"] = "http"
    await h.checks(2)  # first round: "bad" is only pending
    assert not h.of(OverallStateChanged)
    assert h.monitor.snapshot().overall is OverallState.UNKNOWN  # not known yet
    await h.checks(2)
    overall = [(e.previous, e.state) for e in h.of(OverallStateChanged)]
    assert overall == [(None, OverallState.DOWN)]


async def test_snapshot_carries_uptime_from_history(tmp_path: Path) -> None:
    h = Harness("shop")
    history = History(tmp_path / "h.sqlite3")
    h.make(history)
    for _ in range(3):
        await h.step()
    await h.monitor.flush()
    h.clock.advance(61)
    await h.monitor.tick()  # refreshes the cached figure in the background
    await h.monitor.flush()
    status = h.monitor.snapshot().site("shop")
    assert status is not None and status.uptime_24h == 1.0 and status.uptime_7d == 1.0
    history.close()


async def test_a_failing_probe_or_round_is_an_error_event_not_a_dead_monitor() -> None:
    h = Harness("a", "b")
    original = h.probe_site

    async def explode_for_b(
        site: SiteConfig, options: ProbeOptions, limiter: object = None, clients: object = None
    ) -> tuple[ProbeResult, ProbeResult]:
        if site.name == "b":
            raise ValueError("bug in a probe")
        return await original(site, options, limiter)

    h.monitor._probe_site = explode_for_b
    await h.monitor.tick()
    assert [e.site for e in h.changes()] == ["a"]
    assert any("bug in a probe" in e.message for e in h.of(MonitorError))  # type: ignore[union-attr]

    # A whole round failing (a bug past the probes): run() reports it and carries on.
    h2 = Harness("a")
    calls = {"n": 0}
    monitor = h2.monitor
    real_apply = monitor._apply

    def flaky_apply(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("bug in a round")
        real_apply(*args, **kwargs)  # type: ignore[arg-type]
        monitor.stop()

    monitor._apply = flaky_apply  # type: ignore[method-assign]
    await asyncio.wait_for(monitor.run(), 5)
    assert calls["n"] == 2
    assert any("bug in a round" in e.message for e in h2.of(MonitorError))  # type: ignore[union-attr]
    assert [e.state for e in h2.changes()] == [SiteState.OPERATIONAL]


async def test_a_shorter_interval_applies_without_waiting_out_the_old_one() -> None:
    h = Harness("a")
    assert await h.monitor.tick() == pytest.approx(60.0)
    faster = replace(h.config, monitor=replace(h.config.monitor, interval=5.0))
    h.monitor.update_config(faster)
    assert await h.monitor.tick() == pytest.approx(5.0)


async def test_a_round_starting_far_later_than_planned_counts_as_a_sleep() -> None:
    """Where the monotonic clock runs on through a suspend (Windows), both clocks jump."""
    h = Harness("shop")
    await h.checks(2)
    h.behaviour["shop"] = "http"
    await h.checks(1)  # pending
    status = h.monitor.snapshot().site("shop")
    assert status is not None and status.pending
    h.clock.advance(3600)
    await h.monitor.tick()  # still failing: without the sleep this would confirm it
    status = h.monitor.snapshot().site("shop")
    assert status is not None and status.pending
    assert not [e for e in h.changes() if e.state is SiteState.DOWN]
    await h.step()
    await h.checks(1)  # two failures after waking: now it is down
    assert [e.state for e in h.changes()][-1] is SiteState.DOWN


async def test_the_snapshot_sent_after_a_check_is_not_checking() -> None:
    h = Harness("shop")
    seen: list[bool] = []

    async def probe(
        site: SiteConfig, options: ProbeOptions, limiter: object = None, clients: object = None
    ) -> tuple[ProbeResult, ProbeResult]:
        seen.append(h.monitor.snapshot().checking)
        return await Harness.probe_site(h, site, options, limiter)

    h.monitor._probe_site = probe
    await h.monitor.tick()
    assert seen == [True]
    done = h.of(CheckCompleted)[-1]
    assert isinstance(done, CheckCompleted) and not done.snapshot.checking


async def test_a_sleep_while_down_is_not_counted_as_downtime(tmp_path: Path) -> None:
    h = Harness("shop")
    history = History(tmp_path / "h.sqlite3")
    h.make(history)
    await h.checks(3)
    h.behaviour["shop"] = "http"
    await h.checks(4)  # confirmed down, a few minutes of it
    assert h.changes()[-1].state is SiteState.DOWN
    awake_down = (h.clock.wall - h.changes()[-1].at).total_seconds()
    h.clock.suspend(3600)
    h.behaviour["shop"] = "up"
    await h.checks(2)
    assert h.changes()[-1].state is SiteState.OPERATIONAL
    await h.monitor.flush()
    uptime = history.uptime("shop", timedelta(hours=3), now=h.clock.wall)
    assert uptime is not None and uptime > 0.4  # an hour of "down" would make it < 0.1
    history.close()
    assert awake_down < 600


# ---------------------------------------------------------------------- history batching


async def test_a_rounds_changes_are_one_history_transaction(tmp_path: Path) -> None:
    """50 sites change state in one round: one job for the history thread, one commit,
    not 50 (each would hand the GIL to the history thread and back)."""
    names = [f"site{i:02}" for i in range(50)]
    h = Harness(*names)
    history = History(tmp_path / "h.sqlite3")
    statements: list[str] = []
    history._db().set_trace_callback(statements.append)
    h.make(history)
    await h.monitor.tick()  # first round: 50 initial states
    await asyncio.sleep(0)  # the round's write is queued after the round's callback
    await h.monitor.flush()
    assert len(h.changes()) == 50
    inserts = [s for s in statements if s.startswith("INSERT INTO transitions")]
    assert len(inserts) == 51  # and the platform's first state
    transactions: list[list[str]] = []
    for statement in statements:
        if statement == "BEGIN":
            transactions.append([])
        elif transactions and statement != "COMMIT":
            transactions[-1].append(statement)
    writing = [t for t in transactions if any(s in inserts for s in t)]
    assert len(writing) == 1 and all(s in writing[0] for s in inserts)
    assert {t.site for t in history.transitions()} == {*names, None}  # None: the platform
    history.close()


async def test_a_history_file_from_a_newer_lifeline_is_one_error_and_monitoring_goes_on(
    tmp_path: Path,
) -> None:
    import sqlite3

    from app.history import SCHEMA_VERSION

    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE transitions_v9 (x)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    h = Harness("shop")
    history = History(path)
    h.make(history)
    for _ in range(3):
        await h.step()
        await asyncio.sleep(0)
    h.behaviour["shop"] = "http"
    await h.checks(2)
    await h.monitor.flush()
    errors = [e.message for e in h.of(MonitorError)]  # type: ignore[union-attr]
    assert len(errors) == 1 and "newer Lifeline" in errors[0]
    assert [e.state for e in h.changes()] == [SiteState.OPERATIONAL, SiteState.DOWN]
    history.close()
    assert path.read_bytes() == before


async def test_a_start_without_network_shows_the_status_page_as_unreachable_at_once() -> None:
    """Issue 20 item 3: after a restart with no network the menu said "status page not
    read yet" until the network came back (a minute or more), while the sites already
    said it was unreachable. The first read is shown; later ones wait for the network."""
    h = Harness("a", "b")
    h.behaviour.update(a="refused", b="refused")
    h.platform = UNREACHABLE
    await h.step()
    snap = h.monitor.snapshot()
    assert not snap.network_ok
    assert snap.platform is not None and snap.platform.state is PlatformState.UNKNOWN
    changes = h.of(PlatformStateChanged)
    assert [(c.previous, c.state) for c in changes] == [(None, PlatformState.UNKNOWN)]  # type: ignore[union-attr]

"""The Monitor's parts (app/monitoring), each on its own: driven by a fake clock and
scripted probe results; the history writer against a real SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import impact
from app.config import MonitorConfig, SiteConfig
from app.events import (
    Event,
    MonitorError,
    OverallStateChanged,
    PlatformStateChanged,
    Reminder,
    SitePending,
    SiteStateChanged,
)
from app.history import SCHEMA_VERSION, History
from app.models import (
    ErrorKind,
    OverallState,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    ProbeKind,
    ProbeResult,
    SiteResult,
    SiteState,
)
from app.monitoring.fanout import EventFanout
from app.monitoring.history_writer import HEARTBEAT_EVERY, UPTIME_REFRESH, HistoryWriter
from app.monitoring.network import NETWORK_REASON, Verdict, first_verdict, wider_verdict
from app.monitoring.overall import OverallTracker
from app.monitoring.platform_tracker import (
    PLATFORM_MIN_INTERVAL,
    RETRY_AFTER_CAP,
    PlatformTracker,
)
from app.monitoring.round_probe import Round, RoundProbe, RoundSources
from app.monitoring.site_tracker import SiteTracker
from app.monitoring.sleep import SLEEP_GAP, SleepDetector
from app.probes import ProbeClients, ProbeOptions
from app.statuspage import StatusFetch

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
OPTIONS = ProbeOptions(timeout=1.0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = T0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


def probe(kind: ProbeKind, how: str) -> ProbeResult:
    url = "https://shop.example/"
    if how == "up":
        return ProbeResult(kind, url, url, True, status=200, seconds=0.05)
    if how == "http":
        return ProbeResult(kind, url, url, False, status=503, error=ErrorKind.HTTP, detail="503")
    return ProbeResult(kind, url, url, False, error=ErrorKind.REFUSED, detail="refused")


def pair(how: str) -> tuple[ProbeResult, ProbeResult]:
    return probe(ProbeKind.ANONYMOUS, how), probe(ProbeKind.BACKEND, how)


def result(state: SiteState, name: str = "shop") -> SiteResult:
    how = "up" if state.is_good else "http"
    pof = PointOfFailure.NONE if state.is_good else PointOfFailure.SITE
    anonymous, backend = pair(how)
    return SiteResult(
        name,
        f"https://{name}.example/",
        "live",
        state,
        pof,
        f"{name} is {state}",
        anonymous,
        backend,
    )


def fetch_of(state: PlatformState, **kw: object) -> StatusFetch:
    return StatusFetch(PlatformStatus(state=state, **kw))  # type: ignore[arg-type]


UNREACHABLE = StatusFetch(
    PlatformStatus(state=PlatformState.UNKNOWN, error="unreachable", connection_failed=True)
)


# ---------------------------------------------------------------------- sleep


def test_sleep_is_a_wall_clock_jump_or_a_late_start() -> None:
    d = SleepDetector()
    assert not d.slept_since_mark(5000.0, T0 + timedelta(days=1))  # no mark yet
    d.mark(100.0, T0, 60.0)
    on_time = 160.0, T0 + timedelta(seconds=60)
    assert not d.slept_since_mark(*on_time)
    late = SLEEP_GAP - 1
    assert not d.slept_since_mark(160.0 + late, T0 + timedelta(seconds=60 + late))
    # Windows/macOS: both clocks ran on through the suspend; the round starts very late.
    late = SLEEP_GAP + 1
    assert d.slept_since_mark(160.0 + late, T0 + timedelta(seconds=60 + late))
    # Linux: the monotonic clock stopped; only the wall clock moved on.
    assert d.slept_since_mark(160.0, T0 + timedelta(seconds=60 + SLEEP_GAP + 1))
    d.clear()
    assert not d.slept_since_mark(9999.0, T0 + timedelta(days=3))


# ---------------------------------------------------------------------- network verdict


def test_the_network_verdict() -> None:
    operational = fetch_of(PlatformState.OPERATIONAL)
    assert first_verdict({}, None) is Verdict.NONE
    assert first_verdict({}, UNREACHABLE) is Verdict.NONE
    assert first_verdict({}, operational) is Verdict.UP
    assert first_verdict({"a": pair("refused"), "b": pair("http")}, None) is Verdict.UP
    # Half a pair answering is an answer.
    half = (probe(ProbeKind.ANONYMOUS, "refused"), probe(ProbeKind.BACKEND, "http"))
    assert first_verdict({"a": half}, None) is Verdict.UP
    assert first_verdict({"a": pair("refused")}, operational) is None  # look wider

    refused = {"a": pair("refused"), "b": pair("refused")}
    assert wider_verdict({**refused, "c": pair("up")}, None, None) is Verdict.UP
    assert wider_verdict(refused, True, UNREACHABLE) is Verdict.UP  # a canary answered
    assert wider_verdict(refused, False, None) is Verdict.UNSURE  # nothing to cross-check
    assert wider_verdict(refused, False, UNREACHABLE) is Verdict.DOWN
    assert wider_verdict(refused, None, operational) is Verdict.UP  # only the sites fail


# ---------------------------------------------------------------------- platform tracker


@pytest.mark.anyio
async def test_platform_reads_are_spaced_and_held_by_retry_after() -> None:
    clock = Clock()
    errors: list[str] = []
    answers = [fetch_of(PlatformState.OPERATIONAL)]

    async def fetch(url: str, options: ProbeOptions) -> StatusFetch:
        assert url == "https://status.example/api/v2/summary.json"
        if not answers:
            raise ValueError("bug in the reader")
        return answers.pop()

    tracker = PlatformTracker(clock, fetch, errors.append)
    assert tracker.may_read(clock.mono) and tracker.shown.state is PlatformState.UNKNOWN
    read_at = clock.mono
    got = await tracker.read("https://status.example/api/v2/summary.json", OPTIONS)
    assert got.status.state is PlatformState.OPERATIONAL
    assert tracker.allowed_at() == read_at + PLATFORM_MIN_INTERVAL
    assert tracker.due_at(interval=10.0) == read_at + PLATFORM_MIN_INTERVAL
    assert tracker.due_at(interval=300.0) == read_at + 300.0
    assert not tracker.may_read(read_at + PLATFORM_MIN_INTERVAL - 1)

    tracker.hold(StatusFetch(got.status, retry_after=120.0), read_at)
    assert tracker.allowed_at() == read_at + 120.0
    tracker.hold(StatusFetch(got.status, retry_after=86400.0), read_at)
    assert tracker.allowed_at() == read_at + RETRY_AFTER_CAP

    broken = await tracker.read("https://status.example/api/v2/summary.json", OPTIONS)
    assert broken.status.state is PlatformState.UNKNOWN and "internal error" in (
        broken.status.error or ""
    )
    assert len(errors) == 1 and "bug in the reader" in errors[0]

    tracker.reset()
    assert tracker.status is None and tracker.may_read(clock.mono)


def test_one_bad_platform_read_is_not_news() -> None:
    tracker = PlatformTracker(Clock(), _never_fetch, _no_errors)

    def see(state: PlatformState) -> PlatformStateChanged | None:
        return tracker.observe(PlatformStatus(state=state), T0, failures_to_alert=2)

    first = see(PlatformState.OPERATIONAL)
    assert first is not None and first.previous is None
    assert see(PlatformState.OPERATIONAL) is None
    assert see(PlatformState.UNKNOWN) is None  # once: not believed yet
    assert tracker.shown.state is PlatformState.OPERATIONAL
    outage = see(PlatformState.OUTAGE)
    assert outage is not None and outage.previous is PlatformState.OPERATIONAL
    assert see(PlatformState.UNKNOWN) is None  # the streak started again
    unknown = see(PlatformState.UNKNOWN)
    assert unknown is not None and unknown.state is PlatformState.UNKNOWN


async def _never_fetch(url: str, options: ProbeOptions) -> StatusFetch:
    raise AssertionError("not read in this test")


def _no_errors(message: str) -> None:
    raise AssertionError(message)


# ---------------------------------------------------------------------- site tracker


def _tracker(**monitor: object) -> SiteTracker:
    tracker = SiteTracker(SiteConfig("shop", "https://shop.example/"))
    tracker.configure(MonitorConfig(**monitor))  # type: ignore[arg-type]
    return tracker


def test_a_site_is_confirmed_down_after_two_failures_with_one_pending_hint() -> None:
    t = _tracker(failures_to_alert=2, successes_to_recover=2)
    platform = PlatformStatus(state=PlatformState.OPERATIONAL)

    def see(state: SiteState, at: int, *, trusted: bool = True) -> list[Event]:
        wall = T0 + timedelta(seconds=at)
        return t.observe(result(state), trusted=trusted, mono=at, wall=wall, platform=platform)

    [first] = see(SiteState.OPERATIONAL, 0)
    assert isinstance(first, SiteStateChanged) and first.previous is None
    [hint] = see(SiteState.DOWN, 60)
    assert isinstance(hint, SitePending) and hint.suspected is SiteState.DOWN
    assert t.pending and t.first_failure_at == T0 + timedelta(seconds=60)
    assert see(SiteState.DOWN, 70, trusted=False) == []  # in doubt: no confirmation, no repeat
    [down] = see(SiteState.DOWN, 80)
    assert isinstance(down, SiteStateChanged) and down.state is SiteState.DOWN
    assert down.platform is platform and down.result is not None
    assert t.since == down.at and not t.pending

    # Reminders: every `every` seconds after the alarm, never when disabled.
    assert t.reminder(80 + 29, T0, every=30) is None
    reminder = t.reminder(80 + 30, T0, every=30)
    assert isinstance(reminder, Reminder) and reminder.since == down.at
    assert t.reminder(80 + 45, T0, every=30) is None
    assert t.reminder(80 + 1000, T0, every=0) is None

    see(SiteState.OPERATIONAL, 90)
    [back] = see(SiteState.OPERATIONAL, 100)
    assert isinstance(back, SiteStateChanged) and back.state is SiteState.OPERATIONAL
    assert t.first_failure_at is None and t.reminder(10_000, T0, every=30) is None


def test_untrusted_failures_never_confirm_and_a_lost_network_shows_unknown() -> None:
    t = _tracker(failures_to_alert=2)
    t.observe(result(SiteState.OPERATIONAL), trusted=True, mono=0, wall=T0, platform=None)
    for n in range(5):
        events = t.observe(result(SiteState.DOWN), trusted=False, mono=n, wall=T0, platform=None)
        assert not [e for e in events if isinstance(e, SiteStateChanged)]
    status = t.status(network_ok=True, uptime=(0.5, None))
    assert (status.state, status.pending, status.suspected) == (
        SiteState.OPERATIONAL,
        True,
        SiteState.DOWN,
    )
    assert (status.uptime_24h, status.uptime_7d) == (0.5, None)
    offline = t.status(network_ok=False, uptime=(None, None))
    assert (offline.state, offline.point_of_failure, offline.reason, offline.pending) == (
        SiteState.UNKNOWN,
        PointOfFailure.NETWORK,
        NETWORK_REASON,
        False,
    )


# ---------------------------------------------------------------------- overall


def test_overall_is_announced_once_every_site_is_known() -> None:
    overall = OverallTracker(impact.overall_state)
    good, bad = _tracker(), SiteTracker(SiteConfig("blog", "https://blog.example/"))
    bad.configure(MonitorConfig(failures_to_alert=1))
    good.observe(result(SiteState.OPERATIONAL), trusted=True, mono=0, wall=T0, platform=None)
    platform = PlatformStatus(state=PlatformState.OPERATIONAL)

    def update(*, network_ok: bool = True) -> OverallStateChanged | None:
        return overall.update(
            T0,
            network_ok=network_ok,
            statuses=[t.status(network_ok=network_ok, uptime=(None, None)) for t in (good, bad)],
            platform=platform,
            all_confirmed=all(t.shown is not None for t in (good, bad)),
        )

    assert update() is None  # "blog" was never checked: not news yet
    assert overall.state is OverallState.UNKNOWN  # computed all the same
    bad.observe(result(SiteState.DOWN, "blog"), trusted=True, mono=0, wall=T0, platform=None)
    event = update()
    assert event is not None and (event.previous, event.state) == (None, OverallState.DOWN)
    assert event.point_of_failure is PointOfFailure.SITE and event.reason.startswith("blog: ")
    assert update() is None  # no change, no news
    offline = update(network_ok=False)
    assert offline is not None and offline.point_of_failure is PointOfFailure.NETWORK
    assert offline.state is OverallState.UNKNOWN


# ---------------------------------------------------------------------- history writer


class CountingHistory(History):
    """A real History that counts the writer's calls into it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: list[str] = []

    def record_many(self, events):  # type: ignore[no-untyped-def]
        self.calls.append("record_many")
        return super().record_many(events)

    def uptime(self, site, window, *, now=None):  # type: ignore[no-untyped-def]
        self.calls.append("uptime")
        return super().uptime(site, window, now=now)

    def prune(self, days, *, now=None):  # type: ignore[no-untyped-def]
        self.calls.append("prune")
        return super().prune(days, now=now)


def _change(site: str, state: SiteState, at: datetime = T0) -> SiteStateChanged:
    return SiteStateChanged(
        at=at,
        site=site,
        previous=None,
        state=state,
        point_of_failure=PointOfFailure.NONE,
        reason="ok",
        result=result(state, site),
    )


@pytest.mark.anyio
async def test_a_loop_iterations_changes_are_one_write_and_others_are_not_stored(
    tmp_path: Path,
) -> None:
    history = CountingHistory(tmp_path / "h.sqlite3")
    writer = HistoryWriter(history, _no_errors)
    for name in ("a", "b", "c"):
        writer.record(_change(name, SiteState.OPERATIONAL))
    writer.record(SitePending(at=T0, site="a", suspected=SiteState.DOWN, reason="?"))
    writer.record(MonitorError(at=T0, message="not stored"))
    await asyncio.sleep(0)  # the batch is written after the current callback
    await writer.flush()
    assert history.calls == ["record_many"]
    assert [t.site for t in history.transitions()] == ["a", "b", "c"]
    history.close()


@pytest.mark.anyio
async def test_coverage_spans_break_where_the_monitor_was_not_watching(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    writer = HistoryWriter(history, _no_errors)
    at = [0.0, 10.0, HEARTBEAT_EVERY + 1]  # the second is too soon to be written
    for seconds in at:
        writer.heartbeat(seconds, T0 + timedelta(seconds=seconds))
    writer.break_coverage()  # e.g. the machine slept
    assert not writer.continuous
    writer.heartbeat(100.0, T0 + timedelta(seconds=100))
    writer.last_heartbeat(101.0, T0 + timedelta(seconds=101))  # stopping: up to the end
    await writer.flush()
    spans = history._db().execute("SELECT start, end FROM coverage ORDER BY id").fetchall()
    base = T0.timestamp()
    assert spans == [(base, base + HEARTBEAT_EVERY + 1), (base + 100, base + 101)]
    history.close()


@pytest.mark.anyio
async def test_uptime_is_cached_and_pruning_runs_once_a_day(tmp_path: Path) -> None:
    history = CountingHistory(tmp_path / "h.sqlite3")
    writer = HistoryWriter(history, _no_errors)
    writer.watch(["a", "b"])
    writer.record(_change("a", SiteState.OPERATIONAL))
    writer.heartbeat(0.0, T0)
    writer.heartbeat(HEARTBEAT_EVERY, T0 + timedelta(seconds=HEARTBEAT_EVERY))
    writer.refresh_uptime(0.0, T0 + timedelta(seconds=HEARTBEAT_EVERY))
    await writer.flush()
    assert writer.uptime("a") == (1.0, 1.0)  # the change queued before it was seen
    assert writer.uptime("b") == (None, None)  # never known: no figure
    reads = history.calls.count("uptime")
    writer.refresh_uptime(UPTIME_REFRESH - 1, T0)
    await writer.flush()
    assert history.calls.count("uptime") == reads
    writer.refresh_uptime(UPTIME_REFRESH, T0)
    await writer.flush()
    assert history.calls.count("uptime") == 2 * reads
    writer.watch(["b"])  # "a" removed from the configuration
    assert writer.uptime("a") == (None, None)

    for mono in (0.0, 3600.0, 86399.0, 86400.0):
        writer.maybe_prune(mono, days=30)
    await writer.flush()
    assert history.calls.count("prune") == 2
    history.close()


@pytest.mark.anyio
async def test_a_history_that_cannot_be_written_is_one_message(tmp_path: Path) -> None:
    """A file from a newer Lifeline: monitoring goes on without history, said once."""
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.execute("CREATE TABLE future (x)")
    db.commit()
    db.close()
    errors: list[str] = []
    writer = HistoryWriter(History(path), errors.append)
    writer.record(_change("a", SiteState.DOWN))
    writer.heartbeat(0.0, T0)  # a second job that fails the same way
    await writer.flush()
    assert len(errors) == 1
    assert errors[0].startswith("history disabled until restart: ") and "newer" in errors[0]
    assert not writer.enabled
    writer.record(_change("b", SiteState.DOWN))
    await writer.flush()
    assert len(errors) == 1


def test_no_running_loop_no_write(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    writer = HistoryWriter(history, _no_errors)
    writer.record(_change("a", SiteState.OPERATIONAL))  # e.g. update_config before run()
    writer.heartbeat(0.0, T0)
    assert not (tmp_path / "h.sqlite3").exists()


# ---------------------------------------------------------------------- round probe


class Script:
    def __init__(self, **sites: str) -> None:
        self.sites = sites
        self.platform = fetch_of(PlatformState.OPERATIONAL)
        self.canary = False
        self.probed: list[str] = []
        self.platform_reads = 0

    async def probe_site(
        self, site: SiteConfig, options: ProbeOptions, limiter: object, clients: object
    ) -> tuple[ProbeResult, ProbeResult]:
        self.probed.append(site.name)
        if self.sites[site.name] == "bug":
            raise ValueError("bug in a probe")
        return pair(self.sites[site.name])

    async def fetch(self, url: str, options: ProbeOptions) -> StatusFetch:
        self.platform_reads += 1
        return self.platform

    async def probe_canary(self, url: str, options: ProbeOptions) -> bool:
        return self.canary


async def _round(
    script: Script, due: list[str], rest: list[str], *, platform_due: bool, recent_read: bool
) -> tuple[Round, list[str], bool]:
    clock = Clock()
    errors: list[str] = []
    platform = PlatformTracker(clock, script.fetch, errors.append)
    if recent_read:
        await platform.read("https://status.example/", OPTIONS)
        script.platform_reads = 0
    trackers = {n: SiteTracker(SiteConfig(n, f"https://{n}.example/")) for n in due + rest}
    asked: list[bool] = []

    def others() -> list[SiteTracker]:
        asked.append(True)
        return [trackers[n] for n in rest]

    async with ProbeClients(OPTIONS) as clients:
        probe = RoundProbe(
            probe_site=script.probe_site,
            probe_canary=script.probe_canary,
            platform=platform,
            sources=RoundSources("https://status.example/", ("https://canary.example/",)),
            options=OPTIONS,
            clients=clients,
            on_error=errors.append,
        )
        rnd = await probe.run(
            [trackers[n] for n in due], platform_due, others=others, mono=clock.monotonic
        )
    return rnd, errors, bool(asked)


@pytest.mark.anyio
async def test_a_round_looks_wider_only_when_every_due_site_fails_to_connect() -> None:
    script = Script(a="up", b="refused", c="up")
    rnd, _, wider = await _round(script, ["a", "b"], ["c"], platform_due=False, recent_read=False)
    assert rnd.verdict is Verdict.UP and not wider and script.probed == ["a", "b"]

    script = Script(a="refused", b="refused", c="up")
    rnd, _, wider = await _round(script, ["a", "b"], ["c"], platform_due=False, recent_read=False)
    assert rnd.verdict is Verdict.UP and wider
    assert [t.name for t in rnd.tracks] == ["a", "b", "c"]

    script = Script(a="refused", c="refused")
    script.platform = UNREACHABLE
    rnd, _, wider = await _round(script, ["a"], ["c"], platform_due=False, recent_read=False)
    assert rnd.verdict is Verdict.DOWN and wider and script.platform_reads == 1

    # The status page was read moments ago: it may not be read again to settle the doubt.
    script = Script(a="refused")
    rnd, _, wider = await _round(script, ["a"], [], platform_due=False, recent_read=True)
    assert rnd.verdict is Verdict.UNSURE and wider and script.platform_reads == 0

    script = Script(a="refused")
    script.canary = True
    script.platform = UNREACHABLE
    rnd, _, wider = await _round(script, ["a"], [], platform_due=True, recent_read=False)
    assert rnd.verdict is Verdict.UP and rnd.canaries_ok and script.platform_reads == 1


@pytest.mark.anyio
async def test_a_failing_probe_is_an_error_and_no_result() -> None:
    script = Script(a="up", b="bug")
    rnd, errors, _ = await _round(script, ["a", "b"], [], platform_due=True, recent_read=False)
    assert sorted(rnd.probes) == ["a"]
    assert len(errors) == 1 and "probing b failed: ValueError: bug in a probe" in errors[0]
    assert rnd.fetch is not None and rnd.verdict is Verdict.UP


# ---------------------------------------------------------------------- fan-out


def test_history_sees_every_event_first_and_a_broken_subscriber_is_one_error() -> None:
    seen: list[str] = []
    fanout = EventFanout(Clock(), lambda e: seen.append(f"record {type(e).__name__}"))

    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    fanout.subscribe(lambda e: seen.append(f"got {type(e).__name__}"))
    unsubscribe = fanout.subscribe(broken)
    fanout.emit(_change("a", SiteState.DOWN))
    assert seen == [
        "record SiteStateChanged",
        "got SiteStateChanged",
        "record MonitorError",  # the broken subscriber, reported once ...
        "got MonitorError",  # ... and its failing on that error is not reported again
    ]
    unsubscribe()
    seen.clear()
    fanout.emit(_change("a", SiteState.OPERATIONAL))
    assert seen == ["record SiteStateChanged", "got SiteStateChanged"]

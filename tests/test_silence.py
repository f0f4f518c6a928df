"""Snoozes and maintenance windows: the pure parts, then through the engine (fake clock,
scripted probes, a real history file), and `lifeline snooze` with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli import parse
from app.commands import snooze as snooze_command
from app.config import Config, ConfigError, MaintenanceConfig, SiteConfig, parse_config
from app.durations import parse_duration
from app.events import (
    MaintenanceChanged,
    OverallStateChanged,
    Reminder,
    SiteStateChanged,
)
from app.history import History
from app.maintenance import MaintenancePlan
from app.models import OverallState, SiteState
from app.monitor import Monitor
from app.paths import Paths
from app.probes import ProbeOptions
from app.silence import Silencer
from app.snooze import SnoozeError, SnoozeStore
from tests.test_monitor import START, Harness

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


SHOP = SiteConfig("shop", "https://shop.example/", group="Client A")
BLOG = SiteConfig("blog", "https://blog.example/")


# --------------------------------------------------------------------------- windows


def weekly(**extra: str) -> MaintenanceConfig:
    return MaintenanceConfig(
        sites=("*",), rrule="FREQ=WEEKLY;BYDAY=TU;BYHOUR=22;BYMINUTE=0", duration="90m",
        timezone="America/Los_Angeles", **extra,  # type: ignore[arg-type]
    )


def test_a_weekly_window_follows_its_time_zone_across_daylight_saving() -> None:
    plan = MaintenancePlan([weekly()])
    # Tuesday 22:00 in Los Angeles: 06:00 UTC on Wednesday in winter, 05:00 in summer.
    winter = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 8, 5, 30, tzinfo=UTC)
    assert plan.until([SHOP, BLOG], winter) == dict.fromkeys(
        ["shop", "blog"], datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    )
    assert plan.until([SHOP], summer) == {"shop": datetime(2026, 7, 8, 6, 30, tzinfo=UTC)}
    assert plan.until([SHOP], datetime(2026, 12, 2, 7, 30, tzinfo=UTC)) == {}  # end excluded
    assert plan.until([SHOP], datetime(2026, 12, 2, 5, 59, tzinfo=UTC)) == {}
    assert plan.until([SHOP], datetime(2026, 12, 3, 6, 30, tzinfo=UTC)) == {}  # Thursday


def test_one_off_windows_by_name_and_group_and_joined_when_they_touch() -> None:
    first = MaintenanceConfig(sites=("group:client a",), start=START,
                              end=START + timedelta(hours=1))
    second = MaintenanceConfig(sites=("SHOP",), start=START + timedelta(minutes=50),
                               end=START + timedelta(hours=2))
    plan = MaintenancePlan([first, second])
    at = START + timedelta(minutes=10)
    # shop is in both (its group, its name): one maintenance until the later end.
    assert plan.until([SHOP, BLOG], at) == {"shop": START + timedelta(hours=2)}
    assert plan.until([SHOP, BLOG], START - timedelta(seconds=1)) == {}


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("start = 2026-12-01T22:00:00Z\nend = 2026-12-01T21:00:00Z", "is not after the start"),
        ('rrule = "FREQ=WEEKLY;BYDAY=XX"\nduration = "1h"', "is not an RRULE"),
        ('rrule = "FREQ=DAILY"\nduration = "0m"', "more than zero"),
        ('rrule = "FREQ=DAILY"\nduration = "-2h"', "more than zero"),
        ('rrule = "FREQ=MINUTELY"\nduration = "1h"', "at most daily"),
        ('rrule = "FREQ=DAILY"\nduration = "1h"\ntimezone = "Mars/Olympus"', "time zone"),
        ("start = 2026-12-01T22:00:00\nend = 2026-12-01T23:00:00Z", "has no offset"),
        ('start = 2026-12-01T22:00:00Z', "needs a start and an end"),
    ],
)
def test_a_bad_window_is_one_line(window: str, message: str) -> None:
    text = f'[[site]]\nname = "shop"\nurl = "https://a.example/"\n\n[[maintenance]]\n' \
        f'sites = ["shop"]\n{window}\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="c.toml")
    line = caught.value.one_line()
    assert line.startswith("c.toml:") and "maintenance[1]." in line and message in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("ref", "message"),
    [('"nope"', "no site named 'nope'"), ('"group:Client B"', "no site is in the group")],
)
def test_a_window_naming_an_unknown_site_or_group_is_one_line(ref: str, message: str) -> None:
    text = ('[[site]]\nname = "shop"\nurl = "https://a.example/"\ngroup = "Client A"\n\n'
            f'[[maintenance]]\nsites = [{ref}]\nrrule = "FREQ=DAILY"\nduration = "1h"\n')
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config(text, source="c.toml")
    assert caught.value.line == 7  # the `sites` line


def test_durations() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1h30m") == parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration("1d") == timedelta(days=1)
    for bad in ("", "abc", "2x", "0s", "-5m", "9999d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# --------------------------------------------------------------------------- snooze file


def test_snooze_store_round_trip_expiry_and_a_broken_file(tmp_path: Path) -> None:
    store = SnoozeStore(tmp_path / "state" / "snoozes.json")
    assert store.current(START) == {}
    store.snooze("shop", START + timedelta(hours=1), now=START)
    store.snooze("blog", START + timedelta(minutes=5), now=START)
    assert store.current(START) == {"shop": START + timedelta(hours=1),
                                    "blog": START + timedelta(minutes=5)}
    later = START + timedelta(minutes=10)
    assert store.current(later) == {"shop": START + timedelta(hours=1)}  # blog ended by itself
    assert [s.site for s in store.active(START)] == ["blog", "shop"]  # soonest end first
    assert store.unsnooze("shop", now=later) is True
    assert store.unsnooze("shop", now=later) is False
    assert store.current(later) == {}
    assert (tmp_path / "state" / "snoozes.json").stat().st_mode & 0o777 == 0o600

    store.path.write_text("{not json")
    with pytest.raises(SnoozeError, match="not JSON"):
        store.read()
    # The monitor's side: one warning, no snoozes, no exception.
    silencer = Silencer(Config(sites=(SHOP,)), store)
    assert silencer.at(START) == {}


# --------------------------------------------------------------------------- the engine


class SilencedHarness(Harness):
    silencer: Silencer | None = None

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
            silencer=self.silencer,
        )
        monitor.subscribe(self.events.append)
        self.monitor = monitor
        return monitor

    async def until(self, when: datetime) -> None:
        while self.clock.wall < when:
            await self.step()


def harness(config: Config, silencer: Silencer | None, history: History | None) -> SilencedHarness:
    h = SilencedHarness(*(s.name for s in config.sites), remind_every=120.0)
    h.config = Config(monitor=h.config.monitor, sites=config.sites,
                      maintenance=config.maintenance)
    h.silencer = silencer or Silencer(h.config)
    h.make(history)
    return h


async def test_a_site_down_inside_its_window_is_silenced_recorded_and_not_downtime(
    tmp_path: Path,
) -> None:
    window = MaintenanceConfig(sites=("group:Client A",), start=START + timedelta(minutes=10),
                               end=START + timedelta(minutes=40))
    control = SiteConfig("control", "https://control.example/")
    config = Config(sites=(SHOP, control), maintenance=(window,))
    history = History(tmp_path / "history.sqlite3")
    h = harness(config, None, history)

    await h.until(START + timedelta(minutes=12))
    assert [e.active for e in h.of(MaintenanceChanged)] == [True]
    status = h.monitor.snapshot().site("shop")
    assert status is not None and status.silenced == "maintenance"
    assert status.silenced_until == START + timedelta(minutes=40)
    h.behaviour.update(shop="http", control="http")
    await h.until(START + timedelta(minutes=20))
    h.behaviour.update(shop="up", control="up")
    await h.until(START + timedelta(minutes=30))

    shop = [(e.state, e.silenced) for e in h.changes("shop")]
    assert shop == [(SiteState.OPERATIONAL, None), (SiteState.DOWN, "maintenance"),
                    (SiteState.OPERATIONAL, "maintenance")]
    control_changes = [(e.state, e.silenced) for e in h.changes("control")]
    assert control_changes[1] == (SiteState.DOWN, None)
    # Reminders (every 120 s) came for the control only.
    assert {r.site for r in h.of(Reminder)} == {"control"}
    # The icon followed the control alone.
    overall = [e.state for e in h.of(OverallStateChanged)]
    assert overall == [OverallState.OPERATIONAL, OverallState.DOWN, OverallState.OPERATIONAL]

    await h.until(START + timedelta(minutes=45))
    assert [e.active for e in h.of(MaintenanceChanged)] == [True, False]
    await h.monitor.flush()
    now = h.clock.now()
    kinds = [(t.kind, t.state) for t in history.transitions(site="shop", since=START)]
    assert ("maintenance", "maintenance") in kinds and ("maintenance", "ended") in kinds
    assert history.uptime("shop", timedelta(hours=24), now=now) == pytest.approx(1.0)
    control_uptime = history.uptime("control", timedelta(hours=24), now=now)
    assert control_uptime is not None and control_uptime < 0.9
    history.close()


async def test_a_snooze_written_meanwhile_is_picked_up_and_ends_by_itself(
    tmp_path: Path,
) -> None:
    store = SnoozeStore(tmp_path / "snoozes.json")
    config = Config(sites=(SHOP, BLOG))
    h = harness(config, Silencer(config, store), None)
    await h.until(START + timedelta(minutes=3))
    # `lifeline snooze shop 1h` from another process, while the monitor runs.
    store.snooze("shop", h.clock.now() + timedelta(hours=1), now=h.clock.now())
    end = h.clock.now() + timedelta(hours=1)
    await h.checks(1, "shop")  # within one interval
    status = h.monitor.snapshot().site("shop")
    assert status is not None and (status.silenced, status.silenced_until) == ("snooze", end)

    h.behaviour["shop"] = "http"
    await h.checks(1, "shop")
    assert h.monitor.snapshot().pending is False  # no dot on the icon for a snoozed site
    await h.checks(3, "shop")
    down = h.changes("shop")[-1]
    assert (down.state, down.silenced) == (SiteState.DOWN, "snooze")
    assert h.monitor.snapshot().overall is OverallState.OPERATIONAL
    assert not h.of(Reminder)

    await h.until(end + timedelta(seconds=61))
    status = h.monitor.snapshot().site("shop")
    assert status is not None and status.silenced is None
    # Still down as its snooze ended: one reminder at once, and the icon turns red.
    assert [(r.site, r.state) for r in h.of(Reminder)][:1] == [("shop", SiteState.DOWN)]
    assert h.monitor.snapshot().overall is OverallState.DOWN
    assert not [e for e in h.of(SiteStateChanged) if e.site == "blog" and e.silenced]


# --------------------------------------------------------------------------- the command


def snooze(paths: Paths, config: Path, *args: str, now: datetime = START) -> int:
    parsed = parse(["snooze", *args, "--config", str(config)])
    assert not isinstance(parsed, int)
    return snooze_command.run(parsed, paths, now=lambda: now)


def test_snooze_command(
    paths: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    config = tmp_path / "config.toml"
    config.write_text('[[site]]\nname = "Shop"\nurl = "https://shop.example/"\n')
    assert snooze(paths, config, "shop", "2h") == 0
    assert "Shop snoozed until" in capsys.readouterr().out
    assert SnoozeStore(paths.snoozes).current(START) == {"Shop": START + timedelta(hours=2)}

    assert snooze(paths, config, "--list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "snoozes": [{"site": "Shop", "until": "2026-11-27T10:00:00Z"}]
    }
    later = START + timedelta(hours=3)
    assert snooze(paths, config, "--list", "--json", now=later) == 0
    assert json.loads(capsys.readouterr().out) == {"snoozes": []}  # ended by itself

    assert snooze(paths, config, "shop", "1d") == 0
    assert snooze(paths, config, "Shop", "--off") == 0
    assert "snooze ended" in capsys.readouterr().out
    assert SnoozeStore(paths.snoozes).current(START) == {}

    for args, message in [
        (("nope", "2h"), "no site named 'nope' (sites: Shop)"),
        (("shop", "0m"), "more than zero"),
        (("shop", "soon"), "is not a duration"),
        (("shop",), "how long?"),
        ((), "name a site"),
    ]:
        assert snooze(paths, config, *args) == 3
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1

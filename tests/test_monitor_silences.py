"""Two of the Monitor's parts on their own: SiteSilences (who is silenced, round to round,
and the events that say so), with a real maintenance window and a real snooze file in
tmp_path; and Wakeup (the pause between rounds), on a fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.config import Config, MaintenanceConfig, SiteConfig
from app.events import MaintenanceChanged, SnoozeChanged
from app.monitoring.silences import SiteSilences
from app.monitoring.wakeup import Wakeup
from app.silence import Silencer
from app.snooze import SnoozeStore

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SHOP = SiteConfig("shop", "https://shop.example/")
BLOG = SiteConfig("blog", "https://blog.example/")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def test_a_window_and_a_snooze_each_give_an_event_when_they_begin_move_and_end(
    tmp_path: Path,
) -> None:
    window = MaintenanceConfig(sites=("shop",), start=minutes(10), end=minutes(20))
    config = Config(sites=(SHOP, BLOG), maintenance=(window,))
    store = SnoozeStore(tmp_path / "snoozes.json")
    silences = SiteSilences(Silencer(config, store))
    names = ("shop", "blog")

    assert silences.refresh(minutes(0), names) == []
    assert "shop" not in silences and silences.get("shop") is None

    assert silences.refresh(minutes(11), names) == [
        MaintenanceChanged(at=minutes(11), site="shop", active=True, until=minutes(20))
    ]
    assert "shop" in silences
    silence = silences.get("shop")
    assert silence is not None and silence.kind == "maintenance"
    assert silences.refresh(minutes(12), names) == []  # still inside: no news

    store.snooze("blog", minutes(60), now=minutes(13))
    assert silences.refresh(minutes(13), names) == [
        SnoozeChanged(at=minutes(13), site="blog", active=True, until=minutes(60))
    ]
    store.snooze("blog", minutes(90), now=minutes(14))  # a new end: the span moves
    assert silences.refresh(minutes(14), names) == [
        SnoozeChanged(at=minutes(14), site="blog", active=True, until=minutes(90))
    ]
    assert silences.take_ended() == set()

    store.unsnooze("blog", now=minutes(21))
    assert silences.refresh(minutes(21), names) == [
        MaintenanceChanged(at=minutes(21), site="shop", active=False, until=None),
        SnoozeChanged(at=minutes(21), site="blog", active=False, until=None),
    ]
    assert silences.take_ended() == {"shop", "blog"}  # reminded of at once, once
    assert silences.take_ended() == set()


def test_only_the_named_sites_get_events_but_every_silence_counts(tmp_path: Path) -> None:
    store = SnoozeStore(tmp_path / "snoozes.json")
    store.snooze("blog", minutes(30), now=T0)
    silences = SiteSilences(Silencer(Config(sites=(SHOP, BLOG)), store))
    assert silences.refresh(T0, ["shop"]) == []
    assert "blog" in silences


@pytest.mark.anyio
async def test_a_poke_cuts_the_pause_short_and_a_pause_runs_on_the_clock() -> None:
    slept: list[float] = []
    sleeping, release = asyncio.Event(), asyncio.Event()

    class Clock:
        def now(self) -> datetime:
            return T0

        def monotonic(self) -> float:
            return 0.0

        async def sleep(self, seconds: float) -> None:
            slept.append(seconds)
            sleeping.set()
            await release.wait()

    wakeup = Wakeup(Clock())
    wakeup.poke()  # before start: nothing to wake, and no error
    wakeup.start()

    waiting = asyncio.ensure_future(wakeup.wait(30.0))
    await asyncio.wait_for(sleeping.wait(), 5.0)
    assert slept == [30.0] and not waiting.done()
    wakeup.poke()
    await asyncio.wait_for(waiting, 5.0)  # returned without the clock's sleep ending

    await asyncio.wait_for(wakeup.wait(30.0), 5.0)  # the poke still counts until clear
    assert slept == [30.0]
    wakeup.clear()
    sleeping.clear()
    pause = asyncio.ensure_future(wakeup.wait(10.0))
    await asyncio.wait_for(sleeping.wait(), 5.0)
    assert slept == [30.0, 10.0] and not pause.done()
    release.set()
    await asyncio.wait_for(pause, 5.0)
    await asyncio.wait_for(wakeup.wait(0.0), 5.0)  # no pause at all
    assert slept == [30.0, 10.0]

"""The history file: transitions with evidence, coverage-aware uptime, pruning, size bound."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.events import NetworkChanged, PlatformStateChanged, SitePending, SiteStateChanged
from app.history import MIGRATIONS, SCHEMA_VERSION, History, HistoryError
from app.models import (
    ErrorKind,
    Incident,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    ProbeKind,
    ProbeResult,
    SiteResult,
    SiteState,
)
from app.paths import Paths

T0 = datetime(2026, 1, 1, tzinfo=UTC)
V1 = {1: MIGRATIONS[1]}  # the schema as first released


def _result(state: SiteState, n: int = 0) -> SiteResult:
    url = "https://shop.example/"
    if state is SiteState.OPERATIONAL:
        probe = ProbeResult(ProbeKind.ANONYMOUS, url, url, True, status=200, seconds=0.2)
        backend = ProbeResult(ProbeKind.BACKEND, url, url, True, status=200, seconds=0.3)
    else:
        probe = ProbeResult(
            ProbeKind.ANONYMOUS,
            url,
            url,
            False,
            status=503,
            seconds=0.21,
            error=ErrorKind.HTTP,
            detail="503 Database not Responding",
            request_id=f"req-{n:08d}",
        )
        backend = ProbeResult(
            ProbeKind.BACKEND,
            url,
            url,
            False,
            status=503,
            error=ErrorKind.HTTP,
            detail="503 Database not Responding",
            request_id=f"reqb-{n:08d}",
        )
    return SiteResult(
        "shop", url, "live", state, PointOfFailure.SITE, "Visitors get an error.", probe, backend
    )


PLATFORM = PlatformStatus(
    state=PlatformState.DEGRADED,
    incidents=(
        Incident("Elevated errors on Drupal sites", "major", "investigating", "https://stspg.io/x"),
    ),
)


def change(
    at: datetime,
    previous: SiteState | None,
    state: SiteState,
    *,
    site: str = "shop",
    n: int = 0,
    flapping: bool = False,
) -> SiteStateChanged:
    return SiteStateChanged(
        at=at,
        site=site,
        previous=previous,
        state=state,
        point_of_failure=PointOfFailure.NONE
        if state is SiteState.OPERATIONAL
        else PointOfFailure.SITE,
        reason="Visitors get an error (503 Database not Responding)."
        if state is SiteState.DOWN
        else "Visitors and editors are served normally.",
        flapping=flapping,
        result=_result(state, n),
        platform=PLATFORM,
    )


@pytest.fixture
def history(tmp_path: Path) -> History:
    h = History(tmp_path / "data" / "history.sqlite3")
    yield h  # type: ignore[misc]
    h.close()


def test_constructing_touches_no_disk(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "history.sqlite3"
    History(path)
    assert not path.parent.exists()


def test_transitions_round_trip_with_compact_evidence(history: History) -> None:
    history.record(change(T0, None, SiteState.OPERATIONAL))
    history.record(change(T0 + timedelta(minutes=5), SiteState.OPERATIONAL, SiteState.DOWN, n=7))
    history.record(
        PlatformStateChanged(
            at=T0 + timedelta(minutes=6),
            previous=PlatformState.OPERATIONAL,
            state=PlatformState.DEGRADED,
            platform=PLATFORM,
        )
    )
    history.record(NetworkChanged(at=T0 + timedelta(minutes=7), available=False, reason="gone"))
    history.record(SitePending(at=T0, site="shop", suspected=SiteState.DOWN, reason="x"))  # ignored
    rows = history.transitions()
    assert [(t.kind, t.previous, t.state) for t in rows] == [
        ("site", None, "operational"),
        ("site", "operational", "down"),
        ("platform", "operational", "degraded"),
        ("network", "online", "offline"),
    ]
    down = rows[1]
    assert down.at == T0 + timedelta(minutes=5)
    assert down.reason.startswith("Visitors get an error")
    assert down.evidence["anonymous"] == {
        "status": 503,
        "seconds": 0.21,
        "error": "http",
        "detail": "503 Database not Responding",
        "request_id": "req-00000007",
    }
    assert down.evidence["platform"]["incidents"][0]["name"] == "Elevated errors on Drupal sites"
    assert rows[0].evidence == {}  # a recovery's 200 OK is not worth storing
    assert rows[2].point_of_failure == "platform"
    assert rows[3].point_of_failure == "network"
    # Filters: site, since, limit (the most recent, still oldest first).
    assert len(history.transitions(site="shop")) == 2
    assert len(history.transitions(since=T0 + timedelta(minutes=5, seconds=30))) == 2
    assert [t.kind for t in history.transitions(limit=2)] == ["platform", "network"]
    assert history.sites() == ["shop"]
    assert down.to_json()["at"] == "2026-01-01T00:05:00Z"


def test_reasons_are_stored_once(history: History) -> None:
    for i in range(100):
        history.record(change(T0 + timedelta(minutes=i), None, SiteState.DOWN, n=i))
    db = sqlite3.connect(history.path)
    assert db.execute("SELECT count(*) FROM texts").fetchone()[0] == 1
    db.close()


def test_uptime_counts_only_watched_time(history: History) -> None:
    assert history.uptime("shop", timedelta(hours=24), now=T0) is None  # nothing watched
    history.mark_observed(T0, continuous=False)
    history.record(change(T0, None, SiteState.OPERATIONAL))
    history.record(change(T0 + timedelta(hours=1), SiteState.OPERATIONAL, SiteState.DOWN))
    history.record(change(T0 + timedelta(hours=2), SiteState.DOWN, SiteState.OPERATIONAL))
    history.mark_observed(T0 + timedelta(hours=4))
    # The app closed (or the lid) from 4 h to 10 h: not uptime, not downtime.
    history.mark_observed(T0 + timedelta(hours=10), continuous=False)
    history.mark_observed(T0 + timedelta(hours=12))
    now = T0 + timedelta(hours=12)
    assert history.uptime("shop", timedelta(hours=24), now=now) == pytest.approx(5 / 6)
    assert history.uptime("shop", timedelta(hours=2), now=now) == 1.0
    # A window starting while the site was down knows it from the earlier transition.
    window = history.uptime("shop", timedelta(hours=10.5), now=now)
    assert window == pytest.approx(1 - 0.5 / 4.5)
    assert history.uptime("other", timedelta(hours=24), now=now) is None


def test_prune_keeps_the_state_at_the_cut(history: History) -> None:
    history.mark_observed(T0, continuous=False)
    history.record(change(T0, None, SiteState.DOWN))
    for day in range(1, 200):
        history.mark_observed(T0 + timedelta(days=day))
    history.record(change(T0 + timedelta(days=150), SiteState.DOWN, SiteState.OPERATIONAL))
    now = T0 + timedelta(days=199)
    assert history.prune(90, now=now) == 0  # one span reaching into the window: kept
    rows = history.transitions(site="shop")
    assert [t.state for t in rows] == ["down", "operational"]  # the cut's state survives
    assert history.uptime("shop", timedelta(days=7), now=now) == 1.0
    for day in range(200, 400):
        history.record(
            change(T0 + timedelta(days=day), SiteState.DOWN, SiteState.OPERATIONAL, n=day)
        )
    history.prune(90, now=T0 + timedelta(days=400))
    rows = history.transitions(site="shop")
    assert rows[0].at < T0 + timedelta(days=310)  # the last one before the cut
    assert all(t.at >= T0 + timedelta(days=310) for t in rows[1:])
    assert len(rows) == 1 + 90


def test_a_year_of_a_misbehaving_site_stays_small(tmp_path: Path) -> None:
    """A site that swings 40 times a day all year (unstable, yet under the flapping
    threshold), each change into `down` with full evidence; pruned daily at 90 days."""
    h = History(tmp_path / "history.sqlite3")
    db = h._db()  # one transaction per simulated day keeps the test fast
    swings = [
        change(T0, SiteState.OPERATIONAL, SiteState.DOWN, n=12345678),
        change(T0, SiteState.DOWN, SiteState.OPERATIONAL),
    ]
    at, n = T0, 0
    for _day in range(365):
        db.execute("BEGIN")
        for _ in range(40):
            h.record(replace(swings[n % 2], at=at))
            at += timedelta(seconds=2160)
            n += 1
        h.mark_observed(at)
        db.execute("COMMIT")
        h.prune(90, now=at)
    kept = len(h.transitions(site="shop"))
    h.close()
    size = h.path.stat().st_size
    assert 90 * 40 <= kept <= 91 * 40 + 1
    assert size < 1_500_000, f"{size} bytes after a year"


def test_a_site_changing_state_without_end_is_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.history.MAX_PER_SITE", 100)
    h = History(tmp_path / "history.sqlite3")
    for i in range(300):
        h.record(change(T0 + timedelta(seconds=i), None, SiteState.DOWN, n=i))
        h.record(change(T0 + timedelta(seconds=i), None, SiteState.DOWN, site="also", n=i))
    h.record(NetworkChanged(at=T0, available=False))
    assert h.prune(90, now=T0 + timedelta(days=1)) == 400
    rows = h.transitions(site="shop")
    assert len(rows) == 100 and rows[0].at == T0 + timedelta(seconds=200)
    assert len(h.transitions(kinds=("network",))) == 1
    h.close()


def test_a_reader_and_a_writer_on_different_threads(history: History) -> None:
    history.mark_observed(T0, continuous=False)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(300):
                history.record(change(T0 + timedelta(seconds=i), None, SiteState.DOWN, n=i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    reader = History(history.path)
    seen = 0
    while thread.is_alive():
        seen = max(seen, len(reader.transitions(site="shop")))
    thread.join()
    reader.close()
    assert not errors
    assert len(history.transitions(site="shop")) == 300


def test_a_corrupt_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    h = History(path)
    with pytest.raises(HistoryError, match="history file"):
        h.transitions()
    h.close()


# ---------------------------------------------------------------------- schema versions

# The file as Lifeline wrote it when schema versions were introduced (version 1), frozen
# here: a later edit of app.history must keep opening exactly this.
TODAYS_SCHEMA = """
CREATE TABLE texts (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE transitions (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, site TEXT, previous TEXT,
    state TEXT NOT NULL, pof TEXT NOT NULL DEFAULT 'none',
    flapping INTEGER NOT NULL DEFAULT 0, reason INTEGER REFERENCES texts(id), evidence TEXT
);
CREATE INDEX transitions_site_at ON transitions (site, at);
CREATE INDEX transitions_at ON transitions (at);
CREATE TABLE coverage (id INTEGER PRIMARY KEY, start REAL NOT NULL, end REAL NOT NULL);
CREATE INDEX coverage_end ON coverage (end);
"""


def _todays_file(path: Path, *, user_version: int = 1) -> Path:
    """A history file with today's tables and a short outage of "shop" in it."""
    db = sqlite3.connect(path)
    db.executescript(TODAYS_SCHEMA)
    db.execute("INSERT INTO texts (id, text) VALUES (1, 'Visitors get an error.')")
    rows = [
        (T0.timestamp(), "site", "shop", None, "operational", "none", None, None),
        (T0.timestamp() + 3600, "site", "shop", "operational", "down", "site", 1, '{"x":1}'),
        (T0.timestamp() + 5400, "site", "shop", "down", "operational", "none", None, None),
    ]
    db.executemany(
        "INSERT INTO transitions (at, kind, site, previous, state, pof, reason, evidence) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute(
        "INSERT INTO coverage (start, end) VALUES (?, ?)",
        (T0.timestamp(), T0.timestamp() + 4 * 3600),
    )
    db.execute(f"PRAGMA user_version = {user_version}")
    db.commit()
    db.close()
    return path


def _add_round_stats(db: sqlite3.Connection) -> None:
    """A plausible version 2: per-round figures per site (the history writer's seam)."""
    db.execute("CREATE TABLE round_stats (at REAL NOT NULL, site TEXT NOT NULL, hits REAL)")
    db.execute("ALTER TABLE coverage ADD COLUMN source TEXT NOT NULL DEFAULT 'monitor'")


def _shop_outage(h: History) -> None:
    assert [(t.previous, t.state) for t in h.transitions(site="shop")] == [
        (None, "operational"),
        ("operational", "down"),
        ("down", "operational"),
    ]
    assert h.transitions(site="shop")[1].reason == "Visitors get an error."
    uptime = h.uptime("shop", timedelta(hours=4), now=T0 + timedelta(hours=4))
    assert uptime == pytest.approx(1 - 0.5 / 4)


def test_todays_file_opens_unchanged_and_migrates_forward(tmp_path: Path) -> None:
    path = _todays_file(tmp_path / "history.sqlite3")
    with History(path, migrations=V1) as h:
        assert h.schema_version == 1
        _shop_outage(h)

    with History(path, migrations={**V1, 2: _add_round_stats}) as h:
        assert h.schema_version == 2
        _shop_outage(h)  # nothing lost on the way
        h.record(change(T0 + timedelta(hours=5), SiteState.OPERATIONAL, SiteState.DOWN))
        assert len(h.transitions(site="shop")) == 4
    db = sqlite3.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    columns = {r[1] for r in db.execute("PRAGMA table_info(coverage)")}
    db.close()
    assert "round_stats" in tables and "source" in columns


def test_a_file_from_before_versioning_is_adopted(tmp_path: Path) -> None:
    path = _todays_file(tmp_path / "history.sqlite3", user_version=0)
    with History(path, migrations=V1) as h:
        assert h.schema_version == 1
        _shop_outage(h)
    with History(path) as h:  # and then migrated forward like any version 1 file
        assert h.schema_version == SCHEMA_VERSION
        _shop_outage(h)


def test_a_new_file_gets_the_current_version(tmp_path: Path) -> None:
    with History(tmp_path / "new.sqlite3") as h:
        h.record(change(T0, None, SiteState.OPERATIONAL))
        assert h.schema_version == SCHEMA_VERSION


def test_a_file_from_a_newer_lifeline_is_one_message_and_left_untouched(
    tmp_path: Path,
) -> None:
    path = _todays_file(tmp_path / "history.sqlite3", user_version=SCHEMA_VERSION + 1)
    before = path.read_bytes()
    h = History(path)
    for attempt in (
        h.transitions,
        lambda: h.record(change(T0, None, SiteState.DOWN)),
        lambda: h.mark_observed(T0),
    ):
        with pytest.raises(HistoryError) as caught:
            attempt()
        message = str(caught.value)
        assert "newer Lifeline" in message and str(path) in message
        assert f"version {SCHEMA_VERSION + 1}" in message and "\n" not in message
    h.close()
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = _todays_file(tmp_path / "history.sqlite3")

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE round_stats (at REAL)")
        db.execute("ALTER TABLE no_such_table ADD COLUMN x TEXT")

    h = History(path, migrations={**V1, 2: _add_round_stats, 3: broken})
    with pytest.raises(HistoryError, match="from schema version 1 to 3.*left as it was"):
        h.transitions()
    h.close()
    with History(path, migrations=V1) as h:  # still version 1, all there, no half-made table
        assert h.schema_version == 1
        _shop_outage(h)
        tables = {r[0] for r in h._db().execute("SELECT name FROM sqlite_master")}
        assert "round_stats" not in tables


def test_history_command_on_a_newer_file_is_one_line(paths: Paths) -> None:
    paths.history_db.parent.mkdir(parents=True, exist_ok=True)
    _todays_file(paths.history_db, user_version=SCHEMA_VERSION + 1)
    proc = subprocess.run(
        [sys.executable, "-m", "app", "history"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "newer Lifeline" in lines[0], proc.stderr

"""The year-ahead run's proof that it is a year ahead (`make test-year-ahead`, .ci/run).

That run preloads build/clock_ahead.so (scripts/clock_ahead.c) into every process of the
suite with CLOCK_AHEAD_SECONDS, and records the real time it started at in
CLOCK_AHEAD_FROM. If any clock the code reads were still today's, a test depending on
today could pass there: so every one of them is checked here, in this process and in a
child. Outside that run there is nothing to check, and these tests skip.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.loopback import LoopbackServer, Reply

AHEAD = os.environ.get("CLOCK_AHEAD_SECONDS", "")
FROM = os.environ.get("CLOCK_AHEAD_FROM", "")
PRELOADED = "clock_ahead.so" in os.environ.get("LD_PRELOAD", "")

pytestmark = pytest.mark.skipif(
    not (AHEAD and FROM and PRELOADED),
    reason="checks the clock of the year-ahead run only (make test-year-ahead)",
)

# The suite may take hours on a loaded machine; no real clock is that far off.
SLACK = 6 * 3600


def assert_ahead(seconds_since_epoch: float, clock: str) -> None:
    start = int(FROM) + int(AHEAD)
    assert start - 5 <= seconds_since_epoch <= start + SLACK, (
        f"{clock} reads {datetime.fromtimestamp(seconds_since_epoch, UTC):%Y-%m-%d %H:%M}, "
        f"not {datetime.fromtimestamp(start, UTC):%Y-%m-%d %H:%M} or later"
    )


def test_the_offset_is_a_year_and_a_different_time_of_day() -> None:
    # Half a day more than a year, so a test reading the time of day fails too.
    offset = timedelta(seconds=int(AHEAD))
    assert offset >= timedelta(days=365)
    assert timedelta(hours=6) <= offset % timedelta(days=1) <= timedelta(hours=18)


def test_python_clocks_are_ahead() -> None:
    assert_ahead(time.time(), "time.time()")
    assert_ahead(time.time_ns() / 1e9, "time.time_ns()")
    assert_ahead(datetime.now(UTC).timestamp(), "datetime.now()")
    assert_ahead(time.mktime(time.localtime()), "time.localtime()")


def test_monotonic_time_stays_real() -> None:
    # Deadlines and timeouts run on it: shifting it would test libfaketime, not Lifeline.
    assert time.monotonic() < int(AHEAD)


def test_sqlite_is_ahead() -> None:
    (now,) = sqlite3.connect(":memory:").execute("SELECT unixepoch('now')").fetchone()
    assert_ahead(now, "SQLite's 'now'")


def test_qt_is_ahead() -> None:
    from PySide6.QtCore import QDateTime

    assert_ahead(QDateTime.currentSecsSinceEpoch(), "QDateTime")


def test_child_processes_are_ahead() -> None:
    python = subprocess.run([sys.executable, "-c", "import time; print(time.time())"],
                            capture_output=True, text=True, check=True, timeout=60)
    assert_ahead(float(python.stdout), "a child Python")
    date = subprocess.run(["date", "+%s"], capture_output=True, text=True, check=True,
                          timeout=60)
    assert_ahead(int(date.stdout), "date(1)")


def test_openssl_checks_certificates_against_the_clock_ahead(tls_ca: Any) -> None:
    # Valid for two days around the time ahead: a year before it, today, it is not yet valid.
    now = datetime.now(UTC)
    cert = tls_ca.issue_cert("localhost", not_before=now - timedelta(days=1),
                             not_after=now + timedelta(days=1))
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_side)
    srv = LoopbackServer(ssl_context=server_side)
    srv.route("/", Reply(200, "ok"))
    client = ssl.create_default_context()
    tls_ca.configure_trust(client)
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw, \
                client.wrap_socket(raw, server_hostname="localhost") as tls:
            accepted = tls.getpeercert()
    finally:
        srv.close()
    # The handshake is the proof: on today's clock OpenSSL refuses the certificate as not
    # yet valid. What it accepted is the certificate made a year ahead, not another one.
    assert_ahead(ssl.cert_time_to_seconds(accepted["notAfter"]) - 86400,
                 "the certificate OpenSSL accepted")

"""Test isolation: nothing a test does touches the developer's config, data or keyring."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from app.paths import Paths, default_paths
from tests.loopback import LoopbackServer
from tests.memory_keyring import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """Point platformdirs (XDG) and HOME at tmp_path for every test."""
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("HOME", str(home))
    for var in ("LIFELINE_TICKET_TOKEN", "LIFELINE_PANTHEON_TOKEN", "LIFELINE_NEWRELIC_KEY"):
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith("LIFELINE_ROUTE_")]:  # route secrets
        monkeypatch.delenv(var)
    return default_paths()


@pytest.fixture
def paths(isolated_dirs: Paths) -> Paths:
    return isolated_dirs


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


@pytest.fixture
def make_server() -> Iterator[Any]:
    """Factory for several servers in one test (e.g. a site and a status page)."""
    servers: list[LoopbackServer] = []

    def make(**kwargs: Any) -> LoopbackServer:
        srv = LoopbackServer(**kwargs)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()


@pytest.fixture(scope="session")
def tls_ca() -> Any:
    import trustme

    return trustme.CA()


@pytest.fixture
def tls_server(tls_ca: Any) -> Iterator[LoopbackServer]:
    """An HTTPS server whose certificate is signed by the test CA (not trusted by default)."""
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    srv = LoopbackServer(ssl_context=ctx)
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def statuspage_fixtures() -> Path:
    """The real Statuspage payloads from ../shared, copied into tests/data when missing."""
    src = SHARED_FIXTURES / "statuspage"
    dst = DATA / "statuspage"
    if src.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
        for item in src.iterdir():
            if item.is_file() and not (dst / item.name).exists():
                shutil.copy(item, dst / item.name)
    return dst


def summary_payload(**overrides: Any) -> dict[str, Any]:
    """The real operational summary.json, with top-level keys replaced."""
    raw = (DATA / "statuspage" / "summary-operational.json").read_text()
    data: dict[str, Any] = json.loads(raw)
    data.update(overrides)
    return data

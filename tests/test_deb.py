"""The .deb, as a Debian or Ubuntu user gets it: apt install, run from /usr/bin, apt remove.

Built by scripts/build_deb.py from the frozen app (`make deb`, or here when dist/ has no
package newer than the archive). Run by `make package-test` (LIFELINE_PACKAGE_TEST=1);
installing needs root and apt, as on CI, and fails rather than skips there
(LIFELINE_REQUIRE_E2E=1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import APP_ID, APP_NAME, __version__
from app.paths import Paths
from tests.loopback import LoopbackServer
from tests.test_package import (  # noqa: F401  (fixtures)
    ROOT,
    _config,
    archive,
    desktop,
    run_app,
    run_in_tray,
    site,
)

MAX_DEB = 60 * 1024 * 1024
REQUIRED = os.environ.get("LIFELINE_REQUIRE_E2E") == "1"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def _build_deb_module() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_deb
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return build_deb


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"LIFELINE_REQUIRE_E2E=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def deb(archive: Path) -> Path:  # noqa: F811
    if shutil.which("dpkg-deb") is None:
        _unavailable("needs dpkg-deb (Debian or Ubuntu)")
    build_deb = _build_deb_module()
    path: Path = build_deb.deb_path()
    if not path.exists() or path.stat().st_mtime < archive.stat().st_mtime:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_deb.py"), "--no-lintian"],
                       cwd=ROOT, check=True, timeout=900)
    return path


def _dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True,
                          check=True).stdout


def test_deb_holds_the_app_its_link_desktop_entry_and_icons(deb: Path) -> None:
    assert deb.stat().st_size < MAX_DEB, f"{deb.stat().st_size / 2**20:.1f} MiB"
    fields = _dpkg_deb("-f", str(deb), "Package", "Version", "Architecture", "Depends")
    assert f"Package: {APP_NAME}\n" in fields
    assert f"Version: {__version__}\n" in fields
    for library in ("libxcb-cursor0", "libegl1", "libxkbcommon-x11-0", "libfontconfig1"):
        assert library in fields
    listing = _dpkg_deb("-c", str(deb))
    names = {line.split()[5].removeprefix(".") for line in listing.splitlines()}
    assert f"/opt/{APP_NAME}/{APP_NAME}" in names
    assert f"/usr/share/applications/{APP_ID}.desktop" in names
    assert f"/usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg" in names
    assert f"/usr/share/icons/hicolor/48x48/apps/{APP_ID}.png" in names
    link = next(line for line in listing.splitlines() if f"./usr/bin/{APP_NAME} ->" in line)
    assert link.endswith(f"-> /opt/{APP_NAME}/{APP_NAME}")
    owners = {line.split()[1] for line in listing.splitlines()}
    assert owners == {"root/root"}, owners


def test_lintian_finds_no_errors(deb: Path) -> None:
    if shutil.which("lintian") is None:
        _unavailable("needs lintian (apt install lintian)")
    errors = _build_deb_module().lintian_errors(deb)
    assert not errors, "\n".join(errors)


@pytest.fixture
def installed(deb: Path) -> Iterator[list[Path]]:
    """The package installed with apt as a user would; what dpkg says it installed."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        _unavailable("installing a .deb needs root and apt-get (CI runs as root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run(["apt-get", "install", "-y", "-q", str(deb.resolve())],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = subprocess.run(["dpkg", "-L", APP_NAME], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    files = [Path(p) for p in listed if p.startswith(("/opt/", "/usr/"))]
    try:
        yield files
    finally:
        subprocess.run(["apt-get", "remove", "-y", "-q", APP_NAME], capture_output=True,
                       env=env, timeout=600)


def test_apt_installs_runs_in_a_tray_and_removes_cleanly(
    installed: list[Path], desktop: Any, site: LoopbackServer, paths: Paths,  # noqa: F811
    tmp_path: Path, qapp: Any,
) -> None:
    binary = Path(f"/usr/bin/{APP_NAME}")
    assert binary.is_symlink() and binary.resolve() == Path(f"/opt/{APP_NAME}/{APP_NAME}")
    assert Path(f"/usr/share/applications/{APP_ID}.desktop").is_file()

    version = run_app(binary, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"lifeline {__version__}"
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    check = run_app(binary, "--self-test", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"from /opt/{APP_NAME}/_internal/resources" in check.stdout

    code, err = run_in_tray(binary, _config(tmp_path / "config.toml", site), desktop, tmp_path)
    assert code == 0, f"exit {code}: {err}"
    assert "Traceback" not in err
    log = paths.log_file.read_text(errors="replace") if paths.log_file.is_file() else ""
    problems = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]
    assert not problems, "\n".join(problems)

    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run(["apt-get", "remove", "-y", "-q", APP_NAME], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    left = [p for p in installed if p.is_symlink() or (p.exists() and not p.is_dir())]
    assert not left, left[:10]
    assert not Path(f"/opt/{APP_NAME}").exists()
    assert not binary.exists() and not binary.is_symlink()

"""The packaged app, as a user gets it: built, unpacked elsewhere, installed, launched.

The slow tests build the archive with scripts/build_package.py (or reuse dist/ when it
is newer than the sources, as after `make package`), unpack it into a temporary folder,
run `--version` and `--self-test` from there (also against a real Secret Service), then
install it with install.sh into a throwaway HOME and run it under Xvfb with a real tray
host (trayer) against a loopback site, failing on any error in its log. They run with
`make package-test` (which sets LIFELINE_PACKAGE_TEST=1); `make test` skips them.

The install.sh tests at the top are fast: they install a stand-in bundle.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import APP_ID, APP_NAME, __version__
from app.paths import Paths
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
MAX_ARCHIVE = 54 * 1024 * 1024  # no larger than before this session (issue 17)
OPERATIONAL = (0x2E, 0x7D, 0x32)  # the tray icon's colour for operational (ui/icons.py)
SOURCES = (
    "app", "ui", "lifeline", "resources", "packaging", "scripts/build_package.py",
    "pyproject.toml",
)


# --------------------------------------------------------------------------- install.sh


def fake_bundle(folder: Path) -> Path:
    """What install.sh expects beside itself, with a shell script as the app."""
    folder.mkdir(parents=True)
    app = folder / APP_NAME
    app.write_text('#!/bin/sh\necho "fake lifeline $*"\n')
    app.chmod(0o755)
    (folder / "_internal").mkdir()
    (folder / "_internal" / "marker").write_text("bundle contents")
    shutil.copy(ROOT / "packaging" / "install.sh", folder / "install.sh")
    shutil.copy(ROOT / "resources" / f"{APP_ID}.desktop", folder)
    shutil.copytree(ROOT / "resources" / "icons", folder / "icons")
    return folder


def run_install(
    folder: Path, *args: str, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if home is not None:
        env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"),
                   XDG_CONFIG_HOME=str(home / ".config"))
    return subprocess.run(
        ["sh", str(folder / "install.sh"), *args], env=env, capture_output=True, text=True,
        timeout=60,
    )


class Installed:
    def __init__(self, home: Path) -> None:
        data = Path(os.environ.get("XDG_DATA_HOME", home / ".local/share"))
        self.lib = home / ".local" / "lib" / APP_NAME
        self.binary = self.lib / APP_NAME
        self.link = home / ".local" / "bin" / APP_NAME
        self.desktop = data / "applications" / f"{APP_ID}.desktop"
        self.icons = data / "icons" / "hicolor"
        self.autostart = Path(os.environ.get("XDG_CONFIG_HOME", home / ".config")) / "autostart"


def test_install_sh_installs_for_the_user_and_uninstalls(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])  # conftest: a throwaway HOME with XDG dirs inside
    bundle = fake_bundle(tmp_path / "unpacked")
    proc = run_install(bundle)
    assert proc.returncode == 0, proc.stderr
    got = Installed(home)

    assert got.link.is_symlink() and got.link.resolve() == got.binary
    assert subprocess.run([str(got.link), "--x"], capture_output=True, text=True).stdout == (
        "fake lifeline --x\n"
    )
    assert (got.lib / "_internal" / "marker").read_text() == "bundle contents"
    entry = got.desktop.read_text()
    assert f'Exec="{got.binary}"\n' in entry  # the full path: ~/.local/bin may not be on PATH
    assert f"TryExec={got.binary}\n" in entry
    assert f"Icon={APP_ID}\n" in entry
    sizes = sorted(int(p.parent.parent.name.split("x")[0]) for p in got.icons.glob("*/apps/*.png"))
    assert sizes == [16, 22, 24, 32, 48, 64, 128, 256, 512]
    assert (got.icons / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    assert "Lifeline installed" in proc.stdout

    # "Start at login" writes an entry that runs the installed binary; uninstall removes
    # it with the app, and leaves other programs' entries alone.
    got.autostart.mkdir(parents=True)
    (got.autostart / f"{APP_ID}.desktop").write_text(f"[Desktop Entry]\nExec={got.binary}\n")
    (got.autostart / "other.desktop").write_text("[Desktop Entry]\nExec=/usr/bin/other\n")
    proc = run_install(got.lib, "--uninstall")
    assert proc.returncode == 0, proc.stderr
    assert not got.link.exists() and not got.link.is_symlink()
    assert not got.lib.exists()
    assert not got.desktop.exists()
    assert not list(got.icons.glob(f"*/apps/{APP_ID}.*"))
    assert not (got.autostart / f"{APP_ID}.desktop").exists()
    assert (got.autostart / "other.desktop").exists()
    # Issue 20: no empty icon folders left behind, and the message says what is kept
    # (the log, the outbox, the keyring's secrets) and how to remove each.
    assert not got.icons.exists()
    for kept in ("settings:", "saved tickets", "log:", "keyring", "secret-tool clear service"):
        assert kept in proc.stdout, (kept, proc.stdout)


def test_install_sh_says_how_to_run_it_when_bin_is_not_on_path(tmp_path: Path) -> None:
    """Issue 20: "run: lifeline" cannot work in a shell without ~/.local/bin on PATH."""
    home = Path(os.environ["HOME"])
    bundle = fake_bundle(tmp_path / "unpacked")
    env = dict(os.environ, PATH="/usr/bin:/bin")
    proc = subprocess.run(["sh", str(bundle / "install.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    link = home / ".local" / "bin" / APP_NAME
    assert f"run: {link}\n" in proc.stdout and "run: lifeline\n" not in proc.stdout
    on_path = dict(os.environ, PATH=f"{link.parent}:/usr/bin:/bin")
    proc = subprocess.run(["sh", str(bundle / "install.sh")], env=on_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"run: {APP_NAME}\n" in proc.stdout and "not on your PATH" not in proc.stdout


def test_install_sh_upgrades_in_place_and_quotes_odd_homes(tmp_path: Path) -> None:
    home = tmp_path / "home with space & 100%"
    home.mkdir()
    first = fake_bundle(tmp_path / "v1")
    assert run_install(first, home=home).returncode == 0
    second = fake_bundle(tmp_path / "v2")
    (second / "_internal" / "marker").write_text("version two")
    proc = run_install(second, home=home)
    assert proc.returncode == 0, proc.stderr
    lib = home / ".local" / "lib" / APP_NAME
    assert (lib / "_internal" / "marker").read_text() == "version two"
    assert not list(lib.parent.glob(f"{APP_NAME}.new.*")), "staging folder left behind"
    entry = (home / ".local/share/applications" / f"{APP_ID}.desktop").read_text()
    # Desktop Entry spec: quoted, `%` doubled, no unescaped reserved characters.
    assert f'Exec="{lib / APP_NAME}"'.replace("%", "%%") in entry


def test_desktop_entries_are_valid(tmp_path: Path) -> None:
    """The shipped entry and the one install.sh writes pass freedesktop's validator."""
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        if os.environ.get("LIFELINE_REQUIRE_E2E") == "1":
            pytest.fail("LIFELINE_REQUIRE_E2E=1 but desktop-file-validate is missing")
        pytest.skip("desktop-file-validate is not installed (apt install desktop-file-utils)")
    assert run_install(fake_bundle(tmp_path / "unpacked")).returncode == 0
    installed = Installed(Path(os.environ["HOME"])).desktop
    for entry in (ROOT / "resources" / f"{APP_ID}.desktop", installed):
        proc = subprocess.run([validator, str(entry)], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_install_sh_leaves_a_foreign_folder_alone(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    foreign = home / ".local" / "lib" / APP_NAME
    foreign.mkdir(parents=True)
    (foreign / "mine").write_text("not Lifeline's")
    proc = run_install(fake_bundle(tmp_path / "unpacked"))
    assert proc.returncode == 1
    assert "was not made by install.sh" in proc.stderr
    assert (foreign / "mine").read_text() == "not Lifeline's"


# --------------------------------------------------------------------------- the build


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            if "__pycache__" not in file.parts:
                newest = max(newest, file.stat().st_mtime)
    return newest


def archive_path() -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_package
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    path: Path = build_package.archive_path()
    return path


@pytest.fixture(scope="module")
def archive() -> Path:
    if os.environ.get("LIFELINE_PACKAGE_TEST") != "1":
        pytest.skip("builds the frozen app: run by `make package-test` (LIFELINE_PACKAGE_TEST=1)")
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux archive is tested here; the workflow builds the others")
    path = archive_path()
    if not path.exists() or path.stat().st_mtime < _newest_source():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_package.py")],
                       cwd=ROOT, check=True, timeout=1200)
    return path


@pytest.fixture(scope="module")
def unpacked(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive unpacked somewhere else, as a user would."""
    target = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="tar")
    (top,) = list(target.iterdir())
    return top


def run_app(binary: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=binary.parent)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_archive_holds_the_app_and_its_desktop_files(archive: Path, unpacked: Path) -> None:
    assert archive.stat().st_size < MAX_ARCHIVE, f"{archive.stat().st_size / 2**20:.1f} MiB"
    assert archive.name.endswith(".tar.xz")
    assert unpacked.name == archive.name.removesuffix(".tar.xz")
    assert os.access(unpacked / APP_NAME, os.X_OK)
    assert os.access(unpacked / "install.sh", os.X_OK)
    assert (unpacked / f"{APP_ID}.desktop").is_file()
    assert (unpacked / "icons" / f"{APP_ID}.svg").is_file()
    internal = unpacked / "_internal"
    # Left out on purpose: QML/Quick, WebEngine, Qt translations, the GTK theme's GTK stack.
    assert not list(internal.rglob("libQt6Quick*")) and not list(internal.rglob("libQt6Qml*"))
    assert not list(internal.rglob("libQt6WebEngine*")) and not list(internal.rglob("*.qm"))
    assert not list(internal.rglob("libgtk-3*"))
    # Kept on purpose: the X11 and Wayland platforms, offscreen for --self-test.
    platforms = {p.name for p in internal.rglob("platforms/*.so")}
    assert {"libqxcb.so", "libqwayland.so", "libqoffscreen.so"} <= platforms


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_unpacked_app_prints_its_version(unpacked: Path) -> None:
    proc = run_app(unpacked / APP_NAME, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"lifeline {__version__}"


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_unpacked_app_passes_its_self_test(unpacked: Path) -> None:
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # offscreen by itself, with or without a display
    env.pop("QT_QPA_PLATFORM", None)
    proc = run_app(unpacked / APP_NAME, "--self-test", env=env)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "(frozen," in lines[0]
    steps = [line.split(":")[0] for line in lines[1:-1]]
    assert steps == [f"ok  {name}" for name in
                     ("qt", "icons", "modules", "resources", "keyring", "check", "autostart",
                      "startup")]
    assert f"from {unpacked / '_internal' / 'resources'}" in proc.stdout
    assert f"start at login would run {unpacked / APP_NAME}" in proc.stdout
    assert "Traceback" not in proc.stderr


def _secret_service_missing() -> str | None:
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt install dbus gnome-keyring)"
    return None


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_unpacked_app_finds_the_secret_service(unpacked: Path, tmp_path: Path) -> None:
    """keyring loads backends by entry point: the frozen app must still find SecretService."""
    reason = _secret_service_missing()
    if reason:
        if os.environ.get("LIFELINE_REQUIRE_E2E") == "1":
            pytest.fail(f"LIFELINE_REQUIRE_E2E=1 but {reason}")
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "GNOME_KEYRING"))}
    env.pop("DISPLAY", None)  # no unlock prompt on anyone's screen
    env["NO_AT_BRIDGE"] = "1"
    shell = (
        'eval "$(printf %s keyring-test-pw | gnome-keyring-daemon --unlock --components=secrets)"'
        ' && exec "$0" --self-test'
    )
    proc = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", shell, str(unpacked / APP_NAME)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok  keyring: backend keyring.backends.SecretService.Keyring" in proc.stdout


# --------------------------------------------------------------------------- in a tray


@pytest.fixture
def site(make_server: Any) -> LoopbackServer:
    server: LoopbackServer = make_server()
    server.route("/", Reply(200, "<title>Shop</title><p>open</p>"))
    server.route("/user/login", Reply(200, "<title>Log in</title>"))
    server.route("/api/v2/summary.json", Reply.json(summary_payload()))
    return server


def _config(path: Path, site: LoopbackServer) -> Path:
    path.write_text(
        "[provider]\n"
        f'status_page = "{site.url}"\n'
        "[monitor]\n"
        "interval = 30\ntimeout = 5\nretries = 0\n"
        "[[site]]\n"
        'name = "shop"\n'
        f'url = "{site.url}/"\n'
        f'backend_url = "{site.url}/user/login"\n'
    )
    return path


def _operational_pixels(png: Path) -> int:
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if all(abs(a - b) < 20 for a, b in zip((c.red(), c.green(), c.blue()), OPERATIONAL,
                                                  strict=True)):
                count += 1
    return count


@pytest.fixture
def desktop() -> Iterator[Any]:
    from tests import xvfb

    missing = xvfb.missing_tools()
    if missing:
        reason = f"needs {', '.join(missing)} (apt install xvfb trayer imagemagick x11-utils)"
        if os.environ.get("LIFELINE_REQUIRE_E2E") == "1":
            pytest.fail(f"LIFELINE_REQUIRE_E2E=1 but {reason}")
        pytest.skip(reason)
    with xvfb.VirtualDesktop() as virtual:
        yield virtual


def run_in_tray(binary: Path, config: Path, desktop: Any, tmp_path: Path,
                keep: Path | None = None) -> tuple[int, str]:
    """Run the installed app in the desktop's tray until its icon turns operational green
    (it has started, docked and checked the loopback site), then end it with SIGTERM as a
    session logout would; its exit code and standard error."""
    from tests.xvfb import poll

    err = tmp_path / "stderr.txt"
    with err.open("wb") as stderr:
        app = subprocess.Popen([str(binary), "--config", str(config)], env=desktop.env(),
                               stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        panel = desktop.panel_geometry()
        shot = tmp_path / "tray.png"

        def green_icon_or_exit() -> bool:
            if app.poll() is not None:
                return True
            desktop.screenshot(shot, crop=panel)
            return _operational_pixels(shot) >= 100

        assert poll(green_icon_or_exit, timeout=45, step=0.5), "no operational icon in the tray"
        assert app.poll() is None, f"app exited {app.returncode}: {err.read_text()}"
        if keep is not None:  # for a person to look at
            keep.parent.mkdir(exist_ok=True)
            desktop.screenshot(keep)
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            code = app.wait(15)
        except subprocess.TimeoutExpired:
            app.kill()
            code = app.wait(5)
    return code, err.read_text(errors="replace")


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(1500)
def test_installed_app_shows_its_icon_in_a_tray(
    unpacked: Path, desktop: Any, site: LoopbackServer, paths: Paths, tmp_path: Path, qapp: Any
) -> None:

    home = Path(os.environ["HOME"])
    proc = run_install(unpacked)
    assert proc.returncode == 0, proc.stderr
    got = Installed(home)

    # Through the ~/.local/bin link, the app still knows its real, installed path: that
    # is what "Start at login" writes into the autostart entry.
    check = run_app(got.link, "--self-test")
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"start at login would run {got.binary}\n" in check.stdout

    config = _config(tmp_path / "config.toml", site)
    code, err = run_in_tray(got.link, config, desktop, tmp_path,
                            keep=ROOT / "build" / "package-test-tray.png")
    assert any(r.path == "/user/login" for r in site.requests)
    assert paths.log_file.is_file(), f"no log at {paths.log_file}"
    text = paths.log_file.read_text(errors="replace")
    problems = [line for line in text.splitlines() if " ERROR " in line or "Traceback" in line]
    assert not problems, "\n".join(problems)
    assert "Traceback" not in err, err
    assert code == 0, f"exit {code}: {err}"

    proc = run_install(got.lib, "--uninstall")
    assert proc.returncode == 0 and not got.lib.exists() and not got.link.is_symlink()

"""Build the frozen app with PyInstaller and pack it for this platform (`make package`).

Linux:   dist/lifeline/ (one folder) and dist/lifeline-<version>-linux-<arch>.tar.xz,
         which holds that folder plus install.sh, the .desktop entry and the icons.
macOS:   dist/Lifeline.app (tray-only) and dist/lifeline-<version>-macos-<arch>.zip.
Windows: dist/lifeline/ and dist/lifeline-<version>-windows-<arch>.zip.

Prints the build time, the bundle's size and the archive's size.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import APP_DISPLAY_NAME, APP_ID, APP_NAME, __version__  # noqa: E402

DIST = ROOT / "dist"
BUILD = ROOT / "build"
SPEC = ROOT / "packaging" / "lifeline.spec"
RESOURCES = ROOT / "resources"
LINUX_SUFFIX = ".tar.xz"


def platform_tag() -> str:
    names = {"linux": "linux", "darwin": "macos", "win32": "windows"}
    system = names.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def archive_path() -> Path:
    suffix = LINUX_SUFFIX if sys.platform.startswith("linux") else ".zip"
    return DIST / f"{APP_NAME}-{__version__}-{platform_tag()}{suffix}"


def bundle_path() -> Path:
    if sys.platform == "darwin":
        return DIST / f"{APP_DISPLAY_NAME}.app"
    return DIST / APP_NAME


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def run_pyinstaller() -> None:
    subprocess.run(
        [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
            "--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller"), str(SPEC),
        ],
        check=True,
        cwd=ROOT,
    )


def pack_linux(bundle: Path, archive: Path) -> None:
    """One top folder: the app itself, and what install.sh needs beside it."""
    top = archive.name.removesuffix(LINUX_SUFFIX)

    def add(tar: tarfile.TarFile, path: Path, name: str) -> None:
        tar.add(path, arcname=f"{top}/{name}", filter=_normalise)

    tmp = archive.with_suffix(".tmp")
    # xz: 41 MiB where gzip gave 56 (the ICU data and Qt libraries compress far better);
    # about a minute on one core, paid once per build. Every tar unpacks it (`tar xf`).
    with tarfile.open(tmp, "w:xz", preset=6) as tar:
        for item in sorted(bundle.iterdir()):
            add(tar, item, item.name)
        add(tar, ROOT / "packaging" / "install.sh", "install.sh")
        add(tar, RESOURCES / f"{APP_ID}.desktop", f"{APP_ID}.desktop")
        add(tar, RESOURCES / "icons", "icons")
    tmp.replace(archive)


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Reproducible-ish and free of the builder's identity.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if info.name.endswith("/install.sh"):
        info.mode = 0o755
    return info


def pack_zip(bundle: Path, archive: Path) -> None:
    archive.unlink(missing_ok=True)
    if sys.platform == "darwin":
        # ditto keeps the .app's symlinks and signatures, which zipfile would flatten.
        subprocess.run(
            ["ditto", "-c", "-k", "--keepParent", str(bundle), str(archive)], check=True
        )
    else:
        shutil.make_archive(str(archive.with_suffix("")), "zip", bundle.parent, bundle.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-build", action="store_true", help="only pack an existing dist/ bundle"
    )
    args = parser.parse_args(argv)

    icons = sorted((RESOURCES / "icons" / "hicolor").glob(f"*/apps/{APP_ID}.png"))
    if len(icons) < 9 or not (RESOURCES / f"{APP_ID}.desktop").is_file():
        print("resources/ lacks the icons or the desktop entry; run scripts/render_icons.py",
              file=sys.stderr)
        return 1

    started = time.monotonic()
    if not args.no_build:
        run_pyinstaller()
    built = time.monotonic()
    bundle, archive = bundle_path(), archive_path()
    if not bundle.exists():
        print(f"no bundle at {bundle}", file=sys.stderr)
        return 1
    if sys.platform.startswith("linux"):
        pack_linux(bundle, archive)
    else:
        pack_zip(bundle, archive)
    packed = time.monotonic()

    print(f"build:   {built - started:.0f} s (PyInstaller), {packed - built:.0f} s (archive)")
    print(f"bundle:  {bundle.relative_to(ROOT)}  {mib(tree_size(bundle))}")
    print(f"archive: {archive.relative_to(ROOT)}  {mib(archive.stat().st_size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build dist/lifeline_<version>_<arch>.deb from the frozen one-folder app (`make deb`).

The package installs the app under /opt/lifeline with /usr/bin/lifeline as a link, the
desktop entry and the hicolor icons under /usr/share, and depends on the libraries the
frozen Qt loads from the system (the xcb, EGL and font libraries; everything else is in
the bundle). It is built with dpkg-deb alone: no network, no debhelper.

Lintian is run on the result when it is installed; its errors fail the build. The tags
that follow from shipping a self-contained PyInstaller bundle under /opt (a vendor
layout, like most third-party desktop .debs) are overridden with the reason beside each.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import APP_DISPLAY_NAME, APP_ID, APP_NAME, __version__  # noqa: E402

DIST = ROOT / "dist"
RESOURCES = ROOT / "resources"
MAINTAINER = "Lifeline developers <lifeline@example.org>"

# What the frozen Qt (xcb platform, EGL/GL, fonts, D-Bus tray and keyring) loads from the
# system on a minimal desktop; the same list as the xcb libraries in .ci/run.
DEPENDS = (
    "libc6 (>= 2.31)",
    "libdbus-1-3",
    "libegl1",
    "libfontconfig1",
    "libfreetype6",
    "libgl1",
    "libglib2.0-0 | libglib2.0-0t64",
    "libx11-6",
    "libx11-xcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "libxcb-xfixes0",
    "libxcb1",
    "libxkbcommon-x11-0",
    "libxkbcommon0",
)
RECOMMENDS = ("gnome-keyring | kwalletmanager | keepassxc",)

SUMMARY = "tray monitor for Pantheon and Statuspage sites, one-click emergency ticket"
DESCRIPTION = """\
 Lifeline watches your websites as a visitor and, bypassing the CDN cache, as an
 editor, and watches your host's Atlassian Statuspage. It shows the impact as a
 coloured tray icon (operational, degraded, editors blocked, down, unknown,
 maintenance) with the point of failure (site, platform or your own network).
 .
 When a Live site goes down it opens a pre-filled emergency ticket in one click:
 through the Pantheon dashboard with the text on the clipboard, the agency's own
 on-call or help-desk service, or the phone hotline with the text ready to read
 out. It is also a headless tool: `lifeline check` (Nagios exit codes) and
 `lifeline watch`.
"""

# Tags that a self-contained vendor bundle under /opt cannot avoid, each with why.
LINTIAN_OVERRIDES = {
    "dir-or-file-in-opt": "a self-contained vendor bundle lives in /opt/lifeline",
    "embedded-library": "PyInstaller bundles Python and Qt with the app, tested together",
    "shared-library-lacks-prerequisites": "bundled Python extension modules",
    "shared-library-is-executable": "bundled libraries as PyInstaller ships them",
    "library-not-linked-against-libc": "bundled Qt plugins",
    "custom-library-search-path": "Qt's libraries find each other inside the bundle",
    "hardening-no-pie": "PyInstaller's bootloader as shipped",
    "hardening-no-fortify-functions": "bundled third-party binaries as shipped",
    "hardening-no-bindnow": "bundled third-party binaries as shipped",
    "spelling-error-in-binary": "bundled third-party binaries",
    "extra-license-file": "third-party licences shipped with the bundled libraries",
    "no-manual-page": "a desktop app; `lifeline --help` documents the commands",
}


def deb_arch() -> str:
    out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def deb_path(arch: str | None = None) -> Path:
    return DIST / f"{APP_NAME}_{__version__}_{arch or deb_arch()}.deb"


def stage(bundle: Path, root: Path) -> None:
    """Lay out the package's files under `root` as they will be on the system."""
    opt = root / "opt" / APP_NAME
    shutil.copytree(bundle, opt, symlinks=True)
    usr_bin = root / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    (usr_bin / APP_NAME).symlink_to(f"/opt/{APP_NAME}/{APP_NAME}")

    share = root / "usr" / "share"
    applications = share / "applications"
    applications.mkdir(parents=True)
    shutil.copy2(RESOURCES / f"{APP_ID}.desktop", applications / f"{APP_ID}.desktop")
    icons = share / "icons" / "hicolor"
    for png in sorted((RESOURCES / "icons" / "hicolor").glob(f"*/apps/{APP_ID}.png")):
        target = icons / png.relative_to(RESOURCES / "icons" / "hicolor")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target)
    scalable = icons / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(RESOURCES / "icons" / f"{APP_ID}.svg", scalable / f"{APP_ID}.svg")

    doc = share / "doc" / APP_NAME
    doc.mkdir(parents=True)
    licence = (ROOT / "LICENSE").read_text()
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {APP_NAME}\n\nFiles: *\nCopyright: Lifeline developers\n"
        "License: MIT\n" + "".join(f" {line}\n" if line else " .\n"
                                   for line in licence.splitlines())
    )
    changelog = (
        f"{APP_NAME} ({__version__}) unstable; urgency=medium\n\n"
        "  * Packaged from the frozen one-folder app.\n\n"
        f" -- {MAINTAINER}  Sun, 29 Nov 2026 00:00:00 +0000\n"
    )
    with gzip.GzipFile(doc / "changelog.gz", "wb", mtime=0) as out:
        out.write(changelog.encode())

    overrides = share / "lintian" / "overrides"
    overrides.mkdir(parents=True)
    (overrides / APP_NAME).write_text(
        "".join(f"# {why}\n{APP_NAME}: {tag}\n" for tag, why in LINTIAN_OVERRIDES.items())
    )
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        # Policy modes: 0755 for folders and executables, 0644 for everything else.
        if path.is_dir() or path.stat().st_mode & 0o111:
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def installed_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def md5sums(root: Path) -> str:
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            lines.append(f"{digest}  {path.relative_to(root)}\n")
    return "".join(lines)


def control(root: Path, arch: str) -> str:
    fields = {
        "Package": APP_NAME,
        "Version": __version__,
        "Architecture": arch,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_size_kib(root)),
        "Depends": ", ".join(DEPENDS),
        "Recommends": ", ".join(RECOMMENDS),
        "Section": "net",
        "Priority": "optional",
        "Description": f"{SUMMARY}\n{DESCRIPTION.rstrip()}",
    }
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def build(bundle: Path, out: Path, arch: str) -> None:
    with tempfile.TemporaryDirectory(prefix="lifeline-deb-") as tmp:
        root = Path(tmp) / "root"
        stage(bundle, root)
        sums, fields = md5sums(root), control(root, arch)  # before DEBIAN/ exists
        debian = root / "DEBIAN"
        debian.mkdir(mode=0o755)
        (debian / "control").write_text(fields)
        (debian / "md5sums").write_text(sums)
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(out)],
            check=True, stdout=subprocess.DEVNULL,
        )


def lintian_errors(deb: Path) -> list[str]:
    """Lintian's error lines (empty when lintian is not installed: then say so)."""
    proc = subprocess.run(["lintian", "--no-tag-display-limit", str(deb)],
                          capture_output=True, text=True)
    return [line for line in proc.stdout.splitlines() if line.startswith("E:")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lintian", action="store_true", help="skip the lintian check")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
        print("a .deb is built on Debian or Ubuntu (dpkg-deb not found)", file=sys.stderr)
        return 1
    bundle = DIST / APP_NAME
    if not (bundle / APP_NAME).is_file():
        print(f"no frozen app at {bundle}: run `make package` first", file=sys.stderr)
        return 1
    arch = deb_arch()
    out = deb_path(arch)
    build(bundle, out, arch)
    print(f"deb:     {out.relative_to(ROOT)}  {out.stat().st_size / 2**20:.1f} MiB "
          f"({APP_DISPLAY_NAME} {__version__}, {arch})")
    if args.no_lintian:
        return 0
    if shutil.which("lintian") is None:
        print("lintian: not installed, not checked (apt install lintian)")
        return 0
    errors = lintian_errors(out)
    for line in errors:
        print(line, file=sys.stderr)
    print(f"lintian: {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

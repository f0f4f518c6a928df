"""Render the app icon's PNGs from its hand-drawn SVGs (run after editing an SVG).

    python scripts/render_icons.py          # write resources/icons/hicolor/*/apps/*.png
    python scripts/render_icons.py --check  # exit 1 when a PNG is missing or differs

Sizes up to 32 px come from the simplified -small SVG (a 1.8 px line drawn at 16 px
would blur into the shield); larger ones from the full drawing. The PNGs sit in the
XDG icon-theme layout so install.sh copies the tree as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import APP_ID  # noqa: E402

ICONS = ROOT / "resources" / "icons"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
SMALL_UP_TO = 32


def svg_for(size: int) -> Path:
    name = f"{APP_ID}-small.svg" if size <= SMALL_UP_TO else f"{APP_ID}.svg"
    return ICONS / name


def png_for(size: int) -> Path:
    return ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def render(svg: Path, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def same_pixels(a: bytes, b: bytes, tolerance: int = 8) -> bool:
    """Equal images, give or take antialiasing (Qt versions round edges differently)."""
    from PySide6.QtGui import QImage

    first, second = QImage.fromData(a), QImage.fromData(b)
    if first.isNull() or first.size() != second.size():
        return False
    for y in range(first.height()):
        for x in range(first.width()):
            p, q = first.pixelColor(x, y), second.pixelColor(x, y)
            channels = zip(p.getRgb(), q.getRgb(), strict=True)
            if any(abs(u - v) > tolerance for u, v in channels):
                return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the PNGs are current")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts need one
    stale = []
    for size in SIZES:
        target = png_for(size)
        data = render(svg_for(size), size)
        if args.check:
            if not target.exists() or not same_pixels(target.read_bytes(), data):
                stale.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{target.relative_to(ROOT)}  {len(data)} bytes")
    if stale:
        for path in stale:
            print(f"stale or missing: {path.relative_to(ROOT)}", file=sys.stderr)
        print("run: python scripts/render_icons.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

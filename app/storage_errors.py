"""Why a local database could not be used, in words a person can act on.

On a full disk SQLite often reports "disk I/O error" (it could not grow its WAL or
shared-memory file), not "database or disk is full". The free space tells them apart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

_NEARLY_FULL = 64 * 1024  # bytes: less than this is a full disk to SQLite


def explain(path: Path, detail: str) -> str:
    """`detail`, plus "the disk holding it is full" when that is the cause."""
    folder = path if path.is_dir() else path.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return detail
    if free < _NEARLY_FULL and "full" not in detail:
        return f"{detail}; the disk holding it is full"
    if free < _NEARLY_FULL:
        return f"{detail} (free some space on that disk)"
    return detail

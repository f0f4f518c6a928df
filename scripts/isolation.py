"""A throwaway HOME and XDG dirs for scripts that run the real app (screenshots).

The same isolation the tests get from tests/conftest.py, so a script never reads or
writes the user's config, data, logs or keyring.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def isolated_env(base: dict[str, str], home: Path) -> dict[str, str]:
    """`base` with HOME and every XDG dir pointed into `home` (created)."""
    env = dict(base)
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        env[var] = str(home / sub)
    env["HOME"] = str(home)
    return env


@contextlib.contextmanager
def isolated(**extra: str) -> Iterator[Path]:
    """This process's environment isolated (plus `extra`, offscreen Qt) until the block ends."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="lifeline-shots-") as tmp:
        home = Path(tmp)
        try:
            os.environ.update(isolated_env(dict(os.environ), home))
            os.environ.update(extra)
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            yield home
        finally:
            os.environ.clear()
            os.environ.update(saved)

"""A UTF-8 locale before Qt starts, chosen by us rather than announced by Qt.

Under the C/POSIX locale (a minimal container, cron, `env -i`) Qt prints three lines
("Detected locale "C"... has switched to "C.UTF-8"") on stderr when the application is
made, in the middle of `--self-test`'s report. Qt would switch to C.UTF-8 anyway; asking
for it first gives the same behaviour without the noise. A real UTF-8 locale is left as
it is.
"""

from __future__ import annotations

import locale
import os
from collections.abc import MutableMapping


def _codeset_is_utf8() -> bool:
    try:
        previous = locale.setlocale(locale.LC_CTYPE)
        locale.setlocale(locale.LC_CTYPE, "")
        codeset = locale.nl_langinfo(locale.CODESET)
        locale.setlocale(locale.LC_CTYPE, previous)
    except (locale.Error, AttributeError):  # no such locale, or no nl_langinfo (Windows)
        return True
    return codeset.replace("-", "").upper() == "UTF8"


def prefer_utf8_locale(environ: MutableMapping[str, str] | None = None) -> bool:
    """Ask for C.UTF-8's character handling when the locale's is not UTF-8 (before the
    QApplication is made). True when it changed something."""
    env = os.environ if environ is None else environ
    if os.name != "posix" or _codeset_is_utf8():
        return False
    # LC_ALL outranks LC_CTYPE: replace it when set, else set only the character type.
    env["LC_ALL" if env.get("LC_ALL") else "LC_CTYPE"] = "C.UTF-8"
    return True

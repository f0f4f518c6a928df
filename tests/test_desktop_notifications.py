"""The Notify call Lifeline sends (the Desktop Notifications spec's wire format); the
round trip through a real server (dunst) is in tests/test_e2e_sni.py."""

from __future__ import annotations

import pytest

from app.notices import Level, Notification
from ui.desktop_notifications import DEFAULT_ACTION, notify_message

jeepney = pytest.importorskip("jeepney")

DOWN = Notification("shop: Down", "503 <b>Service</b> & co", Level.CRITICAL, ("shop",))


def test_notify_has_the_spec_signature_urgency_and_a_default_action() -> None:
    message = notify_message(DOWN, markup=False, expire_ms=10_000)
    assert message.header.fields[jeepney.low_level.HeaderFields.signature] == "susssasa{sv}i"
    app, replaces, icon, title, body, actions, hints, expire = message.body
    assert (app, replaces, icon, title) == ("Lifeline", 0, "io.github.lifeline", "shop: Down")
    assert body == "503 <b>Service</b> & co"  # a server without body-markup shows it as is
    assert actions[0] == DEFAULT_ACTION  # a click on the message itself
    assert hints["urgency"] == ("y", 2) and hints["desktop-entry"] == ("s", "io.github.lifeline")
    assert expire == -1  # critical: stays until dismissed
    # Serialises as the spec has it (a uint32 replaces_id, a byte urgency).
    assert message.serialise(serial=1)


def test_body_is_escaped_for_a_server_that_reads_markup() -> None:
    info = Notification("Pantheon: Operational", "a <i>b</i> & c", Level.INFO)
    body, hints, expire = (lambda m: (m.body[4], m.body[6], m.body[7]))(
        notify_message(info, markup=True, expire_ms=10_000)
    )
    assert body == "a &lt;i&gt;b&lt;/i&gt; &amp; c"
    assert hints["urgency"] == ("y", 1) and expire == 10_000

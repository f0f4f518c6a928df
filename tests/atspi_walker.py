"""Walk a running app's accessibility tree over the real AT-SPI bus (for test_atspi.py).

    /usr/bin/python3 tests/atspi_walker.py APP_NAME tree
    /usr/bin/python3 tests/atspi_walker.py APP_NAME focus
    /usr/bin/python3 tests/atspi_walker.py APP_NAME tabs N

Runs under the system Python (python3-pyatspi is a Debian package, not a wheel), so it
imports nothing of Lifeline's. `tree` prints one JSON object per showing node (role,
name, description, states, text, extents, the names it is labelled by); `focus` prints
the focused node the same way. Whatever Orca would read, this reads.
"""

from __future__ import annotations

import json
import sys
import time

import pyatspi


def find_app(name: str, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        desktop = pyatspi.Registry.getDesktop(0)
        for index in range(desktop.childCount):
            app = desktop.getChildAtIndex(index)
            if app is not None and app.name == name:
                return app
        if time.monotonic() > deadline:
            names = [desktop.getChildAtIndex(i).name for i in range(desktop.childCount)]
            raise SystemExit(f"no application {name!r} on the AT-SPI bus (found {names})")
        time.sleep(0.2)


def describe(node) -> dict:  # type: ignore[no-untyped-def]
    states = node.getState()
    text = ""
    try:
        face = node.queryText()
        text = face.getText(0, face.characterCount)
    except NotImplementedError:
        pass
    try:
        box = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        extents = [box.x, box.y, box.width, box.height]
    except NotImplementedError:
        extents = [0, 0, 0, 0]
    labelled_by = []
    for relation in node.getRelationSet():
        if relation.getRelationType() == pyatspi.RELATION_LABELLED_BY:
            labelled_by += [relation.getTarget(i).name for i in range(relation.getNTargets())]
    return {
        "role": node.getRoleName(),
        "name": node.name or "",
        "description": node.description or "",
        "text": text,
        "states": sorted(pyatspi.stateToString(s) for s in states.getStates()),
        "extents": extents,
        "labelled_by": labelled_by,
    }


def walk(node, out: list, depth: int = 0) -> None:  # type: ignore[no-untyped-def]
    if node is None or depth > 40:
        return
    states = node.getState()
    if depth > 1 and not states.contains(pyatspi.STATE_SHOWING):
        return
    out.append(describe(node))
    for index in range(node.childCount):
        walk(node.getChildAtIndex(index), out, depth + 1)


def focused(node, depth: int = 0):  # type: ignore[no-untyped-def]
    """The deepest focused node (a table's focused cell, not the table around it)."""
    if node is None or depth > 40:
        return None
    for index in range(node.childCount):
        found = focused(node.getChildAtIndex(index), depth + 1)
        if found is not None:
            return found
    states = node.getState()
    if states.contains(pyatspi.STATE_FOCUSED) and states.contains(pyatspi.STATE_SHOWING):
        return node
    return None


def tabs(app, count: int) -> list:  # type: ignore[no-untyped-def]
    """Press Tab `count` times (xdotool: a real key event on the X server) and note the
    node each press gives the focus to, from the focus events a screen reader gets."""
    import subprocess

    from gi.repository import GLib

    pid = app.get_process_id()
    events: list = []

    def on_focus(event) -> None:  # type: ignore[no-untyped-def]
        if event.detail1 == 1 and event.source is not None:
            try:
                if event.source.get_process_id() == pid:
                    events.append(describe(event.source))
            except Exception:  # a node gone before we asked: not the focus any more
                pass

    pyatspi.Registry.registerEventListener(on_focus, "object:state-changed:focused")
    context = GLib.MainContext.default()
    seen = []
    for _ in range(count):
        events.clear()
        subprocess.run(["xdotool", "key", "Tab"], check=True)
        deadline = time.monotonic() + 3
        quiet_until = None
        while time.monotonic() < deadline:
            if context.iteration(False):
                continue
            if events and quiet_until is None:
                quiet_until = time.monotonic() + 0.2  # let a burst (table, cell) settle
            if quiet_until is not None and time.monotonic() > quiet_until:
                break
            time.sleep(0.01)
        seen.append(events[-1] if events else None)
    pyatspi.Registry.deregisterEventListener(on_focus, "object:state-changed:focused")
    return seen


def main() -> int:
    app = find_app(sys.argv[1])
    if sys.argv[2] == "tree":
        out: list = []
        walk(app, out)
        for node in out:
            print(json.dumps(node))
    elif sys.argv[2] == "tabs":
        for node in tabs(app, int(sys.argv[3])):
            print(json.dumps(node))
    else:
        node = focused(app)
        print(json.dumps(describe(node) if node is not None else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())

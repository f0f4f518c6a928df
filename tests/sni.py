"""A real StatusNotifierItem host for tests: Xvfb, a private session bus, XFCE's panel with
only its systray plugin (which is the org.kde.StatusNotifierWatcher and draws the items),
and dunst as the notification daemon; plus a small D-Bus client that reads an item the way
a host does (the SNI properties, dbusmenu GetLayout and Event), with jeepney (pure Python).

Nothing here touches the machine's own session: the bus is a dbus-daemon this module
starts, and xfconfd (activated on that bus) reads the panel's settings from a minimal
channel file under the test's own folder, with the system's defaults shut out.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, Properties, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from tests.xvfb import VirtualDesktop, poll, stop_all

TOOLS = ("Xvfb", "dbus-daemon", "xfce4-panel", "dunst", "dunstctl", "import", "xwininfo",
         "xdotool")
WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
PANEL_HEIGHT = 32

# One panel at the top, full width, holding the systray plugin alone (xfconf's XML format,
# as xfce4-panel writes it itself).
PANEL_CHANNEL = f"""<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="{PANEL_HEIGHT}"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"""


def missing_tools() -> list[str]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    try:
        import jeepney  # noqa: F401
    except ImportError:
        missing.append("jeepney (pip install -e '.[dev]')")
    return missing


class SniDesktop:
    """Xvfb + a private session bus + xfce4-panel (systray only) + dunst."""

    def __init__(self, root: Path, width: int = 800, height: int = 600) -> None:
        self.root = root
        self.x = VirtualDesktop(width, height, tray=False)
        self.bus_address = ""
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs = root / "logs"

    def __enter__(self) -> SniDesktop:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _session_env(self) -> dict[str, str]:
        """What the bus, and so xfconfd it activates, and the panel run with."""
        config = self.root / "config"
        channel = config / "xfce4" / "xfconf" / "xfce-perchannel-xml" / "xfce4-panel.xml"
        channel.parent.mkdir(parents=True, exist_ok=True)
        channel.write_text(PANEL_CHANNEL, encoding="utf-8")
        env = self.x.env()
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CONFIG_DIRS", "no-system-config"),
                         ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"),
                         ("XDG_STATE_HOME", "state"), ("XDG_RUNTIME_DIR", "run")):
            (self.root / sub).mkdir(mode=0o700, exist_ok=True)
            env[var] = str(self.root / sub)
        env.pop("SESSION_MANAGER", None)
        return env

    def start(self) -> None:
        self._logs.mkdir(parents=True, exist_ok=True)
        self.x.start()
        env = self._session_env()
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            env=env, stdout=subprocess.PIPE, stderr=self._log("dbus"),
        )
        self._procs.append(bus)
        assert bus.stdout is not None
        self.bus_address = bus.stdout.readline().decode().strip()
        if not self.bus_address:
            raise RuntimeError(f"dbus-daemon did not start: {self.log('dbus')}")
        env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        # -d: no window manager here, do not wait for one.
        self._procs.append(subprocess.Popen(
            ["xfce4-panel", "-d"], env=env, stdout=subprocess.DEVNULL, stderr=self._log("panel")
        ))
        self._procs.append(subprocess.Popen(
            ["dunst"], env=env, stdout=subprocess.DEVNULL, stderr=self._log("dunst")
        ))
        with self.client() as client:
            ready = poll(lambda: client.has_name(WATCHER) and client.has_name(
                "org.freedesktop.Notifications") and client.host_registered(), timeout=20)
        if not ready:
            raise RuntimeError(
                f"no SNI watcher/host or notification daemon: {self.log('panel')}"
                f"{self.log('dunst')}"
            )

    def _log(self, name: str) -> Any:
        return open(self._logs / f"{name}.log", "wb")  # noqa: SIM115 - lives with the process

    def log(self, name: str) -> str:
        path = self._logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The app's environment: this display and this session bus (Qt then uses SNI)."""
        env = self.x.env(base)
        env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        env["XDG_CURRENT_DESKTOP"] = "XFCE"
        return env

    def client(self) -> SniClient:
        return SniClient(open_dbus_connection(self.bus_address))

    def panel_geometry(self) -> tuple[int, int, int, int] | None:
        """(x, y, w, h) of the panel's window (the widest xfce4-panel window mapped)."""
        out = subprocess.run(["xwininfo", "-root", "-tree"], env=self.x.env(),
                             capture_output=True, text=True).stdout
        best = None
        for line in out.splitlines():
            if '("xfce4-panel" "Xfce4-panel")' not in line:
                continue
            size, _, rest = line.split(")")[-1].split()[0].partition("+")
            w, h = (int(v) for v in size.split("x"))
            x, y = (int(v) for v in rest.split("+")[:2])
            if x >= 0 and y >= 0 and (best is None or w > best[2]):
                best = (x, y, w, h)
        return best

    def window_shown(self, title_pattern: str) -> bool:
        """Whether a mapped window's title matches the (regex) pattern."""
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title_pattern],
            env=self.x.env(), capture_output=True, text=True,
        )
        return bool(found.stdout.strip())

    def dunstctl(self, *args: str) -> str:
        """dunst's own control (on this bus): count, action 0 (a click on the newest)..."""
        return subprocess.run(["dunstctl", *args], env=self.env(), capture_output=True,
                              text=True, timeout=10).stdout.strip()

    def close(self) -> None:
        stop_all(self._procs)
        self.x.close()


class SniClient:
    """Reads and drives StatusNotifierItems over the session bus, as a panel does."""

    def __init__(self, conn: DBusConnection) -> None:
        self.conn = conn

    def __enter__(self) -> SniClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def call(self, address: DBusAddress, method: str, signature: str | None = None,
             body: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        reply = self.conn.send_and_get_reply(
            new_method_call(address, method, signature, body), timeout=5
        )
        if reply.header.message_type.name == "error":
            raise RuntimeError(f"{method}: {reply.body}")
        return tuple(reply.body)

    def has_name(self, name: str) -> bool:
        reply = self.conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=5)
        return bool(reply.body[0])

    def _watcher(self) -> DBusAddress:
        return DBusAddress("/StatusNotifierWatcher", bus_name=WATCHER, interface=WATCHER)

    def host_registered(self) -> bool:
        if not self.has_name(WATCHER):
            return False
        reply = self.conn.send_and_get_reply(
            Properties(self._watcher()).get("IsStatusNotifierHostRegistered"), timeout=5
        )
        return bool(reply.body[0][1])

    def items(self) -> list[str]:
        """The watcher's RegisteredStatusNotifierItems ("service/path")."""
        reply = self.conn.send_and_get_reply(
            Properties(self._watcher()).get("RegisteredStatusNotifierItems"), timeout=5
        )
        return list(reply.body[0][1])

    def item(self, registered: str) -> SniItem:
        service, _, path = registered.partition("/")
        return SniItem(self, service, "/" + path)


class SniItem:
    def __init__(self, client: SniClient, service: str, path: str) -> None:
        self.client = client
        self.service = service
        self.address = DBusAddress(path, bus_name=service, interface=ITEM_IFACE)

    def props(self) -> dict[str, Any]:
        reply = self.client.conn.send_and_get_reply(
            Properties(self.address).get_all(), timeout=5
        )
        return {name: value for name, (_sig, value) in reply.body[0].items()}

    def _menu(self) -> DBusAddress:
        return DBusAddress(self.props()["Menu"], bus_name=self.service, interface=MENU_IFACE)

    def layout(self) -> MenuNode:
        """The whole menu, as GetLayout(0, -1, []) gives it to a host."""
        _revision, root = self.client.call(self._menu(), "GetLayout", "iias", (0, -1, []))
        return MenuNode.parse(root)

    def click(self, item_id: int) -> None:
        self.client.call(self._menu(), "Event", "isvu",
                         (item_id, "clicked", ("s", ""), 0))


class MenuNode:
    def __init__(self, item_id: int, props: dict[str, Any], children: list[MenuNode]) -> None:
        self.id = item_id
        self.props = props
        self.children = children

    @classmethod
    def parse(cls, raw: tuple[Any, ...]) -> MenuNode:
        item_id, props, children = raw
        return cls(item_id, {k: v for k, (_sig, v) in props.items()},
                   [cls.parse(child) for _sig, child in children])

    @property
    def label(self) -> str:
        """The label as shown: dbusmenu's `_` mnemonic marker removed (`__` is a `_`)."""
        text = str(self.props.get("label", ""))
        return text.replace("__", "\0").replace("_", "").replace("\0", "_")

    def labels(self) -> list[str]:
        return [child.label for child in self.children if child.props.get("type") != "separator"]

    def find(self, label: str) -> MenuNode | None:
        for child in self.children:
            if child.label == label:
                return child
            found = child.find(label)
            if found is not None:
                return found
        return None


def dominant_colour(pixmaps: list[tuple[int, int, bytes]],
                    palette: dict[str, tuple[int, int, int]]) -> str | None:
    """The palette entry most opaque pixels of the largest pixmap are near (SNI pixmaps
    are ARGB32 in network byte order), or None when no pixel is near any."""
    if not pixmaps:
        return None
    _w, _h, data = max(pixmaps, key=lambda p: p[0] * p[1])
    counts: Counter[str] = Counter()
    for i in range(0, len(data) - 3, 4):
        alpha, rgb = data[i], (data[i + 1], data[i + 2], data[i + 3])
        if alpha < 200:
            continue
        name, distance = min(((n, math.dist(rgb, c)) for n, c in palette.items()),
                             key=lambda pair: pair[1])
        if distance <= 60:
            counts[name] += 1
    return counts.most_common(1)[0][0] if counts else None


def hex_rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def require_e2e() -> bool:
    return os.environ.get("LIFELINE_REQUIRE_E2E") == "1"

"""One Lifeline per user: a lock file decides who runs, a local socket carries requests.

The first instance holds a QLockFile in the runtime dir for its lifetime (a crashed
instance's stale lock is detected by pid) and listens on a QLocalServer next to it. A
second launch finds the lock taken, sends one line ("menu", "settings" or "window") to the first
and exits 0. The lock, not the socket, decides: two launches at once cannot both win.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

REQUESTS = frozenset({"menu", "settings", "window"})
CONNECT_MS = 2000  # the first instance may be busy starting; only the second one waits


class SingleInstance(QObject):
    requested = Signal(str)  # in the first instance: what a second launch asked for

    def __init__(self, runtime_dir: Path, name: str = "lifeline", parent: QObject | None = None):
        super().__init__(parent)
        runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.socket_path = str(runtime_dir / f"{name}.sock")
        self._lock = QLockFile(str(runtime_dir / f"{name}.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its pid is gone, never by age
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """True: we are the first instance and now listen. False: another one runs."""
        if not self._lock.tryLock(0):
            if self._lock.error() == QLockFile.LockError.LockFailedError:
                return False
            raise OSError(f"cannot create the instance lock in {self.socket_path}'s directory")
        QLocalServer.removeServer(self.socket_path)  # a socket left by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.socket_path):
            raise OSError(f"cannot listen on {self.socket_path}: {server.errorString()}")
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def send(self, request: str) -> bool:
        """From a second launch: deliver `request` to the first instance."""
        if request not in REQUESTS:
            raise ValueError(f"unknown request {request!r}")
        socket = QLocalSocket()
        socket.connectToServer(self.socket_path)
        # A short blocking wait is fine here: this process only exists to pass it on.
        if not socket.waitForConnected(CONNECT_MS):
            log.warning("the running Lifeline did not answer: %s", socket.errorString())
            return False
        socket.write(f"{request}\n".encode())
        ok = socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        return ok

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()

    @Slot()
    def _on_connection(self) -> None:
        assert self._server is not None
        while (conn := self._server.nextPendingConnection()) is not None:
            conn.readyRead.connect(lambda c=conn: self._read(c))
            conn.disconnected.connect(conn.deleteLater)
            if conn.bytesAvailable():
                self._read(conn)

    def _read(self, conn: QLocalSocket) -> None:
        while conn.canReadLine():
            line = bytes(conn.readLine().data()).decode("utf-8", "replace").strip()
            if line in REQUESTS:
                self.requested.emit(line)
            else:
                log.warning("ignored an unknown request on the instance socket")

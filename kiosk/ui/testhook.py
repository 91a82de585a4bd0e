"""An opt-in remote for end-to-end tests: read what the kiosk shows, tap it, take a picture.

Off unless `HALL_KIOSK_TESTHOOK` names a Unix socket path (or `127.0.0.1:PORT`, or `:PORT`).
Each connection sends JSON lines and gets one JSON line back per request:

    {"cmd": "state"}                   -> screen name, visible texts, buttons, window geometry
    {"cmd": "tap", "text": "税务业务"}  -> clicks the visible button whose text contains this
    {"cmd": "tap", "name": "tile"}     -> … or whose objectName is this (first match)
    {"cmd": "grab", "path": "/x.png"}  -> the whole screen (QScreen.grabWindow) as PNG

Requests run on the Qt thread (a queued signal), so they see and change what a citizen would;
the socket thread only waits for the answer. A kiosk in a hall never sets the variable.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

log = logging.getLogger("kiosk.testhook")
ENV = "HALL_KIOSK_TESTHOOK"


class _OnQtThread(QObject):
    """Runs callables on the thread that owns this object (the GUI thread)."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def _run(self, job: Callable[[], None]) -> None:
        job()


def _visible(w: QWidget, root: QWidget) -> bool:
    return w.isVisibleTo(root) and root.isVisible()


_INVISIBLE = str.maketrans({"\u2060": None, "\u200b": None, "\u00ad": None, "\u00a0": " "})


def _read(text: str) -> str:
    """A text as a person reads it: without the invisible line-breaking marks (word joiners
    that keep short Chinese phrases on one line), no-break spaces as spaces."""
    return text.translate(_INVISIBLE)


def _button_text(b: QAbstractButton) -> str:
    """A button's own text, or the texts of the labels inside it (the kiosk's tiles)."""
    parts = [b.text()] if b.text() else []
    parts += [lab.text() for lab in b.findChildren(QLabel) if lab.text()]
    return _read("\n".join(parts))


def snapshot(window: QWidget) -> dict[str, Any]:
    """What the window shows now: labels outside buttons, buttons with their texts."""
    texts: list[str] = []
    buttons: list[dict[str, Any]] = []
    for w in window.findChildren(QWidget):
        if not _visible(w, window):
            continue
        if isinstance(w, QAbstractButton):
            buttons.append(
                {"text": _button_text(w), "name": w.objectName(), "enabled": w.isEnabled()}
            )
        elif isinstance(w, QLabel) and w.text():
            parent = w.parentWidget()
            if not isinstance(parent, QAbstractButton):
                texts.append(_read(w.text()))
    current = getattr(window, "current", None)
    geo = window.geometry()  # the client area; "frame" adds a window manager's decorations
    frame = window.frameGeometry()
    screen = window.screen() or QGuiApplication.primaryScreen()
    sg = screen.geometry() if screen is not None else None
    return {
        "screen": getattr(current, "name", ""),
        "gen": getattr(current, "gen", None),
        "elder": getattr(current, "elder", None),
        "texts": texts,
        "buttons": buttons,
        "window": [geo.x(), geo.y(), geo.width(), geo.height()],
        "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
        "visible": window.isVisible(),
        "fullscreen": window.isFullScreen(),
        "display": [sg.x(), sg.y(), sg.width(), sg.height()] if sg is not None else None,
    }


def tap(window: QWidget, text: str = "", name: str = "") -> dict[str, Any]:
    """A click on the first visible, enabled button matching `text` (contained) or `name`."""
    for b in window.findChildren(QAbstractButton):
        if not _visible(b, window) or not b.isEnabled():
            continue
        if (text and text in _button_text(b)) or (name and b.objectName() == name):
            try:  # a real mouse press and release, so the idle filter sees a touch too
                from PySide6.QtTest import QTest

                QTest.mouseClick(b, Qt.MouseButton.LeftButton)
            except ImportError:
                b.click()
            return {"ok": True, "tapped": _button_text(b)}
    return {"ok": False, "error": f"no visible enabled button with text={text!r} name={name!r}"}


def grab(window: QWidget, path: str) -> dict[str, Any]:
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return {"ok": False, "error": "no screen"}
    pixmap = screen.grabWindow(0)
    if pixmap.isNull():
        pixmap = window.grab()
    return {"ok": bool(pixmap.save(path, "PNG")), "size": [pixmap.width(), pixmap.height()]}


class TestHook:
    """The socket server; `handle(request)` is what one JSON line asks for."""

    __test__ = False  # not a pytest class

    def __init__(self, window: QWidget, address: str) -> None:
        self.window = window
        self.address = address
        self.bridge = _OnQtThread()
        self.sock = _listen(address)
        self.thread = threading.Thread(target=self._serve, name="kiosk-testhook", daemon=True)
        self.thread.start()
        log.info("test hook listening on %s", address)

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        cmd = req.get("cmd")
        if cmd == "ping":
            return {"ok": True, "pid": os.getpid()}
        if cmd == "state":
            return snapshot(self.window)
        if cmd == "tap":
            return tap(self.window, str(req.get("text", "")), str(req.get("name", "")))
        if cmd == "grab":
            return grab(self.window, str(req["path"]))
        return {"ok": False, "error": f"unknown cmd {cmd!r}"}

    def _on_qt(self, req: dict[str, Any]) -> dict[str, Any]:
        done = threading.Event()
        box: dict[str, Any] = {}

        def job() -> None:
            try:
                box["r"] = self.handle(req)
            except Exception as err:  # the answer says what went wrong; the kiosk goes on
                box["r"] = {"ok": False, "error": f"{type(err).__name__}: {err}"}
            done.set()

        self.bridge.call.emit(job)
        if not done.wait(10):
            return {"ok": False, "error": "the Qt thread did not answer within 10 s"}
        return dict(box["r"])

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as f:
            for line in f:
                try:
                    req = json.loads(line)
                    reply = self._on_qt(req) if isinstance(req, dict) else {"ok": False}
                except ValueError as err:
                    reply = {"ok": False, "error": f"bad JSON: {err}"}
                f.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
                f.flush()

    def close(self) -> None:
        self.sock.close()
        if "/" in self.address:
            try:
                os.unlink(self.address)
            except OSError:
                pass


def _listen(address: str) -> socket.socket:
    if "/" in address:
        try:
            os.unlink(address)
        except OSError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(address)
    else:
        host, _, port = address.rpartition(":")
        s = socket.create_server((host or "127.0.0.1", int(port)))
    s.listen(4)
    return s


def install(window: QWidget) -> TestHook | None:
    """The hook when `HALL_KIOSK_TESTHOOK` is set, else None (and nothing listens)."""
    address = os.environ.get(ENV, "").strip()
    if not address:
        return None
    return TestHook(window, address)


class HookClient:
    """The test's side: one connection, one JSON line per request."""

    def __init__(self, address: str, timeout: float = 15.0) -> None:
        if "/" in address:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(address)
        else:
            host, _, port = address.rpartition(":")
            self.sock = socket.create_connection((host or "127.0.0.1", int(port)), timeout)
        self.file = self.sock.makefile("rwb")

    def ask(self, **req: Any) -> dict[str, Any]:
        self.file.write(json.dumps(req, ensure_ascii=False).encode() + b"\n")
        self.file.flush()
        line = self.file.readline()
        if not line:
            raise ConnectionError("the kiosk closed the test hook")
        return dict(json.loads(line))

    def close(self) -> None:
        self.file.close()
        self.sock.close()

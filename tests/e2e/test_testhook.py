"""The kiosk's test hook: off without its variable; with it, texts out and taps in, on Qt's
thread, over a local socket (what the rehearsal drives the real kiosk process with)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.screens import Button, Screen, Tile
from kiosk.ui.testhook import ENV, HookClient, install
from kiosk.ui.window import KioskWindow

pytestmark = pytest.mark.qt


def _screen(gen: int = 1) -> Screen:
    return Screen(
        "home",
        gen,
        "zh",
        False,
        "请选择要办理的业务",
        hall="示例中心",
        tiles=(
            Tile("service:SW", "税务业务", ("等候 0 人",)),
            Tile("service:BDC", "不动产", enabled=False),
        ),
        buttons=(Button("lookup", "查询我的号"),),
    )


def test_off_without_the_variable(monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    monkeypatch.delenv(ENV, raising=False)
    window = KioskWindow()
    qtbot.addWidget(window)
    assert install(window) is None


def test_reads_texts_and_taps_on_the_qt_thread(
    monkeypatch: pytest.MonkeyPatch, qtbot: Any, tmp_path: Path
) -> None:
    taps: list[tuple[str, int, str]] = []
    window = KioskWindow(
        tap=lambda action, gen: taps.append((action, gen, threading.current_thread().name))
    )
    qtbot.addWidget(window)
    window.resize(540, 960)
    window.show_screen(_screen())
    window.show()
    qtbot.waitExposed(window)
    sock = str(tmp_path / "hook.sock")
    monkeypatch.setenv(ENV, sock)
    hook = install(window)
    assert hook is not None
    answers: dict[str, Any] = {}

    def client() -> None:
        c = HookClient(sock)
        try:
            answers["state"] = c.ask(cmd="state")
            answers["tap"] = c.ask(cmd="tap", text="税务业务")
            answers["disabled"] = c.ask(cmd="tap", text="不动产")
            answers["grab"] = c.ask(cmd="grab", path=str(tmp_path / "shot.png"))
            answers["bad"] = c.ask(cmd="nonsense")
        finally:
            c.close()

    t = threading.Thread(target=client)
    t.start()
    qtbot.waitUntil(lambda: not t.is_alive(), timeout=10000)  # the Qt loop runs meanwhile
    hook.close()
    state = answers["state"]
    assert state["screen"] == "home" and state["gen"] == 1
    assert "示例中心" in state["texts"] and "请选择要办理的业务" in state["texts"]
    tiles = {b["text"].split("\n")[0]: b for b in state["buttons"]}
    assert tiles["税务业务"]["enabled"] and "等候 0 人" in tiles["税务业务"]["text"]
    assert not tiles["不动产"]["enabled"]
    assert state["window"][2:] == [540, 960]
    assert answers["tap"]["ok"]
    assert taps == [("service:SW", 1, "MainThread")]
    assert not answers["disabled"]["ok"]  # a disabled tile cannot be tapped
    assert answers["grab"]["ok"] and (tmp_path / "shot.png").stat().st_size > 0
    assert not answers["bad"]["ok"]

"""The Qt layer offscreen: every screen renders in both orientations and modes, nothing is cut
off, targets are large enough, taps reach the flow, and work runs off the UI thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from kiosk.core.theme import metrics
from kiosk.ui.bridge import Bridge, QtRunner
from kiosk.ui.screenshots import SIZES, TOUR, Rig
from kiosk.ui.window import KioskWindow

from .conftest import make_rig

pytestmark = pytest.mark.qt


def clipped(window: KioskWindow) -> list[str]:
    """Labels whose text does not fit the space the layout gave them."""
    bad = []
    for lab in window.findChildren(QLabel):
        if not lab.isVisibleTo(window) or not lab.text():
            continue
        if lab.wordWrap():
            need = lab.heightForWidth(lab.width())
            if need > lab.height() + 2:
                bad.append(f"{lab.text()!r}: needs {need}px, has {lab.height()}px")
        else:
            need = lab.fontMetrics().horizontalAdvance(lab.text())
            if need > lab.width() + 2:
                bad.append(f"{lab.text()!r}: needs {need}px wide, has {lab.width()}px")
    for b in window.findChildren(QPushButton):
        if b.isVisibleTo(window) and b.text():
            need = b.fontMetrics().horizontalAdvance(b.text())
            if need > b.contentsRect().width():
                bad.append(f"button {b.text()!r}: needs {need}px wide, has {b.width()}px")
    return bad


def small_targets(window: KioskWindow, minimum: int) -> list[str]:
    return [
        f"{b.text() or b.objectName()}: {b.width()}x{b.height()}"
        for b in window.findChildren(QPushButton)
        if b.isVisibleTo(window) and b.isEnabled() and (b.width() < minimum or b.height() < minimum)
    ]


@pytest.mark.parametrize("orient", list(SIZES))
@pytest.mark.parametrize(("elder", "lang"), [(False, "zh"), (True, "zh"), (False, "en")])
def test_every_screen_fits(qtbot: Any, orient: str, elder: bool, lang: str, tmp_path: Path) -> None:
    w, h = SIZES[orient]
    rig = make_rig(tmp_path)
    rig.server.waiting_bias = {"HJ": 12, "SB": 8}
    rig.core.syncer.step()
    window = KioskWindow(tap=lambda a, g: rig.core.flow.tap(a, g))
    qtbot.addWidget(window)
    window.setFixedSize(w, h)
    rig.core.flow.on_change = window.show_screen
    window.show()
    mono = [rig.clock.mono]
    tour = Rig(rig.core, _PaperPrinter(rig), elder, lang, mono)
    rig.core.flow.monotonic = lambda: mono[0]
    m = metrics(w, h, elder)
    for name, step in TOUR:
        step(tour)
        qtbot.wait(1)
        assert window.current is not None
        assert window.current.elder == elder, name
        assert not clipped(window), (name, clipped(window))
        assert not small_targets(window, m.px(60 if elder else 44)), (
            name,
            small_targets(window, m.px(60)),
        )


class _PaperPrinter:
    """The screenshot tour's printer interface over the core tests' fake printer."""

    def __init__(self, rig: Any) -> None:
        self.rig = rig

    def set_paper(self, state: str) -> None:
        self.rig.printer.paper = state


def test_elder_mode_text_is_at_least_30dp(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    window = KioskWindow(tap=lambda a, g: rig.core.flow.tap(a, g))
    qtbot.addWidget(window)
    window.setFixedSize(1080, 1920)
    rig.core.flow.on_change = window.show_screen
    window.show()
    rig.core.flow.tap("elder")
    qtbot.wait(1)
    m = metrics(1080, 1920, True)
    sizes = [
        lab.fontInfo().pixelSize() for lab in window.findChildren(QLabel) if lab.isVisibleTo(window)
    ]
    assert min(sizes) >= m.px(30)


def test_a_tap_on_a_tile_issues_and_shows_the_number(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    window = KioskWindow(tap=lambda a, g: rig.core.flow.tap(a, g))
    qtbot.addWidget(window)
    window.setFixedSize(1920, 1080)
    rig.core.flow.on_change = window.show_screen
    window.show()
    window.show_screen(rig.core.flow.screen)
    qtbot.mouseClick(window.buttons["service:SW"], Qt.MouseButton.LeftButton)
    assert rig.core.flow.screen.name == "ticket"
    assert any(lab.text() == "D021" for lab in window.findChildren(QLabel))


def test_jobs_run_off_the_ui_thread_and_report_back_on_it(qtbot: Any) -> None:
    bridge = Bridge()
    seen: dict[str, Any] = {}

    def job() -> str:
        seen["job"] = threading.current_thread()
        return "ok"

    QtRunner(bridge).run(
        job, lambda r: seen.update(done=threading.current_thread(), r=r), seen.update
    )
    qtbot.waitUntil(lambda: "done" in seen, timeout=5000)
    assert seen["job"] is not threading.main_thread()
    assert seen["done"] is threading.main_thread() and seen["r"] == "ok"


def test_idle_warning_banner_and_touch(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    window = KioskWindow(tap=lambda a, g: rig.core.flow.tap(a, g))
    qtbot.addWidget(window)
    window.setFixedSize(1080, 1920)
    rig.core.flow.on_change = window.show_screen
    window.show()
    rig.core.flow.tap("guides")
    rig.clock.advance(rig.core.settings.idle_timeout_s - 20)
    rig.core.flow.tick()
    assert window.warn is not None and window.warn.isVisibleTo(window)
    assert window.warn_label is not None and "20 秒后将返回首页" in window.warn_label.text()
    rig.core.flow.touch()
    assert not window.warn.isVisibleTo(window)


def test_screenshots_command_writes_every_screen(tmp_path: Path) -> None:
    from kiosk.ui.screenshots import capture

    files = capture(tmp_path)
    assert len(files) == len(SIZES) * 3 * len(TOUR)
    assert all(f.stat().st_size > 5000 for f in files)

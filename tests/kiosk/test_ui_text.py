"""What a citizen reads on the kiosk, checked on every screen of the tour as Qt lays it out:
English mode shows no Chinese, no line is left with one or two Chinese characters, tile titles
fit, config text is shown as plain text, 长辈模式 stands out and says whether it is on,
disabled controls look disabled, and printer trouble is a banner at the top."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextLayout, QTextOption
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QWidget

from kiosk.core.theme import COLORS
from kiosk.ui.screenshots import SIZES, TOUR, Rig
from kiosk.ui.window import KioskWindow

from .conftest import make_rig

pytestmark = pytest.mark.qt

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
INVISIBLE = "\u2060\u00a0 "
MODES = [(False, "zh"), (True, "zh"), (False, "en")]


class _Paper:
    def __init__(self, printer: Any) -> None:
        self.printer = printer

    def set_paper(self, state: str) -> None:
        self.printer.paper = state


def window_for(qtbot: Any, tmp_path: Path, orient: str) -> tuple[Any, KioskWindow]:
    rig = make_rig(tmp_path)
    rig.server.waiting_bias = {"HJ": 12, "SB": 8, "SW": 3}
    rig.core.syncer.step()
    window = KioskWindow(tap=lambda a, g: rig.core.flow.tap(a, g))
    qtbot.addWidget(window)
    window.setFixedSize(*SIZES[orient])
    rig.core.flow.on_change = window.show_screen
    window.show()
    rig.core.flow.refresh()
    window.show_screen(rig.core.flow.screen)
    return rig, window


def tour(
    qtbot: Any, tmp_path: Path, orient: str, elder: bool, lang: str
) -> Iterator[tuple[str, KioskWindow]]:
    rig, window = window_for(qtbot, tmp_path, orient)
    mono = [rig.clock.mono]
    rig.core.flow.monotonic = lambda: mono[0]
    steps = Rig(rig.core, _Paper(rig.printer), elder, lang, mono)
    for name, step in TOUR:
        step(steps)
        qtbot.wait(1)
        yield name, window


def visible_texts(window: KioskWindow) -> list[str]:
    texts = [
        lab.text() for lab in window.findChildren(QLabel) if lab.isVisibleTo(window) and lab.text()
    ]
    texts += [
        b.text()
        for action, b in window.buttons.items()
        if b.isVisibleTo(window) and b.text() and action != "lang"  # "中文" leads back
    ]
    for w in window.findChildren(QWidget):  # the card drawn on the swipe screens
        drawn = getattr(w, "label", None)
        if w.isVisibleTo(window) and isinstance(drawn, str):
            texts.append(drawn)
    return texts


def unbreakable(text: str) -> list[str]:
    """Pieces a line cannot break inside: Latin words, one Chinese character, glued runs."""
    out: list[str] = []
    for word in text.split():
        piece = ""
        for i, ch in enumerate(word):
            if ch == "\u2060":
                continue
            piece += ch
            nxt = word[i + 1] if i + 1 < len(word) else ""
            if nxt and nxt != "\u2060" and (HAN.match(ch) or HAN.match(nxt)):
                out.append(piece)
                piece = ""
        if piece:
            out.append(piece)
    return [w.replace("\u00a0", " ") for w in out if w.strip()]


def lines_of(lab: QLabel) -> list[str]:
    """The lines of a word-wrapped label as Qt breaks them at the label's width."""
    width = lab.contentsRect().width() - 2 * max(lab.margin(), 0)
    out = []
    for par in lab.text().split("\n"):
        layout = QTextLayout(par, lab.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        layout.setTextOption(option)
        layout.beginLayout()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
        layout.endLayout()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            out.append(par[line.textStart() : line.textStart() + line.textLength()])
    return out


def orphans(window: KioskWindow) -> list[str]:
    bad = []
    for lab in window.findChildren(QLabel):
        if not lab.isVisibleTo(window) or not lab.wordWrap() or not HAN.search(lab.text()):
            continue
        lines = lines_of(lab)
        if len(lines) < 2:
            continue
        for line in lines:
            chars = [c for c in line if c not in INVISIBLE and not _punct(c)]
            if 0 < len(chars) <= 2 and any(HAN.match(c) for c in chars):
                bad.append(f"{lab.text()!r} → {lines!r}")
                break
    return bad


def _punct(c: str) -> bool:
    return c in "，。、；：！？（）“”《》,.;:!?()-–—·" or c in "\u3000"


@pytest.mark.parametrize("orient", list(SIZES))
@pytest.mark.parametrize(("elder", "lang"), MODES)
def test_no_line_leaves_one_or_two_chinese_characters(
    qtbot: Any, tmp_path: Path, orient: str, elder: bool, lang: str
) -> None:
    for name, window in tour(qtbot, tmp_path, orient, elder, lang):
        assert not orphans(window), (name, orphans(window))


@pytest.mark.parametrize("orient", list(SIZES))
def test_english_mode_shows_no_chinese(qtbot: Any, tmp_path: Path, orient: str) -> None:
    for name, window in tour(qtbot, tmp_path, orient, False, "en"):
        leaks = [text for text in visible_texts(window) if CJK.search(text)]
        assert not leaks, (name, leaks)


@pytest.mark.parametrize("orient", list(SIZES))
@pytest.mark.parametrize(("elder", "lang"), MODES)
def test_tile_titles_fit_their_tiles(
    qtbot: Any, tmp_path: Path, orient: str, elder: bool, lang: str
) -> None:
    for name, window in tour(qtbot, tmp_path, orient, elder, lang):
        for lab in window.findChildren(QLabel, "tiletitle"):
            if not lab.isVisibleTo(window):
                continue
            fm = lab.fontMetrics()
            widest = max(fm.horizontalAdvance(w) for w in unbreakable(lab.text()))
            assert widest <= lab.contentsRect().width(), (name, lab.text(), widest, lab.width())


def test_config_text_is_shown_as_plain_text(qtbot: Any, tmp_path: Path) -> None:
    rig, window = window_for(qtbot, tmp_path, "portrait")
    state = rig.core.state
    services = list(state.snap.services)
    services[0] = replace(services[0], name="<b>x</b>", guide="<img src=x><i>y</i>")
    state.set_services(services)
    rig.core.flow.reset()
    rig.tap("guides")
    rig.tap("guide:HJ")
    for lab in window.findChildren(QLabel):
        if lab.isVisibleTo(window):
            assert lab.textFormat() == Qt.TextFormat.PlainText, lab.text()
    texts = [plain(lab.text()) for lab in window.findChildren(QLabel) if lab.isVisibleTo(window)]
    assert any("<b>x</b>" in text for text in texts), texts
    assert any("<img src=x><i>y</i>" in text for text in texts), texts


def plain(text: str) -> str:
    """Text without the word joiners and no-break spaces that keep phrases together."""
    return text.replace("\u2060", "").replace("\u00a0", " ")


def toggle_texts(toggle: QPushButton) -> list[str]:
    return [plain(lab.text()).replace("\n", "") for lab in toggle.findChildren(QLabel)]


def pixel(widget: QWidget, x: int, y: int) -> str:
    return QColor(widget.grab().toImage().pixel(x, y)).name().upper()


@pytest.mark.parametrize("orient", list(SIZES))
def test_elder_mode_is_a_toggle_that_stands_out(qtbot: Any, tmp_path: Path, orient: str) -> None:
    rig, window = window_for(qtbot, tmp_path, orient)
    toggle = window.buttons["elder"]
    assert any("长辈模式：未开启" in text for text in toggle_texts(toggle))
    others = [b for a, b in window.buttons.items() if a != "elder" and not a.startswith("service:")]
    assert toggle.height() > max(b.height() for b in others)
    assert toggle.width() >= max(b.width() for b in others)
    # its own colour, unlike every other control on the screen
    assert pixel(toggle, 6, toggle.height() // 2) == COLORS["elder_bg"]
    for b in [*others, window.buttons["service:HJ"]]:
        assert pixel(b, 6, b.height() // 2) != COLORS["elder_bg"]
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert rig.core.flow.elder
    toggle = window.buttons["elder"]
    assert toggle.isChecked()
    assert any("长辈模式：已开启" in text for text in toggle_texts(toggle))


def test_disabled_controls_look_disabled(qtbot: Any, tmp_path: Path) -> None:
    rig, window = window_for(qtbot, tmp_path, "portrait")
    state = rig.core.state
    services = list(state.snap.services)
    services[1] = replace(services[1], open=False)  # 社保业务 closed now
    state.set_services(services)
    rig.core.flow.refresh()
    closed, open_ = window.buttons["service:SB"], window.buttons["service:HJ"]
    assert not closed.isEnabled()
    assert pixel(closed, closed.width() // 2, closed.height() - 8) == COLORS["disabled_bg"]
    assert pixel(open_, open_.width() // 2, open_.height() - 8) == COLORS["tile_bg"]
    title = next(lab for lab in closed.findChildren(QLabel) if lab.objectName() == "tiletitle")
    assert title.palette().color(title.foregroundRole()).name().upper() == COLORS["disabled_text"]
    rig.tap("rate")  # not on home: the submit button of the reasons screen
    rig.core.flow.reset()
    rig.tap("service:SW")
    rig.tap("rate")
    rig.tap("level:1")
    submit = window.buttons["submit"]
    assert not submit.isEnabled()
    assert pixel(submit, submit.width() // 2, 6) == COLORS["disabled_bg"]


@pytest.mark.parametrize("orient", list(SIZES))
def test_printer_trouble_is_a_banner_at_the_top(qtbot: Any, tmp_path: Path, orient: str) -> None:
    rig, window = window_for(qtbot, tmp_path, orient)
    rig.printer.paper = "out"
    rig.tap("service:SW")
    banner = window.findChild(QFrame, "alert")
    assert banner is not None and banner.isVisibleTo(window)
    text = banner.findChild(QLabel)
    assert text is not None and "打印机" in text.text()
    top = banner.mapTo(window, banner.rect().topLeft()).y()
    assert top < window.height() * 0.12  # right under the header
    assert banner.width() == window.width()
    assert text.fontInfo().pixelSize() > window.metrics().body  # larger than the body text
    assert pixel(banner, 2, 2) == COLORS["warn_bg"]

"""The kiosk window: paints a `Screen` (header, body, bottom bar) and sends taps to the flow.

Everything on a screen comes from the core; this module only chooses pixel sizes (from
`kiosk.core.theme.metrics`) and layout for portrait or landscape. A new screen is a fresh
widget tree; an idle-warning change only updates the banner.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.core.screens import Button, Screen, Tile
from kiosk.core.texts import t
from kiosk.core.theme import COLORS, Metrics, metrics

from .widgets import QrWidget, SwipeAnimation

FONT_FAMILY = "WenQuanYi Micro Hei"
Tap = Callable[[str, int], object]


def stylesheet(m: Metrics) -> str:
    c = COLORS
    return f"""
    QWidget#page {{ background: {c["bg"]}; }}
    QLabel {{ color: {c["text"]}; font-size: {m.body}px; }}
    QFrame#header {{ background: {c["brand"]}; }}
    QLabel#hall {{ color: {c["brand_text"]}; font-size: {m.body}px; font-weight: bold; }}
    QLabel#title {{ font-size: {m.title}px; font-weight: bold; }}
    QLabel#big {{ color: {c["number"]}; font-size: {m.big_number}px; font-weight: bold; }}
    QLabel#ticketline {{ font-size: {m.tile_title}px; }}
    QLabel#muted {{ color: {c["muted"]}; }}
    QFrame#notice {{ background: {c["notice_bg"]}; border-radius: {m.px(8)}px; }}
    QFrame#notice QLabel {{ color: {c["notice_text"]}; }}
    QFrame#warn {{ background: {c["warn_bg"]}; }}
    QFrame#warn QLabel {{ color: {c["warn_text"]}; font-size: {m.body}px; font-weight: bold; }}
    QFrame#ticker QLabel {{ color: {c["muted"]}; }}
    QPushButton {{
        font-size: {m.body}px; color: {c["tile_text"]}; background: {c["tile_bg"]};
        border: {m.px(2)}px solid {c["tile_border"]}; border-radius: {m.px(10)}px;
        min-height: {m.target}px; min-width: {m.target}px; padding: 0 {m.px(8)}px;
    }}
    QPushButton[primary="true"] {{ color: {c["brand_text"]}; background: {c["brand"]}; }}
    QPushButton:disabled {{ color: {c["disabled_text"]}; background: {c["disabled_bg"]};
        border: {m.px(2)}px dashed {c["disabled_text"]}; }}
    QPushButton#tile {{ text-align: left; padding: {m.px(10)}px; }}
    QPushButton#tile:disabled {{ background: {c["disabled_bg"]};
        border: {m.px(2)}px dashed {c["disabled_text"]}; }}
    QPushButton#tile:disabled QLabel#tiletitle {{ color: {c["disabled_text"]}; }}
    QPushButton#elder {{ background: {c["elder_bg"]}; border: {m.px(4)}px solid {c["elder_border"]};
        border-radius: {m.px(14)}px; min-height: {m.target}px; }}
    QPushButton#elder QLabel {{ color: {c["elder_text"]}; }}
    QPushButton#elder[checked="true"] {{ background: {c["brand"]}; border-color: {c["brand"]}; }}
    QPushButton#elder[checked="true"] QLabel {{ color: {c["brand_text"]}; }}
    QLabel#eldertitle {{ font-size: {m.title}px; font-weight: bold; }}
    QFrame#alert {{ background: {c["warn_bg"]}; }}
    QFrame#alert QLabel {{ color: {c["warn_text"]}; font-size: {m.alert}px; font-weight: bold; }}
    QPushButton#tilesel {{ text-align: left; padding: {m.px(10)}px; background: {c["selected_bg"]}; }}
    QLabel#tiletitle {{ color: {c["tile_text"]}; font-size: {m.tile_title}px; font-weight: bold; }}
    QLabel#tileline {{ color: {c["tile_text"]}; }}
    QPushButton#tilesel QLabel#tiletitle {{ color: {c["selected_text"]}; }}
    QPushButton#tile:disabled QLabel#tileline {{ color: {c["disabled_text"]}; }}
    QLabel#badge {{ color: {c["brand"]}; }}
    """


def label(text: str, name: str = "", wrap: bool = True) -> QLabel:
    """A label showing text as it is: config and server text is never read as rich text."""
    w = QLabel(keep_tail(text) if wrap else text)
    w.setTextFormat(Qt.TextFormat.PlainText)
    if name:
        w.setObjectName(name)
    w.setWordWrap(wrap)
    w.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    return w


class FitLabel(QLabel):
    """A tile title: bold, wrapped between words, and made smaller (down to 60 %) when its
    longest word would not fit the width the layout gives it ("registratior")."""

    def __init__(self, text: str, px: int) -> None:
        super().__init__(keep_tail(text))
        self.setObjectName("tiletitle")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.px = px
        self._fitted_for = -1
        sp = self.sizePolicy()
        sp.setHorizontalPolicy(QSizePolicy.Policy.Ignored)  # the layout decides the width
        self.setSizePolicy(sp)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        width = self.contentsRect().width()
        if width != self._fitted_for and width > 0:
            self._fitted_for = width
            size = fit_px(self.text(), self.px, width, self.font())
            want = f"font-size: {size}px;"
            if self.styleSheet() != want:
                self.setStyleSheet(want)


class KioskWindow(QWidget):
    """The one full-screen window; `show_screen(screen)` is connected to the flow's `on_change`."""

    def __init__(self, tap: Tap | None = None) -> None:
        super().__init__()
        self.setObjectName("root")
        self.setWindowTitle("自助取号机")
        self.tap: Tap = tap or (lambda action, gen: None)
        self.current: Screen | None = None
        self.body: QWidget | None = None
        self.warn_label: QLabel | None = None
        self.warn: QFrame | None = None
        self.buttons: dict[str, QPushButton] = {}
        self._style_key: tuple[int, int, bool] | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        font = QFont(FONT_FAMILY)
        self.setFont(font)
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(0, 0, 0, 0)
        self.outer.setSpacing(0)

    # rendering
    def show_screen(self, screen: Screen) -> None:
        old = self.current
        self.current = screen
        if (
            old is not None
            and self.body is not None
            and old.gen == screen.gen
            and old.name == screen.name
            and _same_but_idle(old, screen)
        ):
            self._update_warning(screen)
            return
        self._rebuild(screen)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if self.current is not None and self._style_key != self._key(self.current):
            self._rebuild(self.current)

    def _key(self, screen: Screen) -> tuple[int, int, bool]:
        return (self.width(), self.height(), screen.elder)

    def metrics(self) -> Metrics:
        elder = bool(self.current and self.current.elder)
        return metrics(max(self.width(), 320), max(self.height(), 320), elder)

    def _rebuild(self, screen: Screen) -> None:
        m = self.metrics()
        if self.body is not None:
            self.outer.removeWidget(self.body)
            self.body.hide()
            self.body.setParent(None)  # detached first, so a new style sheet polishes nothing old
            self.body.deleteLater()
        key = self._key(screen)
        if key != self._style_key:
            self.setStyleSheet(stylesheet(m))
            self._style_key = key
        self.buttons = {}
        self.body = self._build(screen, m)
        self.outer.addWidget(self.body)
        self.body.show()

    def _build(self, s: Screen, m: Metrics) -> QWidget:
        page = QWidget()
        page.setObjectName("page")
        page.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self._header(s, m))
        if s.alert and s.notice:  # something went wrong: first thing the citizen sees
            alert = QFrame()
            alert.setObjectName("alert")
            al = QHBoxLayout(alert)
            al.setContentsMargins(m.gap * 2, m.gap, m.gap * 2, m.gap)
            al.addWidget(label("⚠ " + s.notice, "alertlabel"))
            col.addWidget(alert)
        self.warn = QFrame()
        self.warn.setObjectName("warn")
        wl = QHBoxLayout(self.warn)
        wl.setContentsMargins(m.gap, m.gap, m.gap, m.gap)
        self.warn_label = label("", "warnlabel")
        wl.addWidget(self.warn_label)
        col.addWidget(self.warn)
        self._update_warning(s)
        portrait = self.height() >= self.width()
        main = QVBoxLayout()
        main.setContentsMargins(m.gap * 2, m.gap * 2, m.gap * 2, m.gap)
        main.setSpacing(m.gap)
        toggle = next((b for b in s.buttons if b.checked is not None), None)
        if s.name == "home" and toggle is not None and portrait:
            main.addWidget(self._toggle(toggle, s, m))
        head = QHBoxLayout()
        title = label(s.title, "title")
        if s.big:
            title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        head.addWidget(title, 1)
        if s.page:
            head.addWidget(label(s.page, "muted", wrap=False), 0, Qt.AlignmentFlag.AlignRight)
        main.addLayout(head)
        if s.big:
            main.addLayout(self._ticket(s, m, portrait), 1)
        else:
            for line in s.lines:
                main.addWidget(
                    label(
                        line,
                        "ticketline"
                        if s.name
                        in ("message", "swipe", "lookup", "guide", "checkin", "checkin_message")
                        else "",
                    )
                )
            if s.notice and not s.alert:
                main.addWidget(self._notice(s, m))
            if s.animation in ("card", "scan"):
                side = int(min(self.width(), self.height()) * (0.6 if portrait else 0.45))
                anim = SwipeAnimation(side, t("card.label", s.lang), s.animation == "scan")
                main.addWidget(anim, 0, Qt.AlignmentFlag.AlignHCenter)
            if s.tiles:
                main.addLayout(self._tiles(s, m), 1)
            else:
                main.addStretch(1)
        if s.ticker:
            ticker = QFrame()
            ticker.setObjectName("ticker")
            tl = QVBoxLayout(ticker)
            tl.setContentsMargins(0, 0, 0, 0)
            for n in s.ticker if portrait else s.ticker[:1]:
                tl.addWidget(label(n))
            main.addWidget(ticker)
        if portrait:
            col.addLayout(main, 1)
            col.addWidget(self._bar(s, m, portrait))
        else:
            row = QHBoxLayout()
            row.setSpacing(0)
            row.addLayout(main, 1)
            row.addWidget(self._bar(s, m, portrait))
            col.addLayout(row, 1)
        return page

    def _header(self, s: Screen, m: Metrics) -> QFrame:
        header = QFrame()
        header.setObjectName("header")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(m.gap * 2, m.gap, m.gap * 2, m.gap)
        hl.addWidget(label(s.hall or "政务服务中心", "hall", wrap=False))
        hl.addStretch(1)
        return header

    def _ticket(self, s: Screen, m: Metrics, portrait: bool) -> QBoxLayout:
        number = label(s.big, "big", wrap=False)
        number.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        info = QVBoxLayout()
        info.setSpacing(m.gap // 2)
        for line in s.lines:
            info.addWidget(label(line, "ticketline" if portrait else ""))
        info.addStretch(1)
        notice = self._notice(s, m) if s.notice and not s.alert else None
        qr_box: QVBoxLayout | None = None
        if s.qr:
            side = int(min(self.width(), self.height()) * (0.34 if portrait else 0.30))
            qr_box = QVBoxLayout()
            qr_box.addWidget(QrWidget(s.qr, side), 0, Qt.AlignmentFlag.AlignHCenter)
            caption = label(t("ticket.scan", s.lang), "muted")
            caption.setFixedWidth(side)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            qr_box.addWidget(caption)
            qr_box.addStretch(1)
        if portrait:
            box = QVBoxLayout()
            box.setSpacing(m.gap)
            box.addWidget(number)
            if notice:
                box.addWidget(notice)
            row = QHBoxLayout()
            row.setSpacing(m.gap * 2)
            row.addLayout(info, 1)
            if qr_box:
                row.addLayout(qr_box)
            box.addLayout(row, 1)
            return box
        box2 = QVBoxLayout()
        box2.setSpacing(m.gap)
        top = QHBoxLayout()
        top.setSpacing(m.gap * 3)
        left = QVBoxLayout()
        left.addWidget(number)
        left.addLayout(info, 1)
        top.addLayout(left, 1)
        if qr_box:
            top.addLayout(qr_box)
        box2.addLayout(top, 1)
        if notice:
            box2.addWidget(notice)
        return box2

    def _notice(self, s: Screen, m: Metrics) -> QFrame:
        """What to do now (printer trouble, a check-in refusal), in a highlighted box."""
        notice = QFrame()
        notice.setObjectName("notice")
        nl = QVBoxLayout(notice)
        nl.setContentsMargins(m.gap, m.gap, m.gap, m.gap)
        nl.addWidget(label(s.notice, "" if s.big else "ticketline"))
        return notice

    def _tiles(self, s: Screen, m: Metrics) -> QGridLayout:
        grid = QGridLayout()
        grid.setSpacing(m.gap)
        cols = m.columns if len(s.tiles) > 3 or s.name == "home" else 1
        if s.name in ("rate", "rate_reasons"):
            cols = 1 if self.height() >= self.width() else 2
        if s.name == "lookup_result":
            cols = 1
        bar = 0 if self.height() >= self.width() else int(self.width() * (0.2 if s.elder else 0.18))
        inner = (self.width() - bar - m.gap * 4 - m.gap * (cols - 1)) // cols - m.gap * 2 - m.px(14)
        for i, tile in enumerate(s.tiles):
            grid.addWidget(self._tile(tile, s, m, inner), i // cols, i % cols)
        for c in range(cols):
            grid.setColumnStretch(c, 1)  # equal columns, whatever their titles
        rows = (len(s.tiles) + cols - 1) // cols
        if s.name == "lookup_result":
            grid.setRowStretch(rows, 1)  # a few result cards at the top, not stretched to fill
        else:
            for r in range(rows):
                grid.setRowStretch(r, 1)
        return grid

    def _tile(self, tile: Tile, s: Screen, m: Metrics, inner: int) -> QPushButton:
        b = QPushButton()
        b.setObjectName("tile")
        b.setEnabled(tile.enabled or s.name == "lookup_result")
        if s.name == "lookup_result":
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        if tile.selected:
            b.setObjectName("tilesel")
        b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        lay = QVBoxLayout(b)
        lay.setContentsMargins(m.gap, m.gap // 2, m.gap, m.gap // 2)
        lay.setSpacing(m.gap // 3)
        text = ("√ " if tile.selected else "") + tile.title
        title = FitLabel(text, m.tile_title)
        px = fit_px(text, m.tile_title, inner, self.font())
        if px < m.tile_title:  # a long English word must not be cut off: a first guess
            title.setStyleSheet(f"font-size: {px}px;")
        lay.addWidget(title)
        for line in tile.lines:
            lay.addWidget(label(line, "tileline"))
        if tile.badge:
            lay.addWidget(label(tile.badge, "badge"))
        if not tile.lines:
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        else:
            lay.addStretch(1)
        if tile.enabled:
            b.clicked.connect(lambda _=False, a=tile.action, g=s.gen: self.tap(a, g))
        self.buttons[tile.action] = b
        return b

    def _bar(self, s: Screen, m: Metrics, portrait: bool) -> QWidget:
        bar = QWidget()
        grid = QGridLayout(bar)
        grid.setSpacing(m.gap)
        buttons = [b for b in s.buttons if s.name != "home" or b.checked is None]
        if portrait:
            grid.setContentsMargins(m.gap * 2, m.gap, m.gap * 2, m.gap * 2)
            per_row = 3 if s.elder or s.lang == "en" else 4  # English labels are longer
            for i, button in enumerate(buttons):
                grid.addWidget(self._button(button, s), i // per_row, i % per_row)
            for col in range(min(per_row, len(buttons))):
                grid.setColumnStretch(col, 1)  # equal widths: a long label must not squeeze others
        else:
            bar.setFixedWidth(int(self.width() * (0.2 if s.elder else 0.18)))
            grid.setContentsMargins(0, m.gap * 2, m.gap * 2, m.gap * 2)
            toggle = next((b for b in s.buttons if b.checked is not None), None)
            if s.name == "home" and toggle is not None:  # top right: the first thing seen
                grid.addWidget(self._toggle(toggle, s, m), 0, 0)
            grid.setRowStretch(1, 1)
            for i, button in enumerate(buttons):
                grid.addWidget(self._button(button, s), i + 2, 0)
        return bar

    def _toggle(self, button: Button, s: Screen, m: Metrics) -> QPushButton:
        """长辈模式 on the home screen: the largest control there, saying whether it is on."""
        b = QPushButton()
        b.setObjectName("elder")
        b.setCheckable(True)
        b.setChecked(bool(button.checked))
        b.setProperty("checked", "true" if button.checked else "false")
        b.setAccessibleName(button.label)
        b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        portrait = self.height() >= self.width()
        lay = QHBoxLayout(b)
        lay.setContentsMargins(m.gap * 2, m.gap, m.gap * 2, m.gap)
        lay.setSpacing(m.gap)
        mark = "✓" if button.checked else "○"
        if portrait:
            lay.addWidget(label(mark, "eldertitle", wrap=False))
        text = QVBoxLayout()
        text.setSpacing(0)
        # In the narrow side bar: the state on a line of its own, the mark before the name.
        said = button.label
        if not portrait:
            said = (
                mark + " " + re.sub(r"(：|: )", lambda c: c.group(1).strip() + "\n", said, count=1)
            )
        title = label(said, "eldertitle")
        text.addWidget(title)
        hint = label(t("elder.turn_off" if button.checked else "elder.turn_on", s.lang))
        text.addWidget(hint)
        lay.addLayout(text, 1)
        # A button does not grow with a layout inside it: give it the size its text needs.
        big, small = title_font(self.font(), m.title), body_font(self.font(), m.body)
        size = ""
        if portrait:
            width = self.width() - m.gap * 8 - QFontMetrics(big).horizontalAdvance("✓") - m.gap
        else:  # the top of the side bar
            bar = int(self.width() * (0.2 if s.elder else 0.18)) - m.gap * 2
            lay.setContentsMargins(m.gap, m.gap, m.gap, m.gap)
            width = bar - m.gap * 2 - m.px(6)
            size = f"min-width: {bar}px; max-width: {bar}px;"
            px = m.title
            while (
                px > m.body
                and max(
                    QFontMetrics(title_font(self.font(), px)).horizontalAdvance(part)
                    for part in said.split("\n")
                )
                > width
            ):
                px -= 1
            big = title_font(self.font(), px)
            title.setStyleSheet(f"font-size: {px}px;")
        need = text_height(title.text(), big, width) + text_height(hint.text(), small, width)
        height = max(int(m.target * 1.4), need + m.gap * (3 if portrait else 4))
        size += f"min-height: {height}px; max-height: {height}px;"
        b.setStyleSheet(f"QPushButton#elder {{ {size} }}")
        b.clicked.connect(lambda _=False, a=button.action, g=s.gen: self.tap(a, g))
        self.buttons[button.action] = b
        return b

    def _button(self, button: Button, s: Screen) -> QPushButton:
        b = QPushButton(button.label)
        b.setEnabled(button.enabled)
        b.setProperty("primary", "true" if button.primary else "false")
        b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        b.clicked.connect(lambda _=False, a=button.action, g=s.gen: self.tap(a, g))
        self.buttons[button.action] = b
        return b

    def _update_warning(self, s: Screen) -> None:
        if self.warn is None or self.warn_label is None:
            return
        if s.idle_left is None:
            self.warn.hide()
        else:
            self.warn_label.setText(t("idle.warning", s.lang, s=s.idle_left))
            self.warn.show()


CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z0-9]+|\S")
WJ = "\u2060"  # word joiner: no line break here
NBSP = "\u00a0"


def keep_tail(text: str, units: int = 3) -> str:
    """Glue the last `units` characters (a Latin word or number counts as one) of each
    paragraph that holds Chinese, so no line is left with one or two characters ("分 / 钟")."""
    if not CJK_CHAR.search(text):
        return text
    return "\n".join(_glue(p, units) for p in text.split("\n"))


def _glue(par: str, units: int) -> str:
    tokens = [(m.start(), m.end()) for m in WORD.finditer(par)]
    count = 0
    start = len(par)
    for a, b in reversed(tokens):
        if re.fullmatch(r"\w+", par[a:b]):
            count += 1
        start = a
        if count >= units:
            break
    if start <= 0 or start >= len(par):
        return par
    head, tail = par[:start], par[start:]
    out = []
    for i, ch in enumerate(tail):
        if ch == " ":
            out.append(NBSP)
            continue
        out.append(ch)
        nxt = tail[i + 1] if i + 1 < len(tail) else ""
        if nxt and nxt != " " and (CJK_CHAR.match(ch) or CJK_CHAR.match(nxt) or not ch.isalnum()):
            out.append(WJ)
    return head + "".join(out)


def title_font(base: QFont, px: int) -> QFont:
    font = QFont(base)
    font.setPixelSize(px)
    font.setBold(True)
    return font


def body_font(base: QFont, px: int) -> QFont:
    font = QFont(base)
    font.setPixelSize(px)
    return font


def text_height(text: str, font: QFont, width: int) -> int:
    """Height of text wrapped at width, as a word-wrapping label lays it out."""
    fm = QFontMetrics(font)
    flags = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft
    return fm.boundingRect(0, 0, max(width, 1), 100000, int(flags), text).height()


def unbreakable(text: str) -> list[str]:
    """The pieces a line cannot break inside: Latin words, single Chinese characters, and
    what `keep_tail` glued together."""
    out: list[str] = []
    for word in text.split():
        piece = ""
        for i, ch in enumerate(word):
            if ch == WJ:
                continue
            piece += ch
            nxt = word[i + 1] if i + 1 < len(word) else ""
            if nxt and nxt != WJ and (CJK_CHAR.match(ch) or CJK_CHAR.match(nxt)):
                out.append(piece)
                piece = ""
        if piece:
            out.append(piece)
    return [w.replace(NBSP, " ") for w in out if w.strip()]


def fit_px(text: str, px: int, width: int, base: QFont) -> int:
    """The largest bold size ≤ px (down to 60 %) at which the longest word fits in width."""
    font = QFont(base)
    font.setBold(True)
    words = unbreakable(text) or [text]
    size = px
    while size > px * 0.6:
        font.setPixelSize(size)
        fm = QFontMetrics(font)
        if max(fm.horizontalAdvance(w) for w in words) <= width:
            break
        size -= 2
    return size


def _same_but_idle(a: Screen, b: Screen) -> bool:
    from dataclasses import replace

    return replace(a, idle_left=None) == replace(b, idle_left=None)


class TouchFilter(QObject):
    """Any press anywhere counts as activity (it extends the idle timer)."""

    def __init__(self, on_touch: Callable[[], None]) -> None:
        super().__init__()
        self.on_touch = on_touch

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self.on_touch()
        return False

"""Painted pieces of the kiosk: the QR code and the card-swipe animation."""

from __future__ import annotations

import qrcode
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from kiosk.core.theme import COLORS


class QrWidget(QWidget):
    """A QR code painted as squares (crisp at any size, no image files)."""

    def __init__(self, text: str, size: int) -> None:
        super().__init__()
        qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
        qr.add_data(text)
        qr.make(fit=True)
        self.matrix = qr.get_matrix()
        self.setFixedSize(size, size)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#FFFFFF"))
        n = len(self.matrix)
        cell = self.width() / n
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#000000"))
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    p.drawRect(QRectF(x * cell, y * cell, cell + 0.5, cell + 0.5))
        p.end()


class SwipeAnimation(QWidget):
    """A card gliding down onto the reader, over and over: where to put the ID card."""

    def __init__(self, size: int, label: str, scan: bool = False) -> None:
        super().__init__()
        self.setFixedSize(size, size)
        self.label = label
        self.scan = scan
        self.phase = 0.6
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._step)
        self.timer.start(40)

    def _step(self) -> None:
        self.phase = (self.phase + 0.02) % 1.0
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        brand = QColor(COLORS["brand"])
        # the reader: a dark slab with a glowing strip
        reader = QRectF(w * 0.12, h * 0.70, w * 0.76, h * 0.2)
        p.setBrush(QColor("#2B2B2B"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(reader, 14, 14)
        p.setBrush(QColor("#3FA9F5"))
        p.drawRoundedRect(QRectF(reader.x() + 20, reader.y() + 16, reader.width() - 40, 10), 5, 5)
        # the card, coming down
        t = min(self.phase / 0.7, 1.0)
        card = QRectF(w * 0.22, h * (0.05 + 0.5 * t), w * 0.56, h * 0.34)
        p.setBrush(QColor(COLORS["tile_bg"]))
        p.setPen(QPen(brand, max(3, w // 90)))
        p.drawRoundedRect(card, 16, 16)
        p.setPen(QColor(COLORS["tile_text"]))
        font = QFont(self.font())
        font.setPixelSize(max(12, int(h * 0.07)))
        p.setFont(font)
        p.drawText(card, Qt.AlignmentFlag.AlignCenter, self.label)
        if self.scan:  # a QR code beside the card: a ticket's or a booking's can be shown too
            self._qr_mark(p, QRectF(w * 0.80, h * 0.04, w * 0.18, w * 0.18))
        p.end()

    @staticmethod
    def _qr_mark(p: QPainter, box: QRectF) -> None:
        """A QR-code icon: three finder squares and a few modules on a 7×7 grid."""
        m = box.width() / 7
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#FFFFFF"))
        p.drawRect(box.adjusted(-m / 2, -m / 2, m / 2, m / 2))
        black = QColor("#000000")
        for cx, cy in [(0, 0), (4, 0), (0, 4)]:
            p.setBrush(black)
            p.drawRect(QRectF(box.x() + cx * m, box.y() + cy * m, 3 * m, 3 * m))
            p.setBrush(QColor("#FFFFFF"))
            p.drawRect(QRectF(box.x() + (cx + 0.5) * m, box.y() + (cy + 0.5) * m, 2 * m, 2 * m))
            p.setBrush(black)
            p.drawRect(QRectF(box.x() + (cx + 1) * m, box.y() + (cy + 1) * m, m, m))
        for i, j in [(4, 4), (6, 4), (5, 5), (4, 6), (6, 6)]:
            p.drawRect(QRectF(box.x() + i * m, box.y() + j * m, m, m))

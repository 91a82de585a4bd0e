"""Ticket printers (ESC/POS over python-escpos): layout, Chinese text, QR, status, fake."""

from __future__ import annotations

from .escpos_reader import Decoded, decode, tokenize
from .layout import TicketPrint, render_ticket, sample_ticket
from .printer import FakePrinter, PrintResult, TicketPrinter, open_printer

__all__ = [
    "Decoded",
    "FakePrinter",
    "PrintResult",
    "TicketPrint",
    "TicketPrinter",
    "decode",
    "open_printer",
    "render_ticket",
    "sample_ticket",
    "tokenize",
]

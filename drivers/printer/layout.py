"""Ticket layout: a TicketPrint becomes ESC/POS bytes for 58 mm or 80 mm paper (pure code)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from halldomain.waits import NO_WAIT

from . import commands as c

# printable columns of Font A (12×24 dots): 384 dots on 58 mm paper, 576 dots on 80 mm
COLUMNS = {58: 32, 80: 48}
NUMBER_SIZE = {58: 3, 80: 4}
QR_MODULE = {58: 5, 80: 6}


@dataclass(frozen=True)
class TicketPrint:
    hall: str
    service_name: str
    number: str
    ahead: int
    wait_low_min: int
    wait_high_min: int
    issued_at: datetime
    qr: str
    notice: str = ""
    masked_name: str = ""  # already masked (张*), never the full name
    priority_label: str = ""  # e.g. 老年人优先
    location: str = ""  # where the service is handled (智能引导), e.g. 1楼B区11–13号窗口


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break text into lines of at most `columns` (a Chinese character takes two)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, width = "", 0
        for ch in paragraph:
            w = display_width(ch)
            if width + w > columns and line:
                lines.append(line)
                line, width = "", 0
            line, width = line + ch, width + w
        lines.append(line)
    return lines


def wait_text(low: int, high: int) -> str:
    if high <= 0:  # nobody ahead: the wording of every screen (halldomain/waits.py)
        return NO_WAIT
    if low >= high:
        return f"预计等候约 {high} 分钟"
    return f"预计等候 {low}～{high} 分钟"


def ahead_text(ahead: int) -> str:
    return "您前面没有人等候" if ahead <= 0 else f"您前面还有 {ahead} 人等候"


def render_ticket(
    ticket: TicketPrint, paper_mm: int = 80, encoding: str = "gb18030", native_qr: bool = True
) -> bytes:
    """The whole ticket: Chinese mode, enlarged number, QR code and a cut."""
    if paper_mm not in COLUMNS:
        raise ValueError("paper_mm must be 58 or 80")
    cols = COLUMNS[paper_mm]

    def lines(text: str, width: int = 1) -> bytes:
        return b"".join(c.text_line(line, encoding) for line in wrap(text, cols // width))

    hall_width = 2 if display_width(ticket.hall) * 2 <= cols else 1
    n = NUMBER_SIZE[paper_mm]
    out = bytearray(c.INIT + c.CHINESE_ON + c.align("center"))
    out += c.bold(True) + c.size(hall_width, 2) + lines(ticket.hall, hall_width) + c.bold(False)
    out += c.size(1, 1) + lines(ticket.service_name)
    if ticket.location:
        out += lines(f"办理地点：{ticket.location}")
    out += c.feed(1)
    out += c.size(n, n) + c.bold(True) + c.text_line(ticket.number, encoding) + c.bold(False)
    out += c.size(1, 1)
    if ticket.priority_label:
        out += c.bold(True) + lines(f"【{ticket.priority_label}】") + c.bold(False)
    out += lines(ahead_text(ticket.ahead))
    out += lines(wait_text(ticket.wait_low_min, ticket.wait_high_min))
    if ticket.masked_name:
        out += lines(f"姓名：{ticket.masked_name}")
    out += lines(f"取号时间：{ticket.issued_at:%Y-%m-%d %H:%M}")
    if ticket.qr:
        module = QR_MODULE[paper_mm]
        out += c.qr_native(ticket.qr, module) if native_qr else c.qr_raster(ticket.qr, module)
        out += c.text_line("", encoding) + lines("扫码查看排队进度，办结后可评价")
    if ticket.notice:
        out += c.align("left") + lines(ticket.notice)
    out += c.feed(2) + c.CHINESE_OFF + c.FEED_AND_CUT
    return bytes(out)


def sample_ticket(now: datetime | None = None) -> TicketPrint:
    """What `hall device printer sample` prints: every element of a real ticket."""
    return TicketPrint(
        hall="武江区政务服务中心",
        service_name="不动产登记（综合窗口）",
        number="A023",
        ahead=8,
        wait_low_min=12,
        wait_high_min=25,
        issued_at=now or datetime.now().astimezone(),
        qr="https://hall.example/t/A023",
        notice="请留意叫号：过号后30分钟内可到窗口重新激活。测试票：全角标点（）：！",
        masked_name="张*",
        priority_label="老年人优先",
        location="1楼B区11–13号窗口",
    )

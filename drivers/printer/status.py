"""Printer status bytes (DLE EOT n real-time replies) as Health.

Every reply has bit 1 and bit 4 set and bits 0 and 7 clear (`0x12` = nothing to report); a
byte that does not match that pattern is not a status reply. No reply at all means "unknown",
never "paper OK" (python-escpos's paper_status() gets this wrong).
"""

from __future__ import annotations

from drivers.base import Health

FIXED_MASK, FIXED_BITS = 0x93, 0x12
PAPER_NEAR_END = 0x0C  # DLE EOT 4, bits 2-3
PAPER_OUT = 0x60  # DLE EOT 4, bits 5-6
OFFLINE = 0x08  # DLE EOT 1, bit 3
COVER_OPEN = 0x04  # DLE EOT 2, bit 2
PAPER_STOP = 0x20  # DLE EOT 2, bit 5: printing stopped because the paper ran out
ERROR = 0x40  # DLE EOT 2, bit 6

OK = Health("ok", "ok", "打印机正常")
UNKNOWN_NO_ANSWER = Health("unknown", "no_answer", "打印机未应答状态查询，无法确认纸张状态")
UNKNOWN_NO_STATUS = Health("unknown", "no_status", "此连接方式无法读取打印机状态")


def is_status_byte(value: int) -> bool:
    return value & FIXED_MASK == FIXED_BITS


def decode_status(printer: int | None, offline_cause: int | None, paper: int | None) -> Health:
    """Combine the replies to DLE EOT 1, 2 and 4 (None = no reply) into one Health."""
    if paper is None or not is_status_byte(paper):
        return (
            UNKNOWN_NO_ANSWER
            if paper is None
            else Health("unknown", "bad_reply", "打印机状态应答无效")
        )
    if paper & PAPER_OUT:
        return Health("error", "paper_out", "打印机缺纸，请更换纸卷")
    if offline_cause is not None and is_status_byte(offline_cause):
        if offline_cause & COVER_OPEN:
            return Health("error", "cover_open", "打印机盖未合上")
        if offline_cause & PAPER_STOP:
            return Health("error", "paper_out", "打印机缺纸，请更换纸卷")
        if offline_cause & ERROR:
            return Health("error", "printer_error", "打印机故障，请检查切刀和打印头")
    if printer is not None and is_status_byte(printer) and printer & OFFLINE:
        return Health("error", "offline", "打印机离线")
    if paper & PAPER_NEAR_END:
        return Health("warning", "paper_near_end", "打印机纸将用尽，请准备更换纸卷")
    return OK

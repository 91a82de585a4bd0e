"""GA/T 467 SAM framing: pure code that builds and splits frames, never touching a port.

    command:  AA AA AA 96 69 | LEN1 LEN2 | CMD PARA [DATA…] | CHK
    response: AA AA AA 96 69 | LEN1 LEN2 | SW1 SW2 SW3 [DATA…] | CHK

LEN (big-endian) counts every byte after itself, the checksum included. CHK is the XOR of every
byte from LEN1 to the last data byte. See docs/DEVICES.md and GA/T 467-2019.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

PREAMBLE = bytes.fromhex("AAAAAA9669")
MAX_LEN = 8192  # text + photo + fingerprint is about 2.3 kB; anything larger is noise

# (CMD, PARA) pairs
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_WITH_FINGERPRINT = (0x30, 0x10)
READ_NEW_ADDRESS = (0x30, 0x03)

SW3_SUCCESS = 0x90
SW3_CARD_FOUND = 0x9F
SW3_FIND_FAILED = 0x80
SW3_SELECT_FAILED = 0x81

# SW3 module status codes, GA/T 467-2019 annex: (English code, Chinese message)
SW3_CODES: dict[int, tuple[str, str]] = {
    0x90: ("ok", "操作成功"),
    0x9F: ("card_found", "寻找证卡成功"),
    0x91: ("field_empty", "证卡该项无内容"),
    0x10: ("checksum_error", "读卡器收到的数据校验和错误"),
    0x11: ("length_error", "读卡器收到的数据长度错误"),
    0x21: ("command_error", "读卡器收到的命令错误"),
    0x23: ("not_permitted", "越权操作"),
    0x24: ("unknown_error", "读卡器发生未知错误"),
    0x31: ("card_auth_sam_failed", "证卡认证机具失败，请重新放置证件"),
    0x32: ("sam_auth_card_failed", "机具认证证卡失败，请重新放置证件"),
    0x33: ("verify_error", "信息验证错误，请重新放置证件"),
    0x40: ("unknown_card_type", "无法识别的卡类型，请放置居民身份证或居住证、永久居留证"),
    0x41: ("read_failed", "读卡操作失败，请重新放置证件"),
    0x47: ("random_failed", "取随机数失败，请重新放置证件"),
    0x60: ("sam_selftest_failed", "读卡器安全模块自检失败，请联系工作人员"),
    0x66: ("sam_not_authorised", "读卡器安全模块未经授权，请联系工作人员"),
    0x80: ("find_failed", "未找到证件"),
    0x81: ("select_failed", "选取证件失败，请重新放置证件"),
}


def sw3_describe(sw3: int) -> tuple[str, str]:
    """English code and Chinese message for an SW3 byte."""
    return SW3_CODES.get(sw3, (f"sw3_{sw3:02x}", f"读卡器返回未知状态 {sw3:02X}"))


def checksum(body: bytes) -> int:
    """XOR of LEN1 … last data byte."""
    return reduce(lambda a, b: a ^ b, body, 0)


def build_frame(payload: bytes) -> bytes:
    """Wrap a payload (CMD PARA DATA or SW1 SW2 SW3 DATA) in preamble, length and checksum."""
    length = len(payload) + 1
    if length > 0xFFFF:
        raise ValueError("payload too long for a SAM frame")
    body = length.to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes([checksum(body)])


def build_command(cmd: tuple[int, int], data: bytes = b"") -> bytes:
    return build_frame(bytes(cmd) + data)


def build_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return build_frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True)
class Frame:
    """A frame with a good checksum; `payload` is everything between LEN and CHK."""

    payload: bytes

    @property
    def sw3(self) -> int:
        return self.payload[2] if len(self.payload) >= 3 else -1

    @property
    def data(self) -> bytes:
        """Response data after SW1 SW2 SW3."""
        return self.payload[3:]

    @property
    def command(self) -> tuple[int, int] | None:
        """(CMD, PARA) when this frame is a command."""
        if len(self.payload) < 2:
            return None
        return (self.payload[0], self.payload[1])


@dataclass(frozen=True)
class BadFrame:
    """A frame that arrived damaged: `reason` is "checksum" or "length"."""

    reason: str


class FrameParser:
    """Split a byte stream into frames; skips noise and resynchronises on the preamble.

    A frame with a bad checksum is reported as BadFrame and the search restarts just after its
    preamble, so a good frame hidden inside a damaged one is still found.
    """

    def __init__(self, min_len: int = 3) -> None:
        self._buf = bytearray()
        self._min_len = min_len
        self.discarded = 0  # noise bytes skipped so far (diagnostics)

    def reset(self) -> None:
        self._buf.clear()
        self.discarded = 0

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        self._buf += data
        out: list[Frame | BadFrame] = []
        while True:
            start = self._buf.find(PREAMBLE)
            if start < 0:
                # keep a tail that could be the start of a preamble
                keep = next(
                    (
                        n
                        for n in range(min(4, len(self._buf)), 0, -1)
                        if self._buf.endswith(PREAMBLE[:n])
                    ),
                    0,
                )
                self.discarded += len(self._buf) - keep
                del self._buf[: len(self._buf) - keep]
                return out
            if start:
                self.discarded += start
                del self._buf[:start]
            if len(self._buf) < 7:
                return out
            length = int.from_bytes(self._buf[5:7], "big")
            if not self._min_len <= length <= MAX_LEN:
                out.append(BadFrame("length"))
                del self._buf[:1]
                continue
            end = 7 + length
            if len(self._buf) < end:
                return out
            body = bytes(self._buf[5 : end - 1])
            if checksum(body) != self._buf[end - 1]:
                out.append(BadFrame("checksum"))
                del self._buf[: len(PREAMBLE)]
                continue
            out.append(Frame(body[2:]))
            del self._buf[:end]

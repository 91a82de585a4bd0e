"""Read ESC/POS bytes back: text lines (GB18030 in Chinese mode), sizes, QR payloads, cuts.

Used by the tests to assert what a ticket really says, and by `hall device printer decode`
for debugging a capture. It never raises on malformed input: unknown or truncated commands
become `Token("unknown", …)` and decoding goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# argument byte counts of fixed-length commands: (prefix, code) -> n
_FIXED: dict[tuple[int, int], int] = {
    (0x1B, 0x40): 0, (0x1B, 0x21): 1, (0x1B, 0x45): 1, (0x1B, 0x2D): 1, (0x1B, 0x61): 1,
    (0x1B, 0x64): 1, (0x1B, 0x4A): 1, (0x1B, 0x74): 1, (0x1B, 0x4D): 1, (0x1B, 0x32): 0,
    (0x1B, 0x33): 1, (0x1B, 0x47): 1, (0x1B, 0x70): 3, (0x1B, 0x24): 2, (0x1B, 0x52): 1,
    (0x1B, 0x7B): 1, (0x1B, 0x56): 1, (0x1B, 0x20): 1, (0x1B, 0x69): 0, (0x1B, 0x6D): 0,
    (0x1D, 0x21): 1, (0x1D, 0x42): 1, (0x1D, 0x48): 1, (0x1D, 0x66): 1, (0x1D, 0x68): 1,
    (0x1D, 0x77): 1, (0x1D, 0x4C): 2, (0x1D, 0x57): 2, (0x1D, 0x61): 1, (0x1D, 0x72): 1,
    (0x1C, 0x26): 0, (0x1C, 0x2E): 0, (0x1C, 0x21): 1, (0x1C, 0x2D): 1, (0x1C, 0x57): 1,
    (0x1C, 0x43): 1, (0x10, 0x04): 1, (0x10, 0x05): 1,
}  # fmt: skip
_PREFIXES = {0x1B, 0x1D, 0x1C, 0x10}


@dataclass(frozen=True)
class Token:
    kind: str  # text, newline, init, chinese, size, align, bold, qr, raster, cut, status, …
    value: object = None


@dataclass
class Line:
    text: str
    width: int = 1
    height: int = 1
    align: str = "left"


@dataclass
class Decoded:
    lines: list[Line] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    rasters: list[tuple[int, int]] = field(default_factory=list)  # (width dots, height dots)
    cuts: int = 0
    unknown: int = 0

    @property
    def text(self) -> list[str]:
        return [line.text for line in self.lines]


def tokenize(data: bytes, encoding: str = "gb18030") -> list[Token]:
    tokens: list[Token] = []
    chinese = False
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            tokens.append(Token("newline"))
            i += 1
        elif b in _PREFIXES and i + 1 < n:
            token, i, chinese = _command(data, i, chinese)
            tokens.append(token)
        elif b < 0x20:
            tokens.append(Token("control", b))
            i += 1
        else:
            # GB18030 trail bytes are all >= 0x30, so a text run ends at the first control byte
            end = i
            while end < n and data[end] >= 0x20:
                end += 1
            codec = encoding if chinese else "cp437"
            tokens.append(Token("text", data[i:end].decode(codec, errors="replace")))
            i = end
    return tokens


def _command(data: bytes, i: int, chinese: bool) -> tuple[Token, int, bool]:
    prefix, code = data[i], data[i + 1]
    if prefix == 0x1D and code == 0x28 and i + 4 < len(data) and data[i + 2] == 0x6B:
        length = int.from_bytes(data[i + 3 : i + 5], "little")
        body = data[i + 5 : i + 5 + length]
        end = i + 5 + length
        if len(body) < length or length < 2:
            return Token("unknown", data[i:end]), min(end, len(data)), chinese
        if body[:3] == b"\x31\x50\x30":
            return Token("qr_store", body[3:].decode("utf-8", errors="replace")), end, chinese
        if body[:2] == b"\x31\x51":
            return Token("qr_print"), end, chinese
        return Token("qr_setting", body), end, chinese
    if prefix == 0x1D and code == 0x76 and i + 7 < len(data) and data[i + 2] == 0x30:
        width_bytes = int.from_bytes(data[i + 4 : i + 6], "little")
        height = int.from_bytes(data[i + 6 : i + 8], "little")
        end = i + 8 + width_bytes * height
        return Token("raster", (width_bytes * 8, height)), min(end, len(data)), chinese
    if prefix == 0x1D and code == 0x56 and i + 2 < len(data):
        m = data[i + 2]
        return Token("cut", m), i + (4 if m in (65, 66) else 3), chinese
    argc = _FIXED.get((prefix, code))
    if argc is None:
        return Token("unknown", bytes(data[i : i + 2])), i + 2, chinese
    args = data[i + 2 : i + 2 + argc]
    end = i + 2 + argc
    if len(args) < argc:
        return Token("unknown", bytes(data[i:])), len(data), chinese
    key = (prefix, code)
    if key == (0x1B, 0x40):
        return Token("init"), end, False
    if key == (0x1C, 0x26):
        return Token("chinese", True), end, True
    if key == (0x1C, 0x2E):
        return Token("chinese", False), end, False
    if key == (0x1D, 0x21):
        return Token("size", ((args[0] >> 4) + 1, (args[0] & 0x0F) + 1)), end, chinese
    if key == (0x1B, 0x61):
        return (
            Token(
                "align",
                {0: "left", 1: "center", 2: "right", 48: "left", 49: "center"}.get(args[0], "left"),
            ),
            end,
            chinese,
        )
    if key == (0x1B, 0x45):
        return Token("bold", bool(args[0] & 1)), end, chinese
    if key == (0x10, 0x04):
        return Token("status", args[0]), end, chinese
    if key == (0x1B, 0x64):
        return Token("feed", args[0]), end, chinese
    return Token("command", bytes(data[i:end])), end, chinese


def decode(data: bytes, encoding: str = "gb18030") -> Decoded:
    """Group the tokens into printed lines with the size and alignment each was printed at."""
    out = Decoded()
    width = height = 1
    where = "left"
    current: Line | None = None
    pending_qr: str | None = None
    for token in tokenize(data, encoding):
        kind = token.kind
        if kind == "text":
            if current is None:
                current = Line("", width, height, where)
            current.text += str(token.value)
        elif kind == "newline":
            out.lines.append(current or Line("", width, height, where))
            current = None
        elif kind == "size":
            width, height = token.value  # type: ignore[misc]
        elif kind == "align":
            where = str(token.value)
        elif kind == "init":
            width = height = 1
            where = "left"
        elif kind == "qr_store":
            pending_qr = str(token.value)
        elif kind == "qr_print" and pending_qr is not None:
            out.qr.append(pending_qr)
        elif kind == "raster":
            out.rasters.append(token.value)  # type: ignore[arg-type]
        elif kind == "cut":
            out.cuts += 1
        elif kind == "unknown":
            out.unknown += 1
    if current is not None:
        out.lines.append(current)
    return out

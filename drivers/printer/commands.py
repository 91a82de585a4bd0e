"""ESC/POS byte builders: pure functions, one command each (Epson ESC/POS reference).

Chinese printers (Xprinter, Gprinter, 芯烨 …) print double-byte text after `FS &`; the text
itself is GB18030 or GBK. We encode it here and send it raw, never through python-escpos's
`magic` encoder, which prints full-width punctuation as `???` and never sends `FS &`.
"""

from __future__ import annotations

import re

import qrcode
from PIL import Image

ESC, GS, FS, DLE, EOT, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x04, 0x0A

INIT = bytes([ESC, 0x40])  # ESC @
CHINESE_ON = bytes([FS, 0x26])  # FS &
CHINESE_OFF = bytes([FS, 0x2E])  # FS .
FEED_AND_CUT = bytes([GS, 0x56, 0x42, 0x03])  # GS V 66 3: feed 3 lines' worth, partial cut
STATUS_PRINTER = bytes([DLE, EOT, 1])  # DLE EOT 1: online/offline
STATUS_OFFLINE_CAUSE = bytes([DLE, EOT, 2])  # DLE EOT 2: cover open, error
STATUS_PAPER = bytes([DLE, EOT, 4])  # DLE EOT 4: paper roll sensor

ALIGN = {"left": 0, "center": 1, "right": 2}
QR_ERROR_LEVELS = {"L": 48, "M": 49, "Q": 50, "H": 51}


def align(where: str) -> bytes:
    return bytes([ESC, 0x61, ALIGN[where]])


def bold(on: bool) -> bytes:
    return bytes([ESC, 0x45, 1 if on else 0])


def size(width: int = 1, height: int = 1) -> bytes:
    """GS ! n: character width and height multipliers 1–8 (ESC ! does not enlarge Chinese)."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("width and height must be 1..8")
    return bytes([GS, 0x21, (width - 1) << 4 | (height - 1)])


def feed(lines: int = 1) -> bytes:
    return bytes([ESC, 0x64, max(0, min(lines, 255))])  # ESC d n


# Control characters in text would reach the printer as commands (ESC @ resets it, GS V cuts
# the paper): whitespace ones print as a space, the rest are dropped.
_SPACE_CONTROLS = re.compile("[\t\n\r\x0b\x0c]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """The text without control characters (the hall configuration refuses them too)."""
    return _CONTROLS.sub("", _SPACE_CONTROLS.sub(" ", text))


def encode_text(text: str, encoding: str = "gb18030") -> bytes:
    """Encode for a Chinese-mode printer; a character GBK lacks becomes □, never `?`. Control
    characters never go out as printer commands (`printable`)."""
    text = printable(text)
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return b"".join(_encode_char(ch, encoding) for ch in text)


def _encode_char(ch: str, encoding: str) -> bytes:
    try:
        return ch.encode(encoding)
    except UnicodeEncodeError:
        return "□".encode(encoding)


def text_line(text: str, encoding: str = "gb18030") -> bytes:
    return encode_text(text, encoding) + bytes([LF])


def qr_native(data: str, module_size: int = 6, error_level: str = "M") -> bytes:
    """GS ( k: model 2, module size, error level, store the data (UTF-8), print it."""
    payload = data.encode("utf-8")
    store_len = len(payload) + 3
    if store_len > 0xFFFF:
        raise ValueError("QR payload too long")

    def fn(body: bytes) -> bytes:
        return bytes([GS, 0x28, 0x6B]) + len(body).to_bytes(2, "little") + body

    return (
        fn(bytes([0x31, 0x41, 0x32, 0x00]))  # fn 165: model 2
        + fn(bytes([0x31, 0x43, module_size]))  # fn 167: module size
        + fn(bytes([0x31, 0x45, QR_ERROR_LEVELS[error_level]]))  # fn 169: error correction
        + fn(bytes([0x31, 0x50, 0x30]) + payload)  # fn 180: store
        + fn(bytes([0x31, 0x51, 0x30]))  # fn 181: print
    )


def raster_image(image: Image.Image) -> bytes:
    """GS v 0: a 1-bit raster image, for printers without native QR."""
    mono = image.convert("1")
    width, height = mono.size
    width_bytes = (width + 7) // 8
    data = bytearray()
    pixels = mono.load()
    assert pixels is not None
    for y in range(height):
        for xb in range(width_bytes):
            byte = 0
            for bit in range(8):
                x = xb * 8 + bit
                if x < width and pixels[x, y] == 0:  # black dot
                    byte |= 0x80 >> bit
            data.append(byte)
    header = bytes([GS, 0x76, 0x30, 0x00])
    return header + width_bytes.to_bytes(2, "little") + height.to_bytes(2, "little") + bytes(data)


def qr_raster(data: str, module_size: int = 6) -> bytes:
    """The same QR drawn with the `qrcode` package and sent as a raster image."""
    code = qrcode.QRCode(border=2, box_size=module_size, error_correction=qrcode.ERROR_CORRECT_M)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return raster_image(code.make_image().get_image())

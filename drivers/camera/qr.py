"""QR decoding with OpenCV, and recovery of Chinese text from codes printed without ECI.

Many Chinese QR generators write GBK bytes without an ECI marker; decoders then return them
as Latin-1 text (`取号` arrives as `È¡ºÅ`). `recover_text` undoes that: the Latin-1 string is
turned back into its bytes and decoded as UTF-8, then GBK, keeping the result only when it is
clean Chinese text.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def _looks_chinese(text: str) -> bool:
    """Every non-ASCII character is a CJK ideograph or CJK/full-width punctuation."""
    return all(
        ch.isascii()
        or "\u4e00" <= ch <= "\u9fff"
        or "\u3000" <= ch <= "\u303f"
        or "\uff00" <= ch <= "\uffef"
        for ch in text
    )


def recover_text(text: str) -> str:
    """Undo Latin-1 mojibake: `s.encode('latin-1').decode('gbk')` when that gives Chinese."""
    if text.isascii() or any(ord(ch) > 0xFF for ch in text):
        return text
    raw = text.encode("latin-1")
    for encoding in ("utf-8", "gbk"):
        try:
            candidate = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or _looks_chinese(candidate):
            return candidate
    return text


def to_gray(image: Any) -> np.ndarray:
    """Accept a BGR/gray numpy array or a PIL image."""
    if not isinstance(image, np.ndarray):
        image = np.array(image.convert("L"))
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.dtype != np.uint8:
        image = image.astype(np.uint8)
    return image


def decode_qr(image: Any) -> list[str]:
    """All QR payloads OpenCV finds in an image (usually zero or one), mojibake repaired."""
    gray = to_gray(image)
    detector = cv2.QRCodeDetector()
    texts: list[str] = []
    try:
        ok, infos, _, _ = detector.detectAndDecodeMulti(gray)
        if ok:
            texts = [t for t in infos if t]
        if not texts:
            single, _, _ = detector.detectAndDecode(gray)
            texts = [single] if single else []
    except cv2.error:
        return []
    return list(dict.fromkeys(recover_text(t) for t in texts))

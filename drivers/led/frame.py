"""LED strip frames (条屏) as a template from the hall file: pure code, no port, no sleeping.

A layout is a line of tokens, for example the two shipped ones:

    cnqs:   FF 68 {len} {len} [68 {addr} {cmd} {text}] {check} 16      sum8, GB2312
    colon:  3A [{addr} {cmd} {text}] {check} 0A                       xor8, GB2312, escape 7D

Two hex digits are a literal byte; {addr} is the strip's bus address (one byte), {cmd} the
template's command bytes, {text} the encoded text, {len} one byte counting the bytes inside
[ ] (the whole body when there are no brackets), {check} the checksum of those bytes. The
literal bytes before the first token are the start bytes, those after the last the end bytes.
With an escape byte E, every start byte, end byte and E itself inside the frame is sent as
E, byte ^ 0x20 (as HDLC does), so the end bytes never appear inside a frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .checksum import CHECKSUM_SIZES, CHECKSUMS

MAX_FRAME = 600
TOKENS = ("{addr}", "{cmd}", "{text}", "{len}", "{check}", "[", "]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class LedTemplateError(ValueError):
    """A frame template that cannot work; the message names the part."""


def parse_hex(text: str, what: str = "bytes") -> bytes:
    cleaned = text.replace(" ", "").replace(",", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise LedTemplateError(f'{what}: {text!r} is not hex bytes, e.g. "FF 68"') from None


@dataclass(frozen=True)
class LedTemplate:
    name: str
    layout: str
    command: bytes
    checksum: str = "none"
    encoding: str = "gb2312"
    escape: bytes = b""
    tokens: tuple[str | bytes, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.checksum not in CHECKSUMS:
            raise LedTemplateError(
                f"checksum: {self.checksum!r} is not one of {', '.join(CHECKSUMS)}"
            )
        if self.encoding.lower() not in ("gb2312", "gbk", "gb18030", "ascii"):
            raise LedTemplateError(f"encoding: {self.encoding!r} is not gb2312 or gbk")
        if len(self.escape) > 1:
            raise LedTemplateError("escape: one byte or none")
        tokens: list[str | bytes] = []
        for part in self.layout.replace("[", " [ ").replace("]", " ] ").split():
            if part in TOKENS:
                tokens.append(part)
            elif re.fullmatch(r"[0-9A-Fa-f]{2}", part):
                tokens.append(bytes.fromhex(part))
            else:
                raise LedTemplateError(
                    f"layout: {part!r} is neither a hex byte nor one of {' '.join(TOKENS)}"
                )
        for token in ("{addr}", "{cmd}", "{text}"):
            if tokens.count(token) != 1:
                raise LedTemplateError(f"layout: needs exactly one {token}")
        if (tokens.count("{check}") == 1) != (self.checksum != "none") or tokens.count(
            "{check}"
        ) > 1:
            raise LedTemplateError("layout: one {check} exactly when the checksum is not none")
        if tokens.count("[") != tokens.count("]") or tokens.count("[") > 1:
            raise LedTemplateError("layout: at most one [ … ] span")
        if "[" in tokens and tokens.index("[") > tokens.index("]"):
            raise LedTemplateError("layout: [ must come before ]")
        if "{check}" in tokens and "[" in tokens and tokens.index("{check}") < tokens.index("]"):
            raise LedTemplateError("layout: {check} must follow the [ … ] span it checks")
        object.__setattr__(self, "tokens", tuple(tokens))
        if not self.start:
            raise LedTemplateError("layout: must begin with start bytes, e.g. FF 68")
        if not self.end and "{len}" not in tokens:
            raise LedTemplateError("layout: needs end bytes or a {len} to find a frame's end")

    @property
    def start(self) -> bytes:
        out = b""
        for t in self.tokens:
            if not isinstance(t, bytes):
                break
            out += t
        return out

    @property
    def end(self) -> bytes:
        out = b""
        for t in reversed(self.tokens):
            if not isinstance(t, bytes):
                break
            out = t + out
        return out

    def _body_tokens(self) -> list[str | bytes]:
        n_start = len(self.start)
        n_end = len(self.end)
        body = list(self.tokens)
        taken = 0
        while taken < n_start:
            t = body.pop(0)
            assert isinstance(t, bytes)
            taken += len(t)
        taken = 0
        while taken < n_end:
            t = body.pop()
            assert isinstance(t, bytes)
            taken += len(t)
        return body

    def with_overrides(self, **parts: object) -> LedTemplate:
        """This template with some parts replaced (None keeps the template's)."""
        changes = {k: v for k, v in parts.items() if v is not None}
        return replace(self, **changes)  # type: ignore[arg-type]


TEMPLATES: dict[str, LedTemplate] = {
    # The open CNQS system's RS-485 frame (its keypads use the same): 9600 8N1.
    "cnqs": LedTemplate(
        "cnqs",
        "FF 68 {len} {len} [68 {addr} {cmd} {text}] {check} 16",
        command=b"\x31",
        checksum="sum8",
    ),
    # The "3A … 0A" family: colon, address, command, text, XOR, line feed.
    "colon": LedTemplate(
        "colon",
        "3A [{addr} {cmd} {text}] {check} 0A",
        command=b"\x54",
        checksum="xor8",
        escape=b"\x7d",
    ),
}


@dataclass(frozen=True)
class LedFrame:
    address: int
    command: bytes
    text: str
    raw: bytes = b""


def clean_text(text: str) -> str:
    """Control characters would end or garble a frame on some strips: they become spaces."""
    return _CONTROL.sub(" ", text)


def encode_text(template: LedTemplate, text: str) -> bytes:
    """The strip's bytes for `text`; a character the encoding lacks goes out as '?'."""
    return clean_text(text).encode(template.encoding, errors="replace")


def _escape(template: LedTemplate, body: bytes) -> bytes:
    if not template.escape:
        return body
    esc = template.escape[0]
    special = {template.start[0], esc, *template.end}
    out = bytearray()
    for b in body:
        if b in special:
            out += bytes([esc, b ^ 0x20])
        else:
            out.append(b)
    return bytes(out)


def _unescape(template: LedTemplate, body: bytes) -> bytes | None:
    if not template.escape:
        return body
    esc = template.escape[0]
    out = bytearray()
    it = iter(body)
    for b in it:
        if b == esc:
            nxt = next(it, None)
            if nxt is None:
                return None
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def encode_frame(template: LedTemplate, address: int, text: str) -> bytes:
    """One 'show this text' frame for the strip at `address` (0–255)."""
    if not 0 <= address <= 255:
        raise ValueError(f"LED address {address} is not 0–255")
    payload = encode_text(template, text)
    parts: dict[str, bytes] = {"{addr}": bytes([address]), "{cmd}": template.command}
    parts["{text}"] = payload
    body = template._body_tokens()
    span = _span(body)
    checked = b"".join(
        parts.get(t, b"") if isinstance(t, str) else t
        for t in body[span[0] : span[1]]
        if t not in ("{len}", "{check}", "[", "]")
    )
    if "{len}" in body:
        if len(checked) > 255:
            raise ValueError(f"LED text too long: {len(checked)} bytes, the frame allows 255")
        parts["{len}"] = bytes([len(checked)])
    parts["{check}"] = CHECKSUMS[template.checksum](checked)
    raw_body = b"".join(
        t if isinstance(t, bytes) else parts.get(t, b"") for t in body if t not in ("[", "]")
    )
    return template.start + _escape(template, raw_body) + template.end


def _span(body: list[str | bytes]) -> tuple[int, int]:
    """Token range that {len} counts and {check} covers: inside [ ], else the whole body."""
    if "[" in body:
        return body.index("[") + 1, body.index("]")
    return 0, len(body)


def _parse_body(template: LedTemplate, body: bytes) -> LedFrame | None:
    tokens = [t for t in template._body_tokens()]
    fixed = {
        "{addr}": 1,
        "{cmd}": len(template.command),
        "{len}": 1,
        "{check}": CHECKSUM_SIZES[template.checksum],
    }
    size_fixed = sum(len(t) if isinstance(t, bytes) else fixed.get(t, 0) for t in tokens)
    text_len = len(body) - size_fixed
    if text_len < 0:
        return None
    pos = 0
    values: dict[str, bytes] = {}
    lens: list[int] = []
    span_bytes = b""
    inside = "[" not in tokens
    for t in tokens:
        if t == "[":
            inside = True
            continue
        if t == "]":
            inside = False
            continue
        n = len(t) if isinstance(t, bytes) else (text_len if t == "{text}" else fixed[t])
        chunk = body[pos : pos + n]
        pos += n
        if isinstance(t, bytes):
            if chunk != t:
                return None
        elif t == "{len}":
            lens.append(chunk[0])
            continue
        elif t == "{check}":
            values[t] = chunk
            continue
        else:
            values[t] = chunk
        if inside:
            span_bytes += chunk
    if any(n != len(span_bytes) for n in lens):
        return None
    if values.get("{check}", b"") != CHECKSUMS[template.checksum](span_bytes):
        return None
    if values["{cmd}"] != template.command:
        return None
    text = values["{text}"].decode(template.encoding, errors="replace")
    return LedFrame(values["{addr}"][0], values["{cmd}"], text)


def decode_frame(template: LedTemplate, raw: bytes) -> LedFrame | None:
    """One whole frame back to (address, command, text); None when it does not check out."""
    start, end = template.start, template.end
    if not raw.startswith(start) or (end and not raw.endswith(end)):
        return None
    body = _unescape(template, raw[len(start) : len(raw) - len(end)])
    if body is None:
        return None
    frame = _parse_body(template, body)
    return replace(frame, raw=raw) if frame else None


class FrameDecoder:
    """Turns a byte stream into frames: resynchronises on the start bytes after garbage."""

    def __init__(self, template: LedTemplate) -> None:
        self.template = template
        self.buffer = b""
        self.bad = 0  # bytes skipped as garbage

    def feed(self, data: bytes) -> list[LedFrame]:
        self.buffer += data
        out: list[LedFrame] = []
        while True:
            frame, used = self._first(self.buffer)
            if frame is not None:
                out.append(frame)
                self.buffer = self.buffer[used:]
                continue
            start = self.template.start
            nxt = self.buffer.find(start, 1)
            at = self.buffer.find(start)
            if at > 0:  # garbage before a start
                self.bad += at
                self.buffer = self.buffer[at:]
                continue
            if at < 0:
                keep = len(start) - 1
                self.bad += max(0, len(self.buffer) - keep)
                self.buffer = self.buffer[-keep:] if keep else b""
                return out
            # a start at 0 that is no frame (yet): skip it if a later start holds a frame,
            # or if it has grown past any frame's length
            if (nxt > 0 and self._first(self.buffer[nxt:])[0] is not None) or len(
                self.buffer
            ) > MAX_FRAME:
                cut = nxt if nxt > 0 else 1
                self.bad += cut
                self.buffer = self.buffer[cut:]
                continue
            return out

    def _first(self, buf: bytes) -> tuple[LedFrame | None, int]:
        """The frame at the head of `buf` and its length, if a whole one is there."""
        t = self.template
        if not buf.startswith(t.start):
            return None, 0
        if t.end:
            pos = buf.find(t.end, len(t.start))
            while 0 <= pos < MAX_FRAME:
                n = pos + len(t.end)
                frame = decode_frame(t, buf[:n])
                if frame is not None:
                    return frame, n
                pos = buf.find(t.end, pos + 1)
            return None, 0
        for n in range(len(t.start) + 1, min(len(buf), MAX_FRAME) + 1):
            frame = decode_frame(t, buf[:n])
            if frame is not None:
                return frame, n
        return None, 0


def make_template(
    name: str = "cnqs",
    layout: str | None = None,
    command: str | None = None,
    checksum: str | None = None,
    encoding: str | None = None,
    escape: str | None = None,
) -> LedTemplate:
    """A shipped template with the hall file's overrides (hex strings as written there; None
    or "" keeps the template's part, escape "none" turns escaping off)."""
    layout, command, checksum, encoding = (
        layout or None,
        command or None,
        checksum or None,
        encoding or None,
    )
    if escape == "none":
        escape = ""
    elif not escape:
        escape = None
    if name not in TEMPLATES:
        raise LedTemplateError(f"template: {name!r} is not one of {', '.join(TEMPLATES)}")
    return TEMPLATES[name].with_overrides(
        name=name if layout is None and command is None else f"{name}+custom",
        layout=layout,
        command=parse_hex(command, "command") if command is not None else None,
        checksum=checksum,
        encoding=encoding,
        escape=parse_hex(escape, "escape") if escape is not None else None,
    )

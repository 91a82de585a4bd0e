"""Offline call announcements (语音叫号): "请 A023 号 到 3 号窗口 办理", said twice.

An announcement is a sequence of short clips (请, the letter, each digit, 号, 到, the window
number, 号窗口, 办理) joined into one WAV. A clip comes from the hall's own recording when one
exists in an override directory, else it is synthesised offline by espeak-ng with the
`cmn-Latn-pinyin` voice (Debian's `cmn` voice reads tone digits in English). espeak pads
clips with silence, so every clip is trimmed with sox before it is cached; untrimmed, a call
takes nearly twice as long (DEVICES.md §5). The ticket number is read digit by digit (A 零 二
三), never as a quantity; the window number is read as a number (十二号窗口), as halls do.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OVERRIDES = ROOT / "assets" / "voice"
RATE = 22050  # espeak-ng's native rate; recorded overrides are converted to it
WORD_GAP_S = 0.06
REPEAT_GAP_S = 0.8
REPEATS = 2

DIGITS = ["ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"]
#: clip name -> what espeak-ng says (pinyin with tone digits); letters are read by their name.
WORDS: dict[str, str] = {
    "qing": "qing3",  # 请
    "hao": "hao4",  # 号
    "dao": "dao4",  # 到
    "chuangkou": "chuang1 kou3",  # 窗口
    "banli": "ban4 li3",  # 办理
    "shi": "shi2",  # 十
    "bai": "bai3",  # 百
    **{f"digit-{d}": py for d, py in enumerate(DIGITS)},
    **{f"letter-{c}": c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
}
CLIP_TEXT = {
    "qing": "请",
    "hao": "号",
    "dao": "到",
    "chuangkou": "窗口",
    "banli": "办理",
    "shi": "十",
    "bai": "百",
    **{f"digit-{d}": "零一二三四五六七八九"[d] for d in range(10)},
    **{f"letter-{c}": c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
}
NUMBER_RE = re.compile(r"^[A-Z]{0,3}[0-9]{1,6}$")


class VoiceError(Exception):
    """A clip cannot be produced (espeak-ng or sox missing, or a bad override file)."""


def number_clips(number: str) -> list[str]:
    """A ticket number read character by character: A023 -> A 零 二 三."""
    number = number.strip().upper()
    if not NUMBER_RE.match(number):
        raise ValueError(f"not a ticket number: {number!r}")
    return [f"letter-{ch}" if ch.isalpha() else f"digit-{ch}" for ch in number]


def cardinal_clips(n: int) -> list[str]:
    """A window number read as a number, 1..999 (12 -> 十二, 20 -> 二十, 105 -> 一百零五)."""
    if not 1 <= n <= 999:
        return [f"digit-{ch}" for ch in str(n)]
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out: list[str] = []
    if hundreds:
        out += [f"digit-{hundreds}", "bai"]
        if rest and tens == 0:
            return [*out, "digit-0", f"digit-{ones}"]
    if tens:
        if tens > 1 or hundreds:
            out.append(f"digit-{tens}")
        out.append("shi")
    if ones:
        out.append(f"digit-{ones}")
    return out


def announcement_clips(number: str, window: int) -> list[str]:
    """One reading of the call, as clip names: 请 A 零 二 三 号 到 三 号 窗口 办理."""
    window_part = [*cardinal_clips(window), "hao", "chuangkou"]
    return ["qing", *number_clips(number), "hao", "dao", *window_part, "banli"]


def announcement_text(number: str, window: int) -> str:
    return "".join(CLIP_TEXT[c] for c in announcement_clips(number, window))


@dataclass
class Clip:
    name: str
    frames: bytes  # 16-bit mono PCM at RATE
    source: str  # "override" | "espeak"

    @property
    def seconds(self) -> float:
        return len(self.frames) / 2 / RATE


class Voice:
    """Makes, caches and joins clips. Thread-safe; synthesis runs outside the event loop."""

    def __init__(self, overrides: Path | None = None, cache_dir: Path | None = None) -> None:
        env_dir = os.environ.get("HALL_VOICE_DIR")
        self.overrides = overrides or (Path(env_dir) if env_dir else DEFAULT_OVERRIDES)
        self.cache_dir = cache_dir or Path(
            os.environ.get("HALL_VOICE_CACHE")
            or Path(tempfile.gettempdir()) / f"hall-voice-{os.getuid()}"
        )
        self._clips: dict[str, Clip] = {}
        self._wavs: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    # -- clips -------------------------------------------------------------------------------
    def clip(self, name: str) -> Clip:
        with self._lock:
            found = self._clips.get(name)
            if found is None:
                found = self._make_clip(name)
                self._clips[name] = found
            return found

    def _override_file(self, name: str) -> Path | None:
        for ext in (".wav", ".mp3", ".ogg", ".flac"):
            path = self.overrides / f"{name}{ext}"
            if path.is_file():
                return path
        return None

    def _make_clip(self, name: str) -> Clip:
        if name not in WORDS:
            raise VoiceError(f"unknown clip {name!r}")
        override = self._override_file(name)
        if override is not None:
            stamp = f"{override.resolve()}:{override.stat().st_mtime_ns}"
            source = "override"
        else:
            stamp = f"espeak-ng:cmn-Latn-pinyin:{WORDS[name]}"
            source = "espeak"
        key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
        cached = self.cache_dir / f"{name}-{key}.wav"
        if not cached.is_file():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                raw = Path(tmp) / "raw.wav"
                if override is not None:
                    shutil.copyfile(override, raw.with_suffix(override.suffix))
                    raw = raw.with_suffix(override.suffix)
                else:
                    _run(["espeak-ng", "-v", "cmn-Latn-pinyin", "-w", str(raw), WORDS[name]])
                out = Path(tmp) / "trimmed.wav"
                _trim(raw, out)
                os.replace(out, cached)
        with wave.open(str(cached), "rb") as w:
            frames = w.readframes(w.getnframes())
        return Clip(name, frames, source)

    # -- announcements ---------------------------------------------------------------------
    def announcement(self, number: str, window: int, repeats: int = REPEATS) -> bytes:
        """The WAV for a call: the sentence `repeats` times with a pause between."""
        key = (number.upper(), window, repeats)
        with self._lock:
            if key in self._wavs:
                self._wavs.move_to_end(key)
                return self._wavs[key]
        names = announcement_clips(number, window)
        word_gap = _silence(WORD_GAP_S)
        once = word_gap.join(self.clip(n).frames for n in names)
        body = _silence(REPEAT_GAP_S).join([once] * max(1, repeats))
        data = _wav_bytes(_silence(0.15) + body + _silence(0.2))
        with self._lock:
            self._wavs[key] = data
            while len(self._wavs) > 256:
                self._wavs.popitem(last=False)
        return data

    def warm(self) -> None:
        """Make every clip now (e.g. at start-up), so the first call is not delayed."""
        for name in WORDS:
            self.clip(name)


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise VoiceError(f"{cmd[0]} is not installed (apt-get install espeak-ng sox)")
    done = subprocess.run(cmd, capture_output=True, timeout=30)
    if done.returncode != 0:
        raise VoiceError(f"{cmd[0]} failed: {done.stderr.decode(errors='replace')[:200]}")


def _trim(src: Path, out: Path) -> None:
    """Convert to 16-bit mono at RATE and cut leading and trailing silence (sox `silence`)."""
    _run(
        ["sox", str(src), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
         str(out), "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%",
         "reverse"]
    )  # fmt: skip


def _silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(RATE * seconds)


def _wav_bytes(frames: bytes) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)
    return buf.getvalue()

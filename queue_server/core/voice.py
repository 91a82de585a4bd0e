"""Offline call announcements (语音叫号): "请 A023 号 到 3 号窗口 办理", said twice.

An announcement is a sequence of short clips (请, the letter, each digit, 号, 到, the window
number, 号窗口, 办理) joined into one WAV. A clip comes from the hall's own recording when one
exists in an override directory (and passes the level and length checks), else it is
synthesised offline by espeak-ng: words and digits with the `cmn-Latn-pinyin` voice (Debian's
`cmn` voice reads tone digits in English), prefix letters with the English voice from a
phoneme table, as the English letter names halls say (the Mandarin voice reads G as 志 and E
as 亦). espeak pads clips with silence, so every clip is trimmed with sox before it is cached;
untrimmed, a call takes nearly twice as long (DEVICES.md §5). Every clip is then normalised to
a -3 dBFS peak, so none clips and all are equally loud. The ticket number is read digit by
digit (A 零 二 三), never as a quantity; the window number is read as a number (十二号窗口).

When many windows call at once (opening time) the display asks `plan_next` what to say next:
the full sentence twice while at most two calls wait, else the short form "A023 三号窗口"
once, several calls to one audio; a repeated call of a ticket still waiting to be said is
dropped, a first call never is.
"""

from __future__ import annotations

import array
import hashlib
import io
import logging
import math
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
from typing import Literal

log = logging.getLogger("hall.voice")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OVERRIDES = ROOT / "assets" / "voice"
RATE = 22050  # espeak-ng's native rate; recorded overrides are converted to it
WORD_GAP_S = 0.06
REPEAT_GAP_S = 0.8
REPEATS = 2
PEAK_DBFS = -3.0  # every clip is normalised to this peak (sox `gain -n -3`)
CALL_GAP_S = 0.45  # between two calls said in one audio (the short form under load)
LEAD_S, TAIL_S = 0.15, 0.2  # silence around an announcement
#: A hall's recording is used only if it is within these bounds once trimmed (else espeak's).
CLIP_SECONDS = (0.08, 2.0)
SILENT_DBFS = -40.0  # a recording whose peak is below this is taken as silent

#: Prefix letters are read by their English names, as halls say them, by espeak-ng's English
#: voice from these phonemes (espeak's own notation, fed as [[...]]). The Mandarin voice reads
#: them as syllables: G as zhi (志), E as yi (亦), C as sei, J as zhei.
LETTER_VOICE = "en"
WORD_VOICE = "cmn-Latn-pinyin"
LETTER_PHONEMES: dict[str, str] = {
    "A": "'eI", "B": "b'i:", "C": "s'i:", "D": "d'i:", "E": "'i:", "F": "'Ef", "G": "dZ'i:",
    "H": "'eItS", "I": "'aI", "J": "dZ'eI", "K": "k'eI", "L": "'El", "M": "'Em", "N": "'En",
    "O": "'oU", "P": "p'i:", "Q": "kj'u:", "R": "'A@", "S": "'Es", "T": "t'i:", "U": "j'u:",
    "V": "v'i:", "W": "d'Vb@Lj,u:", "X": "'Eks", "Y": "w'aI", "Z": "z'Ed",
}  # fmt: skip
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
    **{f"letter-{c}": f"[[{ph}]]" for c, ph in LETTER_PHONEMES.items()},
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


Form = Literal["full", "short"]


def announcement_clips(number: str, window: int, form: Form = "full") -> list[str]:
    """One reading of the call, as clip names: 请 A 零 二 三 号 到 三 号 窗口 办理 (full), or
    A 零 二 三 三 号 窗口 (short, said under load)."""
    window_part = [*cardinal_clips(window), "hao", "chuangkou"]
    if form == "short":
        return [*number_clips(number), *window_part]
    return ["qing", *number_clips(number), "hao", "dao", *window_part, "banli"]


def announcement_text(number: str, window: int, form: Form = "full") -> str:
    return "".join(CLIP_TEXT[c] for c in announcement_clips(number, window, form))


def espeak_command(name: str) -> list[str]:
    """The espeak-ng command line that says clip `name` (add `-w FILE`, or `-q -x` to see
    the phonemes it speaks)."""
    if name not in WORDS:
        raise VoiceError(f"unknown clip {name!r}")
    lang = LETTER_VOICE if name.startswith("letter-") else WORD_VOICE
    return ["espeak-ng", "-v", lang, WORDS[name]]


# -- the announcement queue under load -----------------------------------------------------------
QUIET_BACKLOG = 2  # up to this many calls waiting: each in full, twice
GROUP = 4  # under load, up to this many calls are said in one audio
LOAD_TEMPO = 1.2  # under load the short form is said this much faster (sox `tempo -s`, pitch kept)


@dataclass(frozen=True)
class Pending:
    """A call waiting to be said, as the display queues it."""

    number: str
    window: int
    ticket: str = ""  # the ticket's id ("" if unknown: then the number stands for it)
    recall: bool = False
    repeat: bool = False  # the second reading of a call said once already


@dataclass(frozen=True)
class Utterance:
    """What to say next: `calls` (queue positions `said`) in one audio; `done`: the queue
    positions it settles (those said, repeats of them, second readings dropped under load);
    `again`: queue the second reading of the call at the end once this has been said."""

    calls: tuple[tuple[str, int], ...]
    form: Form
    repeats: int
    done: tuple[int, ...]
    tempo: float = 1.0
    said: tuple[int, ...] = ()
    again: bool = False


def plan_next(pending: list[Pending]) -> Utterance | None:
    """The announcement policy, for the display's queue (oldest first).

    - Quiet (at most QUIET_BACKLOG calls waiting to be said a first time): the oldest in
      full ("请 A023 号 到 三号窗口 办理"); a first reading is followed by a second one, queued
      behind whatever was called meanwhile, so a burst does not wait for it.
    - Under load (more waiting, e.g. many windows calling at opening time): the short form
      ("A023 三号窗口"), once, the GROUP oldest in one audio, LOAD_TEMPO times as fast; second
      readings still waiting are dropped. The last of 24 simultaneous calls is heard in about
      70 s, not ~130 s (`python -m bench.announce_bench`).
    - A call of a ticket already waiting to be said at the same window (a 重呼 pressed before
      the first call was heard) is dropped: the waiting one says the same thing.
    - A first call is never dropped: every one is said, in order. (Calls whose ticket left
      the window before they were said are taken off the queue by the display itself.)
    """
    rep: dict[tuple[str, int], int] = {}
    members: dict[int, list[int]] = {}
    for i, p in enumerate(pending):
        key = (p.ticket or p.number.upper(), p.window)
        j = rep.get(key)
        if j is None:
            rep[key], members[i] = i, []
        elif pending[j].repeat and not p.repeat:  # a new call stands for a waiting repeat
            members[i] = [*members.pop(j), j]
            rep[key] = i
        else:
            members[j].append(i)
    reps = sorted(members)
    if not reps:
        return None
    firsts = [i for i in reps if not pending[i].repeat]
    form: Form
    if len(firsts) <= QUIET_BACKLOG:
        chosen, form, dropped = reps[:1], "full", []
        again = not pending[chosen[0]].repeat
    else:
        chosen, form, again = firsts[:GROUP], "short", False
        dropped = [i for i in reps if pending[i].repeat]
    tempo = 1.0 if form == "full" else LOAD_TEMPO
    done = sorted(i for c in (*chosen, *dropped) for i in (c, *members[c]))
    calls = tuple((pending[c].number.upper(), pending[c].window) for c in chosen)
    return Utterance(calls, form, 1, tuple(done), tempo, tuple(chosen), again)


# -- free text (语音广播) ---------------------------------------------------------------------
SPEECH_VOICE = (
    WORD_VOICE  # reads Chinese characters as Mandarin; the `cmn` voice says tones in English
)
SPEECH_GAP_S = 1.0  # between the readings of a broadcast
_CLOCK_RE = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")


def speech_text(text: str) -> str:
    """A broadcast's text as espeak-ng should read it: clock times as Chinese say them
    (17:00 -> 17点, 8:30 -> 8点30分; espeak reads "17:00" as 十七 零零)."""

    def said(m: re.Match[str]) -> str:
        hour, minute = int(m.group(1)), int(m.group(2))
        return f"{hour}点" + (f"{minute}分" if minute else "")

    return _CLOCK_RE.sub(said, text)


@dataclass
class Clip:
    name: str
    frames: bytes  # 16-bit mono PCM at RATE, peak at PEAK_DBFS
    source: str  # "override" | "espeak"

    @property
    def seconds(self) -> float:
        return len(self.frames) / 2 / RATE


def peak_dbfs(frames: bytes) -> float:
    """The peak of 16-bit PCM in dBFS (-inf for silence)."""
    samples = array.array("h", frames)
    peak = max((abs(x) for x in samples), default=0)
    return 20 * math.log10(peak / 32768) if peak else float("-inf")


def check_recording(frames: bytes) -> list[str]:
    """Why a hall's recorded clip (trimmed, before normalising) cannot be used, if it cannot:
    clipped (peak at full scale), silent, too short or too long."""
    problems = []
    seconds = len(frames) / 2 / RATE
    peak = peak_dbfs(frames)
    if peak >= -0.01:
        problems.append("削波（峰值达到 0 dBFS），请降低录音音量后重录")
    elif peak < SILENT_DBFS:
        problems.append(f"几乎无声（峰值 {peak:.0f} dBFS）")
    if not CLIP_SECONDS[0] <= seconds <= CLIP_SECONDS[1]:
        problems.append(
            f"去掉首尾静音后时长 {seconds:.2f} 秒，应在 {CLIP_SECONDS[0]}–{CLIP_SECONDS[1]} 秒之间"
        )
    return problems


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
        self._wavs: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()
        #: clip name -> why the hall's recording of it was not used (espeak's is used instead)
        self.rejected: dict[str, list[str]] = {}

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
            clip = self._cached(name, f"{override.resolve()}:{override.stat().st_mtime_ns}",
                                "override", override)  # fmt: skip
            if clip is not None:
                return clip
        stamp = " ".join(espeak_command(name))
        clip = self._cached(name, stamp, "espeak", None)
        assert clip is not None
        return clip

    def _cached(self, name: str, stamp: str, source: str, override: Path | None) -> Clip | None:
        """The clip from the cache, or made, trimmed, checked (a recording) and normalised."""
        key = hashlib.sha256(f"v2:{PEAK_DBFS}:{stamp}".encode()).hexdigest()[:16]
        cached = self.cache_dir / f"{name}-{key}.wav"
        if not cached.is_file():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                if override is not None:
                    raw = Path(tmp) / f"raw{override.suffix}"
                    shutil.copyfile(override, raw)
                else:
                    raw = Path(tmp) / "raw.wav"
                    _run([*espeak_command(name)[:-1], "-w", str(raw), WORDS[name]])
                trimmed = Path(tmp) / "trimmed.wav"
                _trim(raw, trimmed)
                if override is not None:
                    problems = check_recording(_frames(trimmed))
                    if problems:
                        self.rejected[name] = problems
                        log.warning("voice: not using %s: %s", override, "；".join(problems))
                        return None
                out = Path(tmp) / "normalised.wav"
                _run(["sox", str(trimmed), str(out), "gain", "-n", str(PEAK_DBFS)])
                os.replace(out, cached)
        return Clip(name, _frames(cached), source)

    # -- announcements ---------------------------------------------------------------------
    def announcement(
        self, number: str, window: int, repeats: int = REPEATS, form: Form = "full"
    ) -> bytes:
        """The WAV for a call: the sentence `repeats` times with a pause between."""
        return self.announcement_of([(number, window)], repeats, form)

    def announcement_of(
        self,
        calls: list[tuple[str, int]],
        repeats: int = REPEATS,
        form: Form = "full",
        tempo: float = 1.0,
    ) -> bytes:
        """The WAV for one or more calls said in a row, the whole `repeats` times, `tempo`
        times as fast as the clips (pitch kept)."""
        key = (tuple((n.upper(), w) for n, w in calls), repeats, form, tempo)
        with self._lock:
            if key in self._wavs:
                self._wavs.move_to_end(key)
                return self._wavs[key]
        word_gap = _silence(WORD_GAP_S)
        said = [
            word_gap.join(self.clip(n).frames for n in announcement_clips(num, win, form))
            for num, win in calls
        ]
        once = _silence(CALL_GAP_S).join(said)
        body = _silence(REPEAT_GAP_S).join([once] * max(1, repeats))
        frames = _silence(LEAD_S) + body + _silence(TAIL_S)
        if tempo != 1.0:
            frames = _sox_frames(frames, ["tempo", "-s", f"{tempo:g}"])
        data = _wav_bytes(frames)
        with self._lock:
            self._wavs[key] = data
            while len(self._wavs) > 256:
                self._wavs.popitem(last=False)
        return data

    def heard_at(
        self, calls: list[tuple[str, int]], form: Form = "full", tempo: float = 1.0
    ) -> list[float]:
        """Seconds from the start of the audio of `calls` to the end of each call's first
        reading: when the person called has heard their number."""
        t, out = LEAD_S, []
        for i, (num, win) in enumerate(calls):
            names = announcement_clips(num, win, form)
            t += (CALL_GAP_S if i else 0) + sum(self.clip(n).seconds for n in names)
            t += WORD_GAP_S * (len(names) - 1)
            out.append(t / tempo)
        return out

    def speech(self, text: str, repeats: int = REPEATS) -> bytes:
        """The WAV for a broadcast: `text` synthesised offline (trimmed, normalised like the
        clips), said `repeats` times with a pause between. Cached on disk by its text."""
        spoken = speech_text(text)
        key = hashlib.sha256(f"speech-v1:{PEAK_DBFS}:{SPEECH_VOICE}:{spoken}".encode()).hexdigest()
        cached = self.cache_dir / f"speech-{key[:20]}.wav"
        if not cached.is_file():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                raw, trimmed, out = (Path(tmp) / n for n in ("raw.wav", "trim.wav", "norm.wav"))
                _run(["espeak-ng", "-v", SPEECH_VOICE, "-w", str(raw), spoken])
                _trim(raw, trimmed)
                _run(["sox", str(trimmed), str(out), "gain", "-n", str(PEAK_DBFS)])
                os.replace(out, cached)
        once = _frames(cached)
        body = _silence(SPEECH_GAP_S).join([once] * max(1, repeats))
        return _wav_bytes(_silence(LEAD_S) + body + _silence(TAIL_S))

    def warm(self) -> None:
        """Make every clip now (e.g. at start-up), so the first call is not delayed."""
        for name in WORDS:
            self.clip(name)


def _frames(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


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


def _sox_frames(frames: bytes, effects: list[str]) -> bytes:
    """16-bit mono PCM at RATE through sox effects (raw in and out: a WAV header written to a
    pipe has no length)."""
    if shutil.which("sox") is None:
        raise VoiceError("sox is not installed (apt-get install sox)")
    raw = ["-t", "raw", "-r", str(RATE), "-b", "16", "-c", "1", "-e", "signed-integer"]
    done = subprocess.run(
        ["sox", *raw, "-", *raw, "-", *effects], input=frames, capture_output=True, timeout=30
    )
    if done.returncode != 0:
        raise VoiceError(f"sox failed: {done.stderr.decode(errors='replace')[:200]}")
    return done.stdout


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

"""Call announcements: clip order, digit-by-digit reading, trimmed clips, duration, overrides."""

from __future__ import annotations

import string
import subprocess
from pathlib import Path

import pytest

from queue_server.core import voice
from tests.web.conftest import LiveServer

# One reading of "请 A023 号 到 3 号窗口 办理" from trimmed espeak-ng clips takes about 4.3 s;
# the announcement says it twice with a 0.8 s pause. Untrimmed clips would give ~2x longer.
ONE_READING_S = (2.5, 6.0)
ANNOUNCEMENT_S = (6.0, 12.0)


def soxi_seconds(path: Path) -> float:
    return float(
        subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout
    )


@pytest.fixture
def v(tmp_path: Path) -> voice.Voice:
    return voice.Voice(overrides=tmp_path / "none", cache_dir=tmp_path / "cache")


def test_ticket_number_is_read_digit_by_digit() -> None:
    assert voice.number_clips("A023") == ["letter-A", "digit-0", "digit-2", "digit-3"]
    assert voice.number_clips("b100") == ["letter-B", "digit-1", "digit-0", "digit-0"]
    with pytest.raises(ValueError):
        voice.number_clips("A 023; rm -rf")


@pytest.mark.parametrize(
    ("window", "text"),
    [
        (3, "三"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (24, "二十四"),
        (105, "一百零五"),
        (110, "一百一十"),
    ],
)
def test_window_number_is_read_as_a_number(window: int, text: str) -> None:
    assert "".join(voice.CLIP_TEXT[c] for c in voice.cardinal_clips(window)) == text


def test_the_clip_sequence_of_a_call() -> None:
    assert voice.announcement_clips("A023", 3) == [
        "qing", "letter-A", "digit-0", "digit-2", "digit-3", "hao", "dao",
        "digit-3", "hao", "chuangkou", "banli",
    ]  # fmt: skip
    assert voice.announcement_text("A023", 3) == "请A零二三号到三号窗口办理"


def test_clips_are_trimmed_and_cached(v: voice.Voice) -> None:
    for name in ("qing", "digit-0", "letter-A", "chuangkou"):
        clip = v.clip(name)
        assert clip.source == "espeak"
        assert 0.1 < clip.seconds < 1.0, (name, clip.seconds)  # espeak pads ~0.3 s without trim
        # No leading silence: the first 20 ms already carry sound.
        head = clip.frames[: int(voice.RATE * 0.02) * 2]
        peak = max(
            abs(int.from_bytes(head[i : i + 2], "little", signed=True))
            for i in range(0, len(head), 2)
        )
        assert peak > 300, (name, peak)
    assert len(list((v.cache_dir).glob("qing-*.wav"))) == 1


def test_announcement_duration_measured_with_soxi(v: voice.Voice, tmp_path: Path) -> None:
    once = tmp_path / "once.wav"
    once.write_bytes(v.announcement("A023", 3, repeats=1))
    twice = tmp_path / "twice.wav"
    twice.write_bytes(v.announcement("A023", 3))
    d1, d2 = soxi_seconds(once), soxi_seconds(twice)
    assert ONE_READING_S[0] <= d1 <= ONE_READING_S[1], d1
    assert ANNOUNCEMENT_S[0] <= d2 <= ANNOUNCEMENT_S[1], d2
    # Said twice: the second reading adds one reading plus the pause.
    body = d1 - 0.35
    assert abs((d2 - 0.35) - (2 * body + voice.REPEAT_GAP_S)) < 0.05
    # The composed audio is exactly the clips in order with the word gaps.
    clips = [v.clip(n).seconds for n in voice.announcement_clips("A023", 3)]
    expected = sum(clips) + voice.WORD_GAP_S * (len(clips) - 1) + 0.35
    assert abs(d1 - expected) < 0.02


def test_a_hall_recording_replaces_a_clip(tmp_path: Path) -> None:
    rec = tmp_path / "voice"
    rec.mkdir()
    # A "recorded" 号: 0.5 s of tone at 44.1 kHz stereo; it is converted and used as is.
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "44100",
            "-c",
            "2",
            str(rec / "hao.wav"),
            "synth",
            "0.5",
            "sine",
            "440",
        ],
        check=True,
    )
    v = voice.Voice(overrides=rec, cache_dir=tmp_path / "cache")
    clip = v.clip("hao")
    assert clip.source == "override"
    assert abs(clip.seconds - 0.5) < 0.02
    assert v.clip("qing").source == "espeak"


# -- letters ----------------------------------------------------------------------------------
# The intended reading of every prefix letter: its English name, as halls say it, in
# espeak-ng's phoneme notation (what `espeak-ng -q -x` prints). espeak's Mandarin voice read
# G as ts.'i51 (志), E as j'i51 (亦), C as s'ei55, H as 'ei35ts.h: never again.
INTENDED_LETTERS = {
    "A": "'eI", "B": "b'i:", "C": "s'i:", "D": "d'i:", "E": "'i:", "F": "'Ef", "G": "dZ'i:",
    "H": "'eItS", "I": "'aI", "J": "dZ'eI", "K": "k'eI", "L": "'El", "M": "'Em", "N": "'En",
    "O": "'oU", "P": "p'i:", "Q": "kj'u:", "R": "'A@", "S": "'Es", "T": "t'i:", "U": "j'u:",
    "V": "v'i:", "W": "d'Vb@Lj,u:", "X": "'Eks", "Y": "w'aI", "Z": "z'Ed",
}  # fmt: skip


def spoken_phonemes(cmd: list[str]) -> str:
    """The phonemes espeak-ng speaks for a synthesis command (-q -x: print, no sound)."""
    out = subprocess.run([*cmd[:-1], "-q", "-x", cmd[-1]], capture_output=True, text=True)
    return out.stdout.strip()


@pytest.mark.parametrize("letter", sorted(INTENDED_LETTERS))
def test_every_prefix_letter_is_spoken_by_its_name(letter: str) -> None:
    """The command that makes the letter's clip speaks exactly the intended phonemes."""
    cmd = voice.espeak_command(f"letter-{letter}")
    assert spoken_phonemes(cmd) == INTENDED_LETTERS[letter], cmd
    # The English voice's own reading of the letter agrees: it is the letter's name.
    english = spoken_phonemes(["espeak-ng", "-v", "en", letter])
    assert english == INTENDED_LETTERS[letter]


def test_every_letter_a_hall_may_use_has_a_reading() -> None:
    """Any A–Z may be a service prefix (config: ^[A-Z]{1,2}$)."""
    assert set(voice.LETTER_PHONEMES) == set(string.ascii_uppercase)
    for c in string.ascii_uppercase:
        assert f"letter-{c}" in voice.WORDS


# -- levels -----------------------------------------------------------------------------------
def sox_peak(path: Path) -> float:
    """The peak amplitude (0..1 of full scale) measured by `sox stat`."""
    err = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True).stderr
    amp = {
        k.strip(): float(v) for k, v in (ln.split(":", 1) for ln in err.splitlines() if ":" in ln)
        if k.strip() in ("Maximum amplitude", "Minimum amplitude")
    }  # fmt: skip
    return max(amp["Maximum amplitude"], -amp["Minimum amplitude"])


MINUS_3_DB = 10 ** (-3 / 20)  # 0.708 of full scale


@pytest.mark.parametrize("name", ["qing", "hao", "dao", "chuangkou", "banli", "digit-0",
                                  "digit-7", "letter-A", "letter-G", "letter-W"])  # fmt: skip
def test_clips_are_normalised_below_full_scale(v: voice.Voice, name: str) -> None:
    v.clip(name)
    (cached,) = v.cache_dir.glob(f"{name}-*.wav")
    peak = sox_peak(cached)
    assert abs(peak - MINUS_3_DB) < 0.01, (name, peak)


def test_an_announcement_never_clips(v: voice.Voice, tmp_path: Path) -> None:
    wav = tmp_path / "call.wav"
    wav.write_bytes(v.announcement("G105", 24))
    assert sox_peak(wav) <= MINUS_3_DB + 0.01


# -- a hall's recordings ----------------------------------------------------------------------
def tone(path: Path, seconds: float, gain_db: float) -> None:
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "1", "-b", "16", str(path), "synth", str(seconds),
         "sine", "440", "gain", "-n", str(gain_db)],
        check=True,
    )  # fmt: skip


def test_a_recording_is_normalised_like_the_synthesised_clips(tmp_path: Path) -> None:
    rec = tmp_path / "voice"
    rec.mkdir()
    tone(rec / "dao.wav", 0.4, -12)
    v = voice.Voice(overrides=rec, cache_dir=tmp_path / "cache")
    clip = v.clip("dao")
    assert clip.source == "override"
    assert abs(voice.peak_dbfs(clip.frames) - voice.PEAK_DBFS) < 0.1


@pytest.mark.parametrize(
    ("seconds", "gain_db", "why"),
    [(0.4, 0, "削波"), (0.4, -60, "无声"), (3.5, -6, "时长"), (0.03, -6, "时长")],
)
def test_a_bad_recording_is_not_used(
    tmp_path: Path, seconds: float, gain_db: float, why: str
) -> None:
    """Clipped, silent, too long or too short: espeak's clip is said instead, and why."""
    rec = tmp_path / "voice"
    rec.mkdir()
    if gain_db == 0:  # clipped: a tone driven past full scale
        subprocess.run(
            ["sox", "-n", "-r", "22050", "-c", "1", "-b", "16", str(rec / "letter-G.wav"),
             "synth", str(seconds), "sine", "440", "gain", "6"],
            check=True, capture_output=True,
        )  # fmt: skip
    else:
        tone(rec / "letter-G.wav", seconds, gain_db)
    v = voice.Voice(overrides=rec, cache_dir=tmp_path / "cache")
    assert v.clip("letter-G").source == "espeak"
    assert any(why in p for p in v.rejected["letter-G"]), v.rejected


RECORDINGS = sorted(
    p for p in voice.DEFAULT_OVERRIDES.glob("*") if p.suffix in (".wav", ".flac", ".ogg", ".mp3")
)


def test_the_halls_own_recordings_pass_the_checks(tmp_path: Path) -> None:
    """Every clip recorded in assets/voice/ is named after a clip and is used (level and
    length within bounds); none is recorded in this tree, a hall adds its own."""
    v = voice.Voice(overrides=voice.DEFAULT_OVERRIDES, cache_dir=tmp_path / "cache")
    for path in RECORDINGS:
        assert path.stem in voice.WORDS, f"{path.name}: no such clip"
        assert v.clip(path.stem).source == "override", (path.name, v.rejected.get(path.stem))
        duration = soxi_seconds(path)
        assert 0.08 <= duration <= 5.0, (path.name, duration)


# -- the announcement queue under load ---------------------------------------------------------
def P(number: str, window: int, ticket: str = "", recall: bool = False) -> voice.Pending:  # noqa: N802
    return voice.Pending(number, window, ticket or number, recall)


def test_a_quiet_hall_hears_each_call_in_full_twice() -> None:
    plan = voice.plan_next([P("A001", 1), P("B002", 2)])
    assert plan is not None
    assert plan.calls == (("A001", 1),) and plan.form == "full" and plan.repeats == 1
    assert plan.done == (0,) and plan.said == (0,) and plan.tempo == 1.0
    assert plan.again  # the second reading is queued behind B002
    plan = voice.plan_next([P("B002", 2), voice.Pending("A001", 1, "A001", repeat=True)])
    assert plan is not None and plan.calls == (("B002", 2),) and plan.again
    plan = voice.plan_next([voice.Pending("A001", 1, "A001", repeat=True)])
    assert plan is not None and plan.calls == (("A001", 1),) and not plan.again
    assert voice.plan_next([]) is None


def test_under_load_second_readings_give_way() -> None:
    pending = [voice.Pending("A001", 1, "A001", repeat=True)]
    pending += [P(f"B{i:03d}", i) for i in range(2, 6)]
    plan = voice.plan_next(pending)
    assert plan is not None and plan.form == "short"
    assert plan.calls == tuple((f"B{i:03d}", i) for i in range(2, 6))
    assert plan.done == (0, 1, 2, 3, 4)  # A001's second reading is dropped
    # A 重呼 of A001 while its second reading waits is a call in its own right.
    plan = voice.plan_next(
        [voice.Pending("A001", 1, "A001", repeat=True), P("A001", 1, "A001", recall=True)]
    )
    assert plan is not None and plan.said == (1,) and plan.done == (0, 1) and plan.again


def test_under_load_calls_are_said_short_once_and_grouped() -> None:
    pending = [P(f"A{i:03d}", i) for i in range(1, 6)]
    plan = voice.plan_next(pending)
    assert plan is not None
    assert plan.form == "short" and plan.repeats == 1 and plan.tempo == voice.LOAD_TEMPO
    assert plan.calls == tuple((f"A{i:03d}", i) for i in range(1, 5))
    assert plan.done == (0, 1, 2, 3)
    assert voice.announcement_text("A023", 3, "short") == "A零二三三号窗口"


def test_a_repeated_call_still_waiting_is_dropped_never_a_first_call() -> None:
    # A001 called at window 1, recalled before it was said: said once, both settled.
    pending = [P("A001", 1, "t1"), P("B002", 2, "t2"), P("A001", 1, "t1", recall=True)]
    plan = voice.plan_next(pending)
    assert plan is not None and plan.calls == (("A001", 1),) and plan.done == (0, 2)
    # The same ticket called at another window (transferred) is a new call.
    plan = voice.plan_next([P("A001", 1, "t1"), P("A001", 7, "t1")])
    assert plan is not None and plan.done == (0,)
    # 24 windows call at once, some recall: every first call is said exactly once, in order.
    queue = [P(f"A{i:03d}", i, f"t{i}") for i in range(1, 25)]
    queue += [P("A003", 3, "t3", recall=True), P("A010", 10, "t10", recall=True)]
    said: list[tuple[str, int]] = []
    while (plan := voice.plan_next(queue)) is not None:
        said += plan.calls
        queue = [q for i, q in enumerate(queue) if i not in plan.done]
    assert said == [(f"A{i:03d}", i) for i in range(1, 25)]


def test_grouped_short_audio_and_when_each_call_is_heard(v: voice.Voice, tmp_path: Path) -> None:
    calls = [("A001", 1), ("B012", 12), ("G105", 24)]
    wav = tmp_path / "group.wav"
    wav.write_bytes(v.announcement_of(calls, 1, "short"))
    heard = v.heard_at(calls, "short")
    assert heard == sorted(heard)
    assert abs(soxi_seconds(wav) - (heard[-1] + voice.TAIL_S)) < 0.02
    fast = tmp_path / "fast.wav"
    fast.write_bytes(v.announcement_of(calls, 1, "short", 1.2))
    assert abs(soxi_seconds(fast) - soxi_seconds(wav) / 1.2) < 0.05


def test_the_display_asks_the_server_what_to_say_next(live_server: LiveServer) -> None:
    token = live_server.tokens["display"]
    pending = [{"number": f"A{i:03d}", "window": i, "ticket": str(i)} for i in range(1, 7)]
    with live_server.api(token) as api:
        plan = api.post("/voice/next", json={"pending": pending}).json()
        assert plan["form"] == "short" and plan["repeats"] == 1 and plan["done"] == [0, 1, 2, 3]
        assert plan["text"].startswith("A零零一一号窗口，A零零二二号窗口")
        audio = api.get(plan["url"].removeprefix("/api/v1"))
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert api.post("/voice/next", json={"pending": []}).json() is None
        bad = api.post("/voice/next", json={"pending": [{"number": "A;1", "window": 1}]})
        assert bad.status_code == 422 and "号码" in bad.json()["error"]["message"]
        assert api.get("/voice/announce?calls=A001").status_code == 422

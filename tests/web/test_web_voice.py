"""Call announcements: clip order, digit-by-digit reading, trimmed clips, duration, overrides."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from queue_server import voice

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

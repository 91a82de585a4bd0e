"""Speech is produced offline by espeak-ng; the Speaker never blocks and stays quiet without audio."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from kiosk.core.texts import spoken_number
from kiosk.core.voice import Speaker, synthesize


def test_ticket_numbers_are_read_digit_by_digit() -> None:
    assert spoken_number("A023") == "A 零 二 三"
    assert spoken_number("A023", "en") == "A 0 2 3"


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed")
def test_synthesize_writes_a_wav(tmp_path: Path) -> None:
    out = tmp_path / "s.wav"
    assert synthesize("请刷身份证。您的号码 A 零 二 三", "zh", out)
    with wave.open(str(out)) as w:
        assert w.getnframes() / w.getframerate() > 1.0


def test_speaker_keeps_only_the_latest_screen() -> None:
    speaker = Speaker()
    for n in range(20):
        speaker.say(f"第{n}屏")
    assert speaker._queue.qsize() <= 1  # older, unspoken screens were dropped
    speaker.close()

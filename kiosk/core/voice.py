"""Reading screens aloud offline: espeak-ng to a WAV file, then aplay/paplay, in a worker thread.

The text comes from the core (`Screen.speech`); this only turns it into sound. A newer screen
replaces speech that has not started yet. With no espeak-ng, no player or no sound card the
kiosk stays silent rather than failing: speech helps, it is never the only way to read.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

log = logging.getLogger("kiosk.voice")

VOICES = {"zh": "cmn-Latn-pinyin", "en": "en"}


def synthesize(text: str, lang: str, out: Path) -> bool:
    """Write speech for `text` to `out` (WAV); False when espeak-ng is missing or fails."""
    exe = shutil.which("espeak-ng")
    if not exe or not text.strip():
        return False
    cmd = [exe, "-v", VOICES.get(lang, VOICES["zh"]), "-s", "150", "-w", str(out), text]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def player() -> list[str] | None:
    """A command that plays a WAV file on a sound device that exists, or None."""
    if shutil.which("paplay"):
        try:
            if subprocess.run(["pactl", "info"], capture_output=True, timeout=3).returncode == 0:
                return ["paplay"]
        except (OSError, subprocess.TimeoutExpired):
            pass
    if shutil.which("aplay"):
        try:
            cards = subprocess.run(["aplay", "-l"], capture_output=True, text=True, timeout=3)
            if "card" in cards.stdout:
                return ["aplay", "-q"]
        except (OSError, subprocess.TimeoutExpired):
            pass
    return None


class Speaker:
    """Speaks the latest request in a daemon thread; never blocks the caller."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._player: list[str] | None = None
        self._checked = False

    def say(self, text: str, lang: str = "zh") -> None:
        if not self.enabled:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kiosk-voice", daemon=True)
            self._thread.start()
        try:
            self._queue.get_nowait()  # drop what was not spoken yet: the screen changed
        except queue.Empty:
            pass
        try:
            self._queue.put_nowait((text, lang))
        except queue.Full:
            pass

    def close(self) -> None:
        if self._thread is not None:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass

    def _run(self) -> None:
        if not self._checked:
            self._player, self._checked = player(), True
            if self._player is None:
                log.info("no audio device: speech is off")
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._player is None:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "say.wav"
                if synthesize(item[0], item[1], wav):
                    try:
                        subprocess.run([*self._player, str(wav)], capture_output=True, timeout=60)
                    except (OSError, subprocess.TimeoutExpired):
                        pass

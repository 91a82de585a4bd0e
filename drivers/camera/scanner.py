"""QrScanner: capture and decode in a worker thread, never on the GUI thread.

`on_text` fires once per code shown; the same text again fires only after `repeat_after` s
(a citizen holding a phone still must not check in ten times). `on_frame` receives every frame
for a preview; a Qt caller must copy it (QImage(...).copy()) before the next frame arrives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from drivers.base import Worker

from .qr import decode_qr
from .source import Camera

log = logging.getLogger(__name__)


class QrScanner(Worker):
    thread_name = "qr-scanner"

    def __init__(
        self,
        camera: Camera,
        on_text: Callable[[str], None] | None = None,
        on_frame: Callable[[np.ndarray], None] | None = None,
        interval: float = 0.03,
        decode_every: int = 1,
        repeat_after: float = 3.0,
    ) -> None:
        super().__init__()
        self.camera = camera
        self.on_text = on_text
        self.on_frame = on_frame
        self.interval = interval
        self.decode_every = max(1, decode_every)
        self.repeat_after = repeat_after
        self._last_seen: dict[str, float] = {}
        self._frames = 0

    def process(self, frame: np.ndarray) -> list[str]:
        """Decode one frame and report new texts (the thread calls this; tests may too)."""
        self._frames += 1
        if self.on_frame is not None:
            self.on_frame(frame)
        if self._frames % self.decode_every:
            return []
        fresh = []
        now = time.monotonic()
        for text in decode_qr(frame):
            last = self._last_seen.get(text)
            self._last_seen[text] = now
            if last is None or now - last >= self.repeat_after:
                fresh.append(text)
                if self.on_text is not None:
                    self.on_text(text)
        return fresh

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.camera.read()
            if frame is None:
                self._stop.wait(self.interval)
                continue
            try:
                self.process(frame)
            except Exception:  # a listener's bug must not kill the scanner
                log.exception("QR listener failed")

"""CardPoller: a thread that asks the reader for a card every `interval` seconds.

Listeners are plain callbacks, called on the poller thread (a Qt kiosk re-emits them as
signals). `on_error` fires for a card that could not be read and when the reader goes away;
`on_back` fires once when a reader that was away answers again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from drivers.base import Worker

from .errors import CardError, IdCardError, ReaderUnavailable
from .model import IdCard
from .reader import IdCardReader

log = logging.getLogger(__name__)


class CardPoller(Worker):
    thread_name = "idcard-poller"
    stop_timeout = 5.0

    def __init__(
        self,
        reader: IdCardReader,
        interval: float = 0.2,
        on_card: Callable[[IdCard], None] | None = None,
        on_error: Callable[[IdCardError], None] | None = None,
        on_back: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.reader = reader
        self.interval = interval
        self.on_card = on_card
        self.on_error = on_error
        self.on_back = on_back
        self.reader_down = False
        self._last_error_code = ""

    def poll_once(self) -> None:
        """One attempt; the thread calls this, tests may call it directly."""
        try:
            card = self.reader.read_card(timeout=0)
        except ReaderUnavailable as e:
            if not self.reader_down or e.code != self._last_error_code:
                log.warning("id card reader unavailable: %s", e.code)
                self._emit(self.on_error, e)
            self.reader_down, self._last_error_code = True, e.code
            return
        except CardError as e:
            self._back_if_down()
            log.info("card could not be read: %s", e.code)
            self._emit(self.on_error, e)
            return
        self._back_if_down()
        if card is not None:
            self._emit(self.on_card, card)

    def _back_if_down(self) -> None:
        if self.reader_down:
            self.reader_down, self._last_error_code = False, ""
            log.info("id card reader is back")
            self._emit(self.on_back)

    def _emit(self, callback: Callable[..., None] | None, *args: object) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a listener's bug must not stop the poller
            log.exception("id card listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)

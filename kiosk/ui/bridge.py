"""Running device and network work off the UI thread, and getting results back onto it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot


class Bridge(QObject):
    """`post(fn)` from any thread runs `fn` on the thread that owns the bridge (the UI thread)."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        fn()

    def post(self, fn: Callable[[], None]) -> None:
        self.call.emit(fn)


class QtRunner:
    """The flow's `run`: the job in a worker thread, `ok`/`fail` back on the UI thread."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    def run(
        self,
        job: Callable[[], Any],
        ok: Callable[[Any], None],
        fail: Callable[[BaseException], None],
    ) -> None:
        def work() -> None:
            try:
                result = job()
            except Exception as err:
                error = err  # `err` is unbound after the except block; the lambda runs later
                self.bridge.post(lambda: fail(error))
            else:
                self.bridge.post(lambda: ok(result))

        threading.Thread(target=work, name="kiosk-job", daemon=True).start()

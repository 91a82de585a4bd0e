"""Running the kiosk: devices, core, window and timers, wired once; `--simulate` adds fakes."""

from __future__ import annotations

import faulthandler
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.core.api import HttpApi, ServerApi
from kiosk.core.app import KioskCore
from kiosk.core.devices import KioskDevices, open_devices, sample_cards
from kiosk.core.settings import KioskSettings
from kiosk.core.voice import Speaker

from .bridge import Bridge, QtRunner
from .window import KioskWindow, TouchFilter

log = logging.getLogger("kiosk.app")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DemoServer:
    """`hall server` in a subprocess on a temporary database, with a kiosk token."""

    proc: subprocess.Popen[str]
    url: str
    token: str
    tmp: str
    booking_token: str = ""  # F5 books an appointment to check in with

    @classmethod
    def start(cls) -> DemoServer:
        tmp = tempfile.mkdtemp(prefix="hall-kiosk-")
        db = Path(tmp) / "hall.db"
        hall = [sys.executable, "-m", "hallcli.main"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            [*hall, "server", "--db", str(db), "--port", str(port)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if "listening on" in line:
                break
        else:
            raise RuntimeError("the demo server did not start")

        def token(role: str) -> str:
            out = subprocess.run(
                [*hall, "token", "--db", str(db), "--role", role, "--name", f"{role}-sim"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            return out.stdout.strip().splitlines()[-1]

        url = f"http://127.0.0.1:{port}"
        return cls(proc, url, token("kiosk"), tmp, booking_token=token("booking"))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


class KioskApp:
    """Owns the Qt objects; device and network work go through `QtRunner` and the sync thread."""

    def __init__(
        self, api: ServerApi, settings: KioskSettings, urls: dict[str, str | None], voice: bool
    ) -> None:
        self.bridge = Bridge()
        self.window = KioskWindow(tap=lambda action, gen: self.core.flow.tap(action, gen))
        self.speaker = Speaker(enabled=voice)
        self.devices: KioskDevices = open_devices(
            urls.get("idcard"),
            urls.get("printer"),
            urls.get("camera"),
            on_card=lambda card: self.bridge.post(lambda: self.core.flow.card(card)),
            on_qr=lambda text: self.bridge.post(lambda: self.core.flow.qr(text)),
        )
        self.core = KioskCore(
            api,
            settings,
            printer=self.devices.printer,
            devices_health=self.devices.health,
            run=QtRunner(self.bridge).run,
            speak=self.speaker.say,
            on_change=self.window.show_screen,
        )
        self.touch = TouchFilter(lambda: self.core.flow.touch())
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self.touch)
        self.ticker = QTimer()
        self.ticker.timeout.connect(self.core.flow.tick)
        self.ticker.start(1000)
        self.refresher = QTimer()
        self.refresher.timeout.connect(self.core.flow.refresh)
        self.refresher.start(3000)

    def start(self) -> None:
        """First sync in a worker (the home screen shows at once), then the loop."""
        self.core.loop = None

        def first() -> None:
            self.core.syncer.step()

        QtRunner(self.bridge).run(
            first, lambda _: self._after_first_sync(), lambda err: self._after_first_sync()
        )

    def _after_first_sync(self) -> None:
        self.core.flow.refresh()
        from kiosk.core.sync import SyncLoop

        s = self.core.settings
        self.core.loop = SyncLoop(self.core.syncer, s.sync_interval_s, s.heartbeat_interval_s)
        self.core.loop.start()

    def simulation_keys(self, demo: DemoServer | None = None) -> None:
        """F1/F2 place a sample card, F3 paper out/ok, F4 QR of the last ticket, F5 check in
        with a booking's QR code (booked for the F1 citizen in today's next free slot)."""
        cards = sample_cards()

        def key(seq: str, fn: Any) -> None:
            shortcut = QShortcut(QKeySequence(seq), self.window)
            shortcut.activated.connect(fn)

        key("F1", lambda: self.devices.place_card(cards[0]))
        key("F2", lambda: self.devices.place_card(cards[1]))

        def paper() -> None:
            p = self.devices.printer
            state = getattr(p, "transport", None)
            current = getattr(state, "paper", "ok")
            setter = getattr(p, "set_paper", None)
            if setter:
                setter("out" if current == "ok" else "ok")

        key("F3", paper)

        def scan_last() -> None:
            ticket = self.core.flow.ctx.get("ticket")
            if ticket is not None:
                self.core.flow.tap("home")
                self.core.flow.tap("lookup")
                if not self.devices.show_qr(ticket.qr):
                    self.core.flow.qr(ticket.qr)

        key("F4", scan_last)

        booked: list[str] = []

        def book() -> str:
            if booked:
                return booked[0]  # the same booking again: shows the repeat check-in
            if demo is None or not demo.booking_token:
                raise RuntimeError("F5 needs the demo server (--simulate without --server)")
            import requests

            auth = {"Authorization": f"Bearer {demo.booking_token}"}
            day = self.core.state.snap.hall.business_day or self.core.state.business_day()
            slots = requests.get(
                f"{demo.url}/api/v1/appointments/slots",
                params={"service": "SW", "day": day},
                headers=auth,
                timeout=5,
            ).json()
            free = [s for s in slots if s.get("available")]
            if not free:
                raise RuntimeError(f"no free appointment slot for SW on {day}")
            r = requests.post(
                f"{demo.url}/api/v1/appointments",
                json={
                    "service": "SW",
                    "slot_start": free[0]["start"],
                    "id_number": cards[0].id_number,
                },
                headers=auth,
                timeout=5,
            )
            if r.status_code != 201:
                raise RuntimeError(f"booking refused: {r.text}")
            booked.append(str(r.json()["qr"]))
            return booked[0]

        def scan_booking(qr: str) -> None:
            self.core.flow.tap("home")
            self.core.flow.tap("checkin")
            if not self.devices.show_qr(qr):
                self.core.flow.qr(qr)

        key(
            "F5",
            lambda: QtRunner(self.bridge).run(
                book, scan_booking, lambda err: log.warning("F5: %s", err)
            ),
        )

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.touch)
        self.ticker.stop()
        self.refresher.stop()
        self.core.stop()
        self.devices.stop()
        self.speaker.close()


def fill_screen(window: QWidget) -> None:
    """Full screen with or without a window manager, in either orientation.

    `showFullScreen` alone only asks a window manager for full screen; on a bare X server
    (a kiosk box with no WM) the window keeps its default size in a corner. So the window
    also takes the screen's geometry itself, and follows it when the screen is rotated.
    """
    screen = window.screen() or QGuiApplication.primaryScreen()
    window.setWindowFlag(Qt.WindowType.FramelessWindowHint)
    window.setGeometry(screen.geometry())
    window.showFullScreen()

    def follow(rect: QRect) -> None:
        window.setGeometry(rect)

    screen.geometryChanged.connect(follow)


def run(args: Any) -> int:
    """`hall kiosk …`: see hallcli/kiosk.py for the flags."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    faulthandler.enable()  # a crash leaves its Python stack in the kiosk's log
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("hall-kiosk")
    if args.screenshots:
        from .screenshots import capture

        written = capture(Path(args.screenshots))
        print(f"wrote {len(written)} screenshots to {args.screenshots}")
        return 0
    demo: DemoServer | None = None
    server, token = args.server, args.token
    urls = {"idcard": args.idcard, "printer": args.printer, "camera": args.camera}
    if args.simulate:
        if not server:
            demo = DemoServer.start()
            server, token = demo.url, demo.token
            print(f"kiosk: demo server at {server}", flush=True)
        tickets = Path(tempfile.gettempdir()) / "hall-kiosk-tickets.bin"
        urls = {
            "idcard": args.idcard or "fake://",
            "printer": args.printer or f"file://{tickets}",
            "camera": args.camera or "fake://",
        }
        print(f"kiosk: printed tickets go to {urls['printer']}", flush=True)
    if not server or not token:
        print("hall kiosk: --server and --token are required (or use --simulate)", file=sys.stderr)
        return 2
    settings = KioskSettings(
        server=server,
        token=token,
        kiosk_id=args.kiosk_id,
        outbox_path=args.outbox
        or str(Path(tempfile.gettempdir()) / f"hall-{args.kiosk_id}-outbox.db"),
        offline_issue_minutes=args.offline_minutes,
    )
    kiosk = KioskApp(HttpApi(server, token), settings, urls, voice=not args.mute)
    if args.simulate:
        kiosk.simulation_keys(demo)
    if args.size:
        w, h = (int(v) for v in args.size.lower().split("x"))
        kiosk.window.resize(w, h)
        kiosk.window.show()
    else:
        fill_screen(kiosk.window)
    kiosk.start()
    from .testhook import install as install_testhook

    _hook = install_testhook(kiosk.window)  # None unless HALL_KIOSK_TESTHOOK is set (e2e tests)

    def stop_on(signum: int, _frame: Any) -> None:
        log.warning("stopping on %s", signal.Signals(signum).name)
        app.quit()

    signal.signal(signal.SIGINT, stop_on)
    signal.signal(signal.SIGTERM, stop_on)
    keep_python_awake = QTimer()  # lets Python see SIGINT while Qt's loop runs
    keep_python_awake.timeout.connect(lambda: None)
    keep_python_awake.start(250)
    if args.exit_after:
        QTimer.singleShot(int(args.exit_after * 1000), app.quit)
    try:
        return int(app.exec())
    finally:
        kiosk.stop()
        if demo:
            demo.stop()

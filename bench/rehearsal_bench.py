"""The rehearsal rig and its figures: the real kiosk process on a real X11 display (Xvfb, no
window manager), the real server, the ID card emulator on a pty and the printer as a file.

The rehearsal test (tests/e2e/test_rehearsal.py) plays a hall morning on this rig; this module
also measures, on the same rig, what a citizen and the hall feel:

- kiosk cold start: `hall kiosk` spawned → its first screen shown on the X display;
- tap → next screen: a tap (through the kiosk's test hook) → the next screen on display;
- the kiosk's resident memory after a few tickets;
- call → display: `POST /windows/1/call-next` → the number in the display page's DOM
  (headless Chromium at 1920×1080, the display's event stream).

    python -m bench.rehearsal_bench [--quick] [--write-docs]     (also `hall bench --rehearsal`)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.serverproc import HallServer

ROOT = Path(__file__).resolve().parent.parent
KIOSK_SIZE = (1080, 1920)
CHROMIUM = os.environ.get("HALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


def _die_with_parent() -> None:
    """In the child: SIGTERM when the parent dies, so no X server or kiosk outlives a run."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(proc: subprocess.Popen[Any] | None, wait: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Xvfb:
    """A virtual X server of the kiosk's size; `display` is ":N" once started."""

    def __init__(
        self, width: int = KIOSK_SIZE[0], height: int = KIOSK_SIZE[1], log: Path | None = None
    ) -> None:
        self.size = (width, height)
        self.proc: subprocess.Popen[bytes] | None = None
        self.display = ""
        self.log_path = log  # what the X server says (None: nowhere)

    def start(self, timeout: float = 15) -> Xvfb:
        exe = shutil.which("Xvfb")
        if exe is None:
            raise RuntimeError(
                "Xvfb not found: the rehearsal needs Debian's xvfb (run ./hall as root, or "
                "apt-get install xvfb)"
            )
        r, w = os.pipe()
        w_, h_ = self.size
        out = self.log_path.open("wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [exe, "-displayfd", str(w), "-screen", "0", f"{w_}x{h_}x24", "-nolisten", "tcp"],
            pass_fds=(w,),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        os.close(w)
        if self.log_path:
            out.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        got = b""
        try:
            while time.monotonic() < deadline and not got.endswith(b"\n"):
                import select

                ready, _, _ = select.select([r], [], [], 0.2)
                if ready:
                    chunk = os.read(r, 16)
                    if not chunk:
                        break
                    got += chunk
                elif self.proc.poll() is not None:
                    break
        finally:
            os.close(r)
        if not got.strip():
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{got.decode().strip()}"
        return self

    def stop(self) -> None:
        _stop(self.proc)


class KioskProcess:
    """`hall kiosk` as its own process on `display`, full screen, with the test hook on."""

    def __init__(
        self,
        workdir: Path,
        display: str,
        server: str,
        token: str,
        idcard: str | None,
        printer_file: Path,
    ) -> None:
        self.workdir = workdir
        self.hook_path = str(workdir / "kiosk-hook.sock")
        self.printer_file = printer_file
        self.log_path = workdir / "kiosk.log"
        self.cmd = [
            sys.executable, "-m", "hallcli.main", "kiosk", "--server", server, "--token", token,
            "--printer", f"file://{printer_file}", "--mute", "--kiosk-id", "rehearsal",
            "--outbox", str(workdir / "kiosk-outbox.db"),
        ]  # fmt: skip
        if idcard:
            self.cmd += ["--idcard", idcard]
        self.env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONUNBUFFERED="1")
        self.env["HALL_KIOSK_TESTHOOK"] = self.hook_path
        self.env.pop("WAYLAND_DISPLAY", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.hook: Any = None
        self.started_at = 0.0

    def start(self, timeout: float = 60) -> float:
        """Spawn and wait for the first screen shown; returns the seconds that took."""
        self.spawn()
        return self.ready(timeout)

    def spawn(self) -> None:
        try:
            os.unlink(self.hook_path)
        except OSError:
            pass
        log = self.log_path.open("wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )

    def ready(self, timeout: float = 60) -> float:
        """Wait for the test hook and the first screen shown: seconds since the spawn."""
        from kiosk.ui.testhook import HookClient

        assert self.proc is not None
        deadline = self.started_at + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the kiosk exited ({self.proc.returncode}):\n{self.log_tail()}")
            if os.path.exists(self.hook_path):
                try:
                    self.hook = HookClient(self.hook_path)
                    break
                except OSError:
                    pass
            time.sleep(0.01)
        else:
            raise RuntimeError(f"the kiosk's test hook never listened:\n{self.log_tail()}")
        self.wait(
            lambda s: s["visible"] and s["screen"] == "home", timeout=deadline - time.monotonic()
        )
        return time.monotonic() - self.started_at

    def ask(self, **req: Any) -> dict[str, Any]:
        """One test-hook request; if the kiosk has gone, say how it ended and what it logged."""
        try:
            return dict(self.hook.ask(**req))
        except (ConnectionError, OSError) as exc:
            try:
                code = self.proc.wait(5) if self.proc is not None else None
            except subprocess.TimeoutExpired:
                code = None  # still running: the hook itself broke
            raise ConnectionError(
                f"{exc} (exit code {code}); the kiosk's last lines:\n{self.log_tail(60)}"
            ) from exc

    def state(self) -> dict[str, Any]:
        return self.ask(cmd="state")

    def wait(
        self, ok: Callable[[dict[str, Any]], bool], timeout: float = 15, what: str = ""
    ) -> dict[str, Any]:
        deadline = time.monotonic() + max(timeout, 0.1)
        s: dict[str, Any] = {}
        while time.monotonic() < deadline:
            s = self.state()
            if ok(s):
                return s
            time.sleep(0.01)
        raise AssertionError(f"kiosk: timed out waiting for {what or 'a screen'}; it shows {s}")

    def tap(self, text: str = "", name: str = "") -> dict[str, Any]:
        r = self.ask(cmd="tap", text=text, name=name)
        if not r.get("ok"):
            raise AssertionError(f"kiosk tap failed: {r}; screen {self.state()}")
        return r

    def tap_to(self, text: str, screen: str, timeout: float = 15) -> dict[str, Any]:
        """Tap and wait for the named screen."""
        self.tap(text)
        return self.wait(lambda s: s["screen"] == screen, timeout, f"screen {screen!r}")

    def services_shown(self, name: str = "税务业务", timeout: float = 30) -> dict[str, Any]:
        """Wait for the first sync: the home screen with the hall's service tiles."""
        return self.wait(
            lambda s: s["screen"] == "home" and any(name in b["text"] for b in s["buttons"]),
            timeout,
            f"home with the {name} tile",
        )

    def timed_tap(self, text: str, screen: str) -> float:
        """Seconds from a tap to the next screen (a new generation) named `screen` shown."""
        gen = self.state()["gen"]
        t0 = time.monotonic()
        self.tap(text)
        self.wait(lambda s: s["screen"] == screen and s["gen"] != gen, what=screen)
        return time.monotonic() - t0

    def grab(self, path: Path) -> bool:
        return bool(self.ask(cmd="grab", path=str(path)).get("ok"))

    def rss_mb(self) -> float:
        import psutil

        assert self.proc is not None
        return float(psutil.Process(self.proc.pid).memory_info().rss) / 2**20

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.hook is not None:
            try:
                self.hook.close()
            except OSError:
                pass
            self.hook = None
        _stop(self.proc)


class PrintedTickets:
    """The file printer's output, cut by cut: `next_ticket()` decodes the bytes of one ticket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def next_ticket(self, timeout: float = 15) -> Any:
        from drivers.printer import decode

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.path.read_bytes()[self.offset :] if self.path.exists() else b""
            try:
                decoded = decode(data) if data else None
            except Exception:  # bytes still arriving, cut mid-command: look again
                decoded = None
            if decoded is not None and decoded.cuts:
                time.sleep(0.05)  # a cut is the last command of a ticket
                data = self.path.read_bytes()[self.offset :]
                self.offset += len(data)
                return decode(data)
            time.sleep(0.02)
        raise AssertionError(f"no whole ticket printed to {self.path} within {timeout} s")


class Server(HallServer):
    """`hall server` on a fresh database with the demo hall and its demo accounts."""

    def __init__(self, workdir: Path) -> None:
        from hallcli.demo import seed

        super().__init__(workdir / "hall.db")
        self.tokens = seed(self.db)
        self.start()


# -- the figures ------------------------------------------------------------------------------
def _median_ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} ms" if xs else "—"


def _range_ms(xs: list[float]) -> str:
    return f"{min(xs) * 1000:.0f}–{max(xs) * 1000:.0f} ms" if xs else "—"


def measure(quick: bool = False, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Cold starts, taps, RSS and call → display on the rehearsal rig."""
    from drivers.idcard import IdCardEmulator

    runs = 2 if quick else 5
    work = Path(tempfile.mkdtemp(prefix="hall-rehearsal-bench-"))
    figures: dict[str, Any] = {"cold": [], "tap": [], "issue": [], "rss": [], "call": []}
    x = Xvfb().start()
    server = Server(work)
    tokens = server.tokens
    emu = IdCardEmulator(transport="pty", place_first=False).start()
    try:
        for i in range(runs):
            k = KioskProcess(work, x.display, server.url, tokens["kiosk"], emu.url, work / "p.bin")
            try:
                figures["cold"].append(k.start())
                log(f"cold start {i + 1}/{runs}: {figures['cold'][-1] * 1000:.0f} ms")
                if i == 0:
                    figures["window"] = k.services_shown()["window"]
                    for _ in range(2 if quick else 5):
                        for text, screen in (
                            ("办事指南", "guide_list"),
                            ("返回", "home"),
                            ("税务业务", "ticket"),
                            ("完成", "home"),
                        ):
                            key = "issue" if screen == "ticket" else "tap"
                            figures[key].append(k.timed_tap(text, screen))
                    figures["rss"].append(k.rss_mb())
            finally:
                k.stop()
        figures["call"] = _call_to_display(server, tokens, runs * 2)
        log(f"call → display: {_median_ms(figures['call'])}")
    finally:
        emu.stop()
        server.stop()
        x.stop()
        shutil.rmtree(work, ignore_errors=True)
    return figures


def _call_to_display(server: Any, tokens: dict[str, str], n: int) -> list[float]:
    import httpx
    from playwright.sync_api import sync_playwright

    api = f"{server.url}/api/v1"
    with httpx.Client(timeout=10) as c:
        login = c.post(
            f"{api}/login", json={"username": "staff11", "password": "Staff1234", "window": 11}
        )
        staff = {"Authorization": f"Bearer {login.json()['token']}"}
        kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
        for _ in range(n):
            c.post(f"{api}/tickets", json={"service": "SW"}, headers=kiosk).raise_for_status()
        times: list[float] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{server.url}/display?access_token={tokens['display']}&voice=off")
            page.wait_for_function("() => document.querySelectorAll('.wcell').length > 0")
            page.wait_for_timeout(500)
            for _ in range(n):
                t0 = time.monotonic()
                r = c.post(f"{api}/windows/11/call-next", headers=staff)
                number = r.json()["number"]
                page.wait_for_function(
                    "n => document.querySelector('.wcell[data-window=\"11\"] .cur')"
                    ".textContent === n",
                    arg=number,
                    polling="raf",
                )
                times.append(time.monotonic() - t0)
                page.wait_for_timeout(200)
            browser.close()
    return times


def _window_note(window: list[int] | None) -> str:
    if not window:
        return ""
    w, h = window[2], window[3]
    if (w, h) == KIOSK_SIZE:
        return f"The kiosk window filled the {w}×{h} display."
    return (
        f"**The kiosk window was {w}×{h}, not the full {KIOSK_SIZE[0]}×{KIOSK_SIZE[1]} display** "
        "(full screen without a window manager was broken at this commit): screens painted at "
        "full size cost more, so rerun these figures once the kiosk fills its screen."
    )


def markdown(f: dict[str, Any], quick: bool, m: Any) -> str:
    return f"""## Rehearsal rig: kiosk on X11, call → display

Measured {m.started:%Y-%m-%d %H:%M} UTC at commit {m.commit} by `python -m bench.rehearsal_bench
--write-docs` (also `hall bench --rehearsal`){" (--quick)" if quick else ""}.
Machine: {m.line()}

The rig the rehearsal test plays a hall morning on: the real `hall kiosk` process on Xvfb
(1080×1920, no window manager, Qt's xcb platform), the real server on a fresh demo database,
the ID card emulator on a pty and the printer writing to a file; the display page in headless
Chromium at 1920×1080. Cold start is `hall kiosk` spawned → the home screen shown (seen through
the kiosk's test hook, `HALL_KIOSK_TESTHOOK`); tap → next screen is a tap through the hook →
the next screen built and shown (办事指南, 返回, 完成); tap → ticket adds the issue over HTTP
and the print to the file (税务业务, no card); RSS is the kiosk process after those rounds;
call → display is `POST /windows/11/call-next` → the number in window 11's cell of the display
DOM. Screens are seen by polling the hook every 10 ms (included in the tap figures). Medians
of several runs on a shared machine: read them as orders of magnitude.
{_window_note(f.get("window"))}

| figure | median | range |
|---|---|---|
| kiosk cold start → home screen (n={len(f["cold"])}) | {_median_ms(f["cold"])} | {_range_ms(f["cold"])} |
| kiosk tap → next screen (n={len(f["tap"])}) | {_median_ms(f["tap"])} | {_range_ms(f["tap"])} |
| kiosk tap → ticket screen, issued over HTTP and printed (n={len(f["issue"])}) | {_median_ms(f["issue"])} | {_range_ms(f["issue"])} |
| kiosk RSS after {len(f["issue"])} tickets and {len(f["tap"]) // 3} guide visits | {statistics.median(f["rss"]) if f["rss"] else 0:.0f} MiB | |
| call-next → display DOM (n={len(f["call"])}) | {_median_ms(f["call"])} | {_range_ms(f["call"])} |
"""


def run(quick: bool = False, write_docs: bool = False) -> None:
    from bench.report import RunContext, write_section

    ctx = RunContext(Path(tempfile.gettempdir()))
    figures = measure(quick, log=lambda s: print(f"[rehearsal] {s}", file=sys.stderr, flush=True))
    text = markdown(figures, quick, ctx.finish())
    print(text)
    print(json.dumps({k: [round(v, 4) for v in vs] for k, vs in figures.items() if vs}))
    if write_docs:
        write_section("rehearsal", text)
        print("wrote docs/BENCHMARKS.md (rehearsal)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args(argv)
    run(args.quick, args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

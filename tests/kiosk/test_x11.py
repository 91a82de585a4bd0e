"""The kiosk as its own process on a real X server with no window manager (Xvfb), as on a
plain Debian kiosk box: Qt's xcb plugin loads, and the window fills the screen in portrait
and in landscape."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e

WINDOW = re.compile(
    r"^\s*(0x[0-9a-f]+) .*\(\"[^\"]*\" \"hall-kiosk\"\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)"
)


def need(tool: str) -> str:
    """The tool's path; skipped without it, unless root (`./hall` installs it as root)."""
    path = shutil.which(tool)
    if path is None:
        if os.geteuid() == 0:
            pytest.fail(f"{tool} is missing: run ./hall as root to install the Debian packages")
        pytest.skip(f"{tool} is not installed (./hall installs it when run as root)")
    return path


def xvfb(width: int, height: int) -> Iterator[str]:
    read, write = os.pipe()
    proc = subprocess.Popen(
        [need("Xvfb"), "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)


def kiosk_windows(display: str) -> list[tuple[str, int, int, int, int]]:
    out = subprocess.run(
        [need("xwininfo"), "-root", "-tree", "-display", display],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = []
    for line in out.splitlines():
        m = WINDOW.match(line)
        if m:
            wid, w, h, x, y = m.groups()
            found.append((wid, int(w), int(h), int(x), int(y)))
    return found


def viewable(display: str, wid: str) -> bool:
    out = subprocess.run(
        [need("xwininfo"), "-id", wid, "-display", display], capture_output=True, text=True
    ).stdout
    return "IsViewable" in out


@pytest.mark.parametrize(("width", "height"), [(1080, 1920), (1920, 1080)])
def test_the_kiosk_fills_a_bare_x_screen(width: int, height: int, tmp_path: Path) -> None:
    need("xwininfo")
    for display in xvfb(width, height):
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, QT_DEBUG_PLUGINS="1")
        log = tmp_path / "kiosk.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hallcli.main", "kiosk", "--server", "http://127.0.0.1:9",
                 "--token", "t", "--idcard", "fake://", "--printer", "fake://", "--camera",
                 "fake://", "--mute", "--outbox", str(tmp_path / "outbox.db")],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            seen: list[tuple[str, int, int, int, int]] = []
            # Waits for the window to be mapped (not a timing assertion: the limit only stops
            # a kiosk that never shows one). The kiosk sets its size before it maps it.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and proc.poll() is None and not seen:
                seen = [w for w in kiosk_windows(display) if viewable(display, w[0])]
                time.sleep(0.5)
            text = log.read_text(errors="replace")
            assert proc.poll() is None, f"the kiosk exited:\n{text[-3000:]}"
            assert seen, f"no kiosk window on {display}:\n{text[-3000:]}"
            assert seen[0][1:] == (width, height, 0, 0), (seen, text[-2000:])
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

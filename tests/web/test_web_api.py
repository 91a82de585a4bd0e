"""The endpoints the pages add (voice, on-duty staff, today's counts) and the page routes."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.web.conftest import LiveServer


def test_pages_and_their_files_are_served(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as c:
        for path in ("/staff", "/display", "/evaluator?window=1"):
            r = c.get(path)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        for name in ("common.js", "staff.js", "display.js", "evaluator.js", "display.css"):
            assert c.get(f"/web/{name}").status_code == 200, name
        assert c.get("/web/nope.js").status_code == 404


def test_announcement_audio(live_server: LiveServer, tmp_path: Path) -> None:
    with live_server.api(live_server.tokens["display"]) as c:
        r = c.get("/voice/announce", params={"number": "A023", "window": 3})
        assert r.status_code == 200
        assert r.headers["content-type"] == "audio/wav"
        wav = tmp_path / "a023.wav"
        wav.write_bytes(r.content)
        seconds = float(
            subprocess.run(
                ["soxi", "-D", str(wav)], capture_output=True, text=True, check=True
            ).stdout
        )
        assert 6.0 <= seconds <= 12.0
        plan = c.get("/voice/plan", params={"number": "A023", "window": 3}).json()
        assert plan["text"] == "请A零二三号到三号窗口办理"
        assert plan["clips"][1:5] == ["letter-A", "digit-0", "digit-2", "digit-3"]
        assert c.get("/voice/announce", params={"number": "A0;23", "window": 3}).status_code == 422
    with live_server.api() as anon:
        assert (
            anon.get("/voice/announce", params={"number": "A023", "window": 3}).status_code == 401
        )


def test_on_duty_staff_follows_login_and_logout(live_server: LiveServer) -> None:
    token = live_server.login("staff02")
    with live_server.api(live_server.tokens["evaluator"]) as ev:
        staff = ev.get("/windows/2/staff").json()
        assert staff == {"name": "李强", "staff_no": "GZ0102", "initial": "李", "logged_in": True}
        with live_server.api(token) as st:
            assert st.post("/logout").status_code == 200
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            after = ev.get("/windows/2/staff").json()
            if after is None or not after["logged_in"]:
                break
            time.sleep(0.1)
        assert after is None or not after["logged_in"]
        assert ev.get("/windows/99/staff").status_code == 404


def test_today_counts_for_a_window(live_server: LiveServer) -> None:
    live_server.issue("SW")
    token = live_server.login("staff11")
    with live_server.api(token) as c:
        before = c.get("/windows/11/today").json()
        t = c.post("/windows/11/call-next").json()
        c.post(f"/tickets/{t['id']}/finish").raise_for_status()
        after = c.get("/windows/11/today").json()
        assert after["done"] == before["done"] + 1
        assert after["called"] == before["called"] + 1
        assert after["avg_service_min"] is not None
        assert after["staff"] == "刘洋"  # a staff member's own work
        assert c.get("/windows/12/today").status_code == 403  # another window's figures
    with live_server.api(live_server.login("admin", "Admin1234")) as admin:
        whole = admin.get("/windows/11/today").json()
        assert whole["staff"] is None and whole["done"] >= after["done"]


def test_event_stream_resumes_from_a_query_parameter(live_server: LiveServer) -> None:
    """A page that opens a new EventSource (which cannot set Last-Event-ID) passes
    ?last_event_id= and gets the events it missed."""
    first = live_server.issue("SW")
    second = live_server.issue("SW")
    url = f"{live_server.url}/api/v1/events"
    params = {"access_token": live_server.tokens["display"], "last_event_id": "0"}
    numbers: list[str] = []
    with httpx.stream("GET", url, params=params, timeout=5) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data:") and '"number"' in line:
                numbers.append(line.split('"number":"', 1)[1].split('"', 1)[0])
            if second["number"] in numbers:
                break
    assert first["number"] in numbers and second["number"] in numbers

"""The rehearsal: a hall morning played through the real parts together.

The real server on a fresh demo database; the real kiosk process on a real X11 display (Xvfb,
1080×1920, no window manager) with the ID card emulator on a pty and the printer writing to a
file; headless Chromium with the hall display (1920×1080), two staff consoles (1366×768) and
window 1's evaluator tablet (800×1280). Citizens take ordinary, elderly (by ID card) and
real-name tickets at the kiosk; windows 1 and 11 call, recall, skip, transfer, pause and
finish; a citizen rates at the tablet. Each step checks what every screen involved shows (DOM
text of the pages, the kiosk's widget texts through its test hook), the decoded bytes of each
printed ticket and the text of each spoken call.

What a first-day defect breaks is collected as a named finding (`Findings.expect`) so the rest
of the morning still runs and the failure lists every defect at once; everything else is a
plain assert. Screenshots of every step: test-artifacts/rehearsal/ (printed at the start).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.rehearsal_bench import (
    CHROMIUM,
    CHROMIUM_ARGS,
    KioskProcess,
    PrintedTickets,
    Server,
    Xvfb,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "rehearsal"
NUMBER = re.compile(r"^[A-Z]\d{3}$")
DIGITS = "零一二三四五六七八九"
T0 = time.monotonic()


def id_number(birth: date, seq: int, region: str = "440203") -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(a) * w for a, w in zip(body, weights, strict=True)) % 11]


def spoken_call(number: str, window: int) -> str:
    """The call phrase as docs/VOICE.md states it: 请 A 零 零 二 号 到 十一 号窗口 办理."""
    digits = "".join(DIGITS[int(c)] if c.isdigit() else c for c in number)
    tens, ones = divmod(window, 10)
    win = (
        ("" if tens <= 1 else DIGITS[tens])
        + ("十" if tens else "")
        + (DIGITS[ones] if ones else "")
    )
    return f"请{digits}号到{win}号窗口办理"


# Labels whose text runs over more lines than it has characters / 2 (e.g. 非常满意 one
# character per line), as [label, lines].
WRAPPED_LABELS = """sel => [...document.querySelectorAll(sel)].map(b => {
  const r = document.createRange(); r.selectNodeContents(b);
  const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
  const label = b.textContent.trim();
  return [label, tops.size, label.length];
}).filter(([, lines, n]) => lines > Math.max(1, Math.ceil(n / 2))).map(([l, lines]) => [l, lines])"""


@dataclass
class Findings:
    """Assertions about the first-day defects: each failure is recorded under its name."""

    failed: dict[str, list[str]] = field(default_factory=dict)

    def expect(self, ok: bool, defect: str, detail: str) -> None:
        if not ok:
            self.failed.setdefault(defect, []).append(detail)
            print(f"DEFECT [{defect}]: {detail}")

    def report(self) -> str:
        return "\n".join(
            f"- {name}:\n    " + "\n    ".join(details) for name, details in self.failed.items()
        )


@dataclass
class Hall:
    work: Path
    x: Xvfb
    server: Server
    kiosk: KioskProcess
    emu: Any
    printed: PrintedTickets
    browser: Any
    pages: dict[str, Any] = field(default_factory=dict)
    voice_urls: list[str] = field(default_factory=list)
    step_no: int = 0

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.server.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def shot(self, name: str, *surfaces: str) -> None:
        """Screenshots of this step: the kiosk's X screen and the named pages."""
        self.step_no += 1
        t0 = time.monotonic()
        base = f"{self.step_no:02d}-{name}"
        for s in surfaces:
            if s == "kiosk":
                assert self.kiosk.grab(ARTIFACTS / f"{base}-kiosk.png")  # the whole X screen
            else:
                self.pages[s].screenshot(path=str(ARTIFACTS / f"{base}-{s}.png"))
        took = time.monotonic() - t0
        print(f"{time.monotonic() - T0:6.1f} s  step {self.step_no} {name} (shots {took:.1f} s)")


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    from playwright.sync_api import sync_playwright

    from drivers.idcard import IdCardEmulator

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM} (./hall installs it as root)", pytrace=False)
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb not found: ./hall installs xvfb as root", pytrace=False)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    print(f"rehearsal screenshots: {ARTIFACTS}")
    work = tmp_path_factory.mktemp("rehearsal")
    x = Xvfb(log=work / "xvfb.log").start()
    server = Server(work)
    emu = IdCardEmulator(transport="pty", place_first=False).start()
    out = work / "tickets.bin"
    kiosk = KioskProcess(work, x.display, server.url, server.tokens["kiosk"], emu.url, out)
    try:
        kiosk.spawn()  # it starts while Chromium does
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            kiosk.ready()
            try:
                yield Hall(work, x, server, kiosk, emu, PrintedTickets(out), browser)
            finally:
                browser.close()
    finally:
        for name, proc, log in (
            ("kiosk", kiosk.proc, kiosk.log_path),
            ("Xvfb", x.proc, x.log_path),
        ):
            if proc is not None and proc.poll() is not None:  # it ended before the teardown
                tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
                print(f"{name} had exited with code {proc.returncode}; it said:\n{tail}")
        t0 = time.monotonic()
        kiosk.stop()
        emu.stop()
        t1 = time.monotonic()
        server.stop()
        x.stop()
        print(f"teardown: kiosk {t1 - t0:.1f} s, server and X {time.monotonic() - t1:.1f} s")


# -- helpers ----------------------------------------------------------------------------------
def text(page: Any, sel: str) -> str:
    return str(page.inner_text(sel)).strip()


def wait_text(page: Any, sel: str, value: str, timeout: float = 8000) -> None:
    page.wait_for_function(
        "([s, v]) => { const e = document.querySelector(s); return e && e.textContent.trim() === v; }",
        arg=[sel, value],
        timeout=timeout,
    )


def press(page: Any, key: str) -> None:
    page.wait_for_function("() => !window.__staff.state.busy")
    page.keyboard.press(key)


def staff_login(hall: Hall, username: str, window: int) -> Any:
    page = hall.browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(f"{hall.server.url}/staff")
    page.fill("#username", username)
    page.fill("#password", "Staff1234")
    page.fill("#login-window", str(window))
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#console:not([hidden])")
    page.wait_for_function("() => document.querySelector('#offline').hidden")
    return page


def kiosk_number(state: dict[str, Any]) -> str:
    found = [t for t in state["texts"] if NUMBER.match(t.strip())]
    assert len(found) == 1, state["texts"]
    return str(found[0].strip())


def all_text(state: dict[str, Any]) -> str:
    return "\n".join(state["texts"] + [b["text"] for b in state["buttons"]])


def printed_text(decoded: Any) -> str:
    return "\n".join(line.text for line in decoded.lines)


def take_ticket(
    hall: Hall, f: Findings, service_name: str, card: Any = None, name: str = ""
) -> tuple[str, dict[str, Any], Any]:
    """Tap the service on the kiosk (and place the card when asked): the number, the kiosk's
    ticket screen and the decoded printed ticket."""
    k = hall.kiosk
    home = k.wait(lambda s: s["screen"] == "home", what="home")
    tile = next(b for b in home["buttons"] if service_name in b["text"])
    assert tile["enabled"], tile
    if card is not None:
        swipe = k.tap_to(service_name, "swipe")
        assert service_name in all_text(swipe), swipe["texts"]
        assert "身份证" in all_text(swipe), swipe["texts"]
        hall.shot(f"{name}-swipe", "kiosk")
        hall.emu.place(card)
        screen = k.wait(lambda s: s["screen"] == "ticket", what="the ticket after the card")
        hall.emu.remove()
    else:
        screen = k.tap_to(service_name, "ticket")
    number = kiosk_number(screen)
    shown = all_text(screen)
    assert service_name in shown, screen["texts"]
    printed = hall.printed.next_ticket()
    paper = printed_text(printed)
    assert any(number in line.text for line in printed.lines), paper
    big = [line for line in printed.lines if number in line.text]
    assert max(line.width for line in big) >= 2, "the number is printed enlarged"
    assert service_name in paper, paper
    assert printed.cuts == 1 and len(printed.qr) == 1, (printed.cuts, printed.qr)
    assert printed.qr[0].startswith("http"), printed.qr
    if card is not None:
        assert card.id_number not in paper and card.id_number not in shown
        assert card.name not in paper and card.name not in shown
        assert card.masked_name in paper, paper
    hall.shot(f"{name}-ticket-{number}", "kiosk")
    return number, screen, printed


def called_voice(hall: Hall, number: str, window: int, times: int = 1) -> None:
    """The display queued the spoken call `times` times, its text is the call phrase, and (for
    the first) it fetched the audio of exactly that call."""
    display = hall.pages["display"]
    display.wait_for_function(
        "([n, w, k]) => window.__hall.announced.filter(a => a.number === n && a.window === w)"
        ".length >= k",
        arg=[number, window, times],
        timeout=8000,
    )
    with hall.api(hall.server.tokens["display"]) as api:
        plan = api.get("/voice/plan", params={"number": number, "window": window}).json()
    assert plan["text"] == spoken_call(number, window), plan
    if times > 1 or hall.voice_urls:
        return  # the audio of the first call is checked below; later ones queue behind it

    def mine() -> list[str]:
        return [
            u
            for u in hall.voice_urls
            if parse_qs(urlparse(u).query).get("number") == [number]
            and parse_qs(urlparse(u).query).get("window") == [str(window)]
        ]

    deadline = time.monotonic() + 30  # the calls before it are spoken first, whole
    while not mine() and time.monotonic() < deadline:
        display.wait_for_timeout(100)
    assert mine(), (number, window, hall.voice_urls)
    url = urlparse(mine()[0])
    audio = httpx.get(f"{hall.server.url}{url.path}?{url.query}", timeout=20)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF", audio.status_code


def display_shows_call(hall: Hall, number: str, window: int) -> None:
    display = hall.pages["display"]
    wait_text(display, "#latest-number", number)
    assert text(display, "#latest-window") == str(window)
    wait_text(display, f'.wcell[data-window="{window}"] .cur', number)


def display_panel_idle(hall: Hall, f: Findings, gone: str, why: str) -> None:
    """After `why`, the big 当前叫号 panel must not send anyone to the wrong window."""
    display = hall.pages["display"]
    display.wait_for_timeout(300)  # its window cell has changed already: the same event
    panel = text(display, "section.latest, #latest")
    f.expect(
        gone not in panel.split("最近叫号")[0],
        "display panel shows a stale call",
        f"after {why} of {gone}, the 当前叫号 panel still shows: {panel[:80]!r}",
    )


# -- the morning ------------------------------------------------------------------------------
def test_a_hall_morning(hall: Hall) -> None:
    f = Findings()
    k = hall.kiosk
    srv = hall.server
    today = date.today()

    # 08:59 — the kiosk is up on its own screen, before anyone touches it.
    home = k.services_shown()  # the first sync has brought the hall's services
    assert home["display"] == [0, 0, 1080, 1920], home["display"]
    f.expect(
        home["window"][2:] == [1080, 1920] and home["window"][:2] == [0, 0],
        "kiosk does not fill the screen without a window manager",
        f"window geometry {home['window']} on a 1080×1920 display",
    )
    shown = all_text(home)
    assert "武江区政务服务中心" in shown
    for service in ("户籍业务", "税务业务", "社保业务", "医保业务"):
        assert any(service in b["text"] for b in home["buttons"]), service
    hall.shot("kiosk-home", "kiosk")

    # The pages come up: display, staff at windows 1 and 11, window 1's evaluator tablet.
    dctx = hall.browser.new_context(viewport={"width": 1920, "height": 1080})
    display = dctx.new_page()
    display.on(
        "request",
        lambda r: hall.voice_urls.append(r.url) if "/voice/announce" in r.url else None,
    )
    display.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
    display.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")
    hall.pages["display"] = display
    panel = text(display, "section.latest, #latest")
    f.expect(
        "—" not in panel.split("最近叫号")[0],
        "display shows a placeholder call before any call",
        f"with no call yet the 当前叫号 panel reads {panel[:60]!r}",
    )
    f.expect(
        not display.is_visible("#sound-prompt") or "docs" not in text(display, "#sound-prompt"),
        "developer text on the public display",
        text(display, "#sound-prompt") if display.is_visible("#sound-prompt") else "",
    )
    hall.pages["staff1"] = staff1 = staff_login(hall, "staff01", 1)
    hall.pages["staff11"] = staff11 = staff_login(hall, "staff11", 11)
    ectx = hall.browser.new_context(viewport={"width": 800, "height": 1280})
    evaluator = ectx.new_page()
    evaluator.goto(f"{srv.url}/evaluator?window=1&access_token={srv.tokens['evaluator']}")
    wait_text(evaluator, "#staff-name", "王芳")
    hall.pages["evaluator"] = evaluator
    hall.shot("open", "display", "staff1", "staff11", "evaluator")
    # Only windows 1 and 11 have someone logged in: only they are serving.
    admin = srv_login(hall, "admin", "Admin1234")
    with hall.api(admin) as api:
        floor = api.get("/admin/floor").json()
    serving = {s["code"]: s.get("open_windows") for s in floor["services"]}
    f.expect(
        serving["SW"] == [11] and serving["HJ"] == [1] and not serving["BDC"],
        "windows nobody is logged in to count as serving",
        f"open windows per service on the floor: SW {serving['SW']}, HJ {serving['HJ']}, "
        f"BDC {serving['BDC']}",
    )

    # 09:00 — citizens at the kiosk.
    # An ordinary tax ticket, no card: nothing on screen or paper may say 优先.
    d1, screen, paper = take_ticket(hall, f, "税务业务", name="ordinary")
    # 税务业务's prefix; the kiosk's offline number leases take the first numbers of each service
    assert d1.startswith("D"), d1
    f.expect(
        "优先" not in all_text(screen),
        "ordinary ticket labelled 优先",
        f"kiosk ticket screen for {d1}: {[t for t in screen['texts'] if '优先' in t]}",
    )
    f.expect(
        "优先" not in printed_text(paper),
        "ordinary ticket labelled 优先",
        f"printed ticket {d1}: {[ln.text for ln in paper.lines if '优先' in ln.text]}",
    )
    k.tap_to("完成", "home")

    # A real-name household ticket (李四, 41): ordinary, name masked on screen and paper.
    from drivers.idcard.samples import LI_SI, OUYANG_NANA, WANG_WU_ELDERLY, ZHANG_SAN

    a1, screen, paper = take_ticket(hall, f, "户籍业务", card=LI_SI, name="realname")
    assert a1.startswith("A"), a1
    f.expect(
        "优先" not in all_text(screen) + printed_text(paper),
        "ordinary ticket labelled 优先",
        f"real-name ordinary ticket {a1} says 优先",
    )
    k.tap_to("完成", "home")

    # An elderly citizen (61 today) with his ID card: the kiosk gives elderly priority.
    birth = date(today.year - 61, 1, 15)
    elder = replace(WANG_WU_ELDERLY, birth=birth, id_number=id_number(birth, 35))
    a2, screen, paper = take_ticket(hall, f, "户籍业务", card=elder, name="elderly")
    assert a2.startswith("A") and a2 > a1, (a1, a2)
    assert "老年" in all_text(screen) and "优先" in all_text(screen), screen["texts"]
    assert "老年" in printed_text(paper), printed_text(paper)
    k.tap_to("完成", "home")

    # Two more real-name tickets: social insurance (张三) and medical insurance (欧阳娜娜).
    b1, _, _ = take_ticket(hall, f, "社保业务", card=ZHANG_SAN, name="realname-sb")
    k.tap_to("完成", "home")
    c1, _, _ = take_ticket(hall, f, "医保业务", card=OUYANG_NANA, name="realname-yb")
    k.tap_to("完成", "home")
    assert b1.startswith("B") and c1.startswith("C"), (b1, c1)
    # The kiosk's home screen counts them (refreshed from the server every few seconds).
    k.wait(
        lambda s: any("户籍业务" in b["text"] and "等候 2 人" in b["text"] for b in s["buttons"]),
        timeout=12,
        what="户籍业务 tile with 2 waiting",
    )
    hall.shot("kiosk-home-after-five", "kiosk")
    # 张三 asks the kiosk where he stands: his card finds his waiting ticket.
    k.tap_to("查询", "lookup")
    hall.emu.place(ZHANG_SAN)
    found = k.wait(lambda s: s["screen"] == "lookup_result", what="the lookup result")
    hall.emu.remove()
    mine = [b["text"] for b in found["buttons"] if b1 in b["text"]]
    assert mine and "等候中" in mine[0] and "社保业务" in mine[0], found
    hall.shot("kiosk-lookup", "kiosk")
    k.tap_to("返回首页", "home")

    # 09:05 — window 1's waiting list, in the order the window will call.
    staff1.wait_for_function("() => document.querySelectorAll('#queue li b').length === 4")
    listed = staff1.locator("#queue li b").all_inner_texts()
    assert sorted(listed) == sorted([a1, a2, b1, c1]), listed
    hall.shot("staff1-queue", "staff1")

    # F1: the elderly citizen first, on the staff screen, the display and in the voice.
    press(staff1, "F1")
    staff1.wait_for_function("() => document.querySelector('#cur-number').textContent !== '—'")
    first = text(staff1, "#cur-number")
    assert first == a2, (first, listed)
    f.expect(
        listed[0] == first,
        "staff waiting list not in call order",
        f"list {listed} but F1 called {first}",
    )
    assert "老年" in text(staff1, "#cur-extra")
    display_shows_call(hall, a2, 1)
    called_voice(hall, a2, 1)
    hall.shot(f"call-{a2}", "staff1", "display")

    # F2 recall: said again.
    press(staff1, "F2")
    staff1.wait_for_function("() => document.querySelector('#toast').textContent.includes('重呼')")
    called_voice(hall, a2, 1, times=2)
    display_shows_call(hall, a2, 1)
    hall.shot(f"recall-{a2}", "staff1", "display")

    # F4 办结: the tablet asks this citizen to rate; a 非常满意 is filed by the tablet.
    press(staff1, "F4")
    evaluator.wait_for_selector("#screen-rate:not([hidden])", timeout=5000)
    assert text(evaluator, "#rate-number") == a2
    labels = evaluator.locator("#levels button").all_inner_texts()
    assert [x.replace("\n", "") for x in labels] == [
        "非常满意", "满意", "基本满意", "不满意", "非常不满意",
    ]  # fmt: skip
    wrapped = evaluator.evaluate(WRAPPED_LABELS, "#levels button")
    f.expect(
        not wrapped,
        "evaluator level buttons break a word per character at 800×1280",
        f"labels broken over too many lines: {wrapped}",
    )
    wait_text(staff1, "#cur-number", "—")
    wait_text(display, '.wcell[data-window="1"] .cur', "空闲")
    hall.shot(f"finish-{a2}", "staff1", "evaluator", "display")
    evaluator.click("button[data-level='5']")
    evaluator.wait_for_selector("#screen-thanks:not([hidden])")
    hall.shot("rated", "evaluator")
    with hall.api(admin) as api:
        mine = [e for e in api.get("/evaluations").json() if e["ticket_number"] == a2]
    assert len(mine) == 1 and mine[0]["level"] == 5 and mine[0]["channel"] == "window", mine
    assert mine[0]["staff"] == "王芳" and mine[0]["window"] == 1

    # Window 11 calls the tax ticket meanwhile, and finishes it (no tablet at window 11).
    press(staff11, "F1")
    wait_text(staff11, "#cur-number", d1)
    f.expect(
        "优先" not in text(staff11, "#cur-extra"),
        "ordinary ticket labelled 优先",
        f"staff console at window 11 for {d1}: {text(staff11, '#cur-extra')!r}",
    )
    display_shows_call(hall, d1, 11)
    called_voice(hall, d1, 11)
    hall.shot(f"call-{d1}", "staff11", "display")
    press(staff11, "F4")
    wait_text(staff11, "#cur-number", "—")

    # F1 at window 1 again, in the order the list showed; then 过号 (F3): a no-show.
    listed = staff1.locator("#queue li b").all_inner_texts()
    press(staff1, "F1")
    staff1.wait_for_function("() => document.querySelector('#cur-number').textContent !== '—'")
    second = text(staff1, "#cur-number")
    f.expect(
        bool(listed) and listed[0] == second,
        "staff waiting list not in call order",
        f"list {listed} but F1 called {second}",
    )
    display_shows_call(hall, second, 1)
    called_voice(hall, second, 1)
    press(staff1, "F3")
    wait_text(staff1, "#cur-number", "—")
    wait_text(display, '.wcell[data-window="1"] .cur', "空闲")
    display_panel_idle(hall, f, second, "过号")
    in_noshow_list = """n => [...document.querySelectorAll('#console *')].some(e =>
        e.children.length === 0 && e.textContent.trim() === n &&
        !e.closest('#queue, #current, #toast, dialog'))"""
    try:  # the console reloads its lists on the skip event: give a loaded machine time
        staff1.wait_for_function(in_noshow_list, arg=second, timeout=10000)
    except PlaywrightTimeout:
        pass
    f.expect(
        staff1.evaluate(in_noshow_list, second),
        "no 过号 list on the staff console",
        f"{second} was skipped but appears in no list to re-call from",
    )
    evaluator.wait_for_timeout(300)
    assert evaluator.is_hidden("#screen-rate") or text(evaluator, "#rate-number") != second
    hall.shot(f"skip-{second}", "staff1", "display")
    with hall.api(admin) as api:
        assert api.get(f"/tickets/{ticket_id(hall, second)}").json()["status"] == "no_show"

    # F1, then 转移 (F6) to 公积金: the ticket waits again in the new service.
    press(staff1, "F1")
    staff1.wait_for_function("() => document.querySelector('#cur-number').textContent !== '—'")
    third = text(staff1, "#cur-number")
    display_shows_call(hall, third, 1)
    called_voice(hall, third, 1)
    press(staff1, "F6")
    staff1.wait_for_selector("#dlg-transfer[open]")
    staff1.wait_for_selector("input[name=transfer-target]")  # the choices come from the server
    offered = staff1.eval_on_selector_all(
        "input[name=transfer-target]", "els => els.map(e => e.value)"
    )
    assert "service:GJJ" in offered, offered
    hall.shot(f"transfer-dialog-{third}", "staff1")
    staff1.check("input[name=transfer-target][value='service:GJJ']")
    staff1.click("#form-transfer button[type=submit]")
    wait_text(staff1, "#cur-number", "—")
    wait_text(display, '.wcell[data-window="1"] .cur', "空闲")
    display_panel_idle(hall, f, third, "transfer")
    with hall.api(admin) as api:
        moved = api.get(f"/tickets/{ticket_id(hall, third)}").json()
    assert moved["status"] == "waiting" and moved["service"] == "GJJ", moved
    hall.shot(f"transferred-{third}", "staff1", "display")

    # F1 calls one more; 暂停 (F7) with nobody at the desk: the console, the display say so,
    # and F1 while paused neither resumes nor calls.
    press(staff1, "F1")
    staff1.wait_for_function("() => document.querySelector('#cur-number').textContent !== '—'")
    fourth = text(staff1, "#cur-number")
    display_shows_call(hall, fourth, 1)
    called_voice(hall, fourth, 1)
    press(staff1, "F7")
    wait_text(staff1, "#window-status", "暂停服务")
    wait_text(display, '.wcell[data-window="1"] .cur', "暂停服务")
    display_panel_idle(hall, f, fourth, "pause of window 1")
    press(staff1, "F1")  # the console asks before resuming; Esc keeps the window paused
    staff1.wait_for_selector("#dlg-paused[open]")
    hall.shot("paused-f1-asks", "staff1")
    staff1.keyboard.press("Escape")
    staff1.wait_for_timeout(500)
    with hall.api(admin) as api:
        w1 = api.get("/windows/1").json()
    assert w1["status"] == "paused", w1
    assert text(staff1, "#window-status") == "暂停服务"
    hall.shot("paused", "staff1", "display")
    press(staff1, "F7")
    wait_text(staff1, "#window-status", "办理中")
    with hall.api(admin) as api:
        current = api.get("/windows/1").json().get("current")

    # F1 with a ticket still at the desk finishes it implicitly: the tablet must not ask the
    # next citizen to rate the previous one. An explicit 办结 (F4) then asks for the rating.
    if current is None or current.get("number") != fourth:
        press(staff1, "F5")  # the pause finished or dropped it: 特呼 it back to the desk
        staff1.fill("#special-number", fourth)
        staff1.keyboard.press("Enter")
        wait_text(staff1, "#cur-number", fourth)
    press(staff1, "F1")
    staff1.wait_for_function(
        "n => !['—', n].includes(document.querySelector('#cur-number').textContent)", arg=fourth
    )
    fifth = text(staff1, "#cur-number")
    display_shows_call(hall, fifth, 1)
    called_voice(hall, fifth, 1)
    evaluator.wait_for_timeout(1000)
    asked = evaluator.is_visible("#screen-rate") and text(evaluator, "#rate-number") == fourth
    f.expect(
        not asked,
        "evaluator prompts after an implicit finish",
        f"F1 finished {fourth} implicitly and the tablet asks to rate it while {fifth} is called",
    )
    hall.shot(f"implicit-finish-{fourth}", "staff1", "evaluator", "display")
    if asked:  # start the tablet afresh (idle) rather than wait out its prompt
        evaluator.reload()
        wait_text(evaluator, "#staff-name", "王芳")
    press(staff1, "F4")
    evaluator.wait_for_function(
        "n => !document.querySelector('#screen-rate').hidden &&"
        " document.querySelector('#rate-number').textContent === n",
        arg=fifth,
        timeout=5000,
    )
    # 不满意 needs a reason; the whole reasons screen, 提交评价 included, fits the tablet.
    evaluator.click("button[data-level='2']")
    evaluator.wait_for_selector("#screen-reasons:not([hidden])")
    assert evaluator.is_disabled("#reasons-submit")
    evaluator.click(".reason >> text=等候时间过长")
    box = evaluator.locator("#reasons-submit").bounding_box()
    f.expect(
        box is not None and box["y"] + box["height"] <= 1280 and box["x"] + box["width"] <= 800,
        "evaluator's 提交评价 is off screen at 800×1280",
        f"#reasons-submit at {box}",
    )
    overlap = evaluator.evaluate(
        """() => {
          const head = document.querySelector('header').getBoundingClientRect();
          const title = document.querySelector('#screen-reasons h1, #screen-reasons h2');
          return title ? title.getBoundingClientRect().top < head.bottom - 1 : false;
        }"""
    )
    f.expect(
        not overlap,
        "evaluator's reasons title runs into the header at 800×1280",
        "the reasons screen's title starts above the header's bottom edge",
    )
    hall.shot(f"reasons-{fifth}", "evaluator")
    evaluator.locator("#reasons-submit").scroll_into_view_if_needed()
    evaluator.click("#reasons-submit")
    evaluator.wait_for_selector("#screen-thanks:not([hidden])")
    hall.shot(f"rated-{fifth}", "evaluator", "staff1")
    with hall.api(admin) as api:
        mine = [e for e in api.get("/evaluations").json() if e["ticket_number"] == fifth]
    assert [(e["level"], e["reasons"], e["channel"]) for e in mine] == [
        (2, ["long_wait"], "window")
    ], mine

    # Ratings come from the citizen's devices only: staff and admin cannot file one.
    staff_token = srv_login(hall, "staff11", "Staff1234", window=11)
    for who, token in (("admin", admin), ("staff", staff_token)):
        with hall.api(token) as api:
            r = api.post(
                "/evaluations",
                json={"ticket_id": ticket_id(hall, d1), "level": 5, "channel": "window"},
            )
        f.expect(
            r.status_code == 403,
            "staff/admin can file ratings",
            f"{who} POST /evaluations for {d1} → {r.status_code}",
        )

    print(f"{time.monotonic() - T0:6.1f} s  the morning is over; screenshots: {ARTIFACTS}")
    assert not f.failed, "first-day defects seen in the rehearsal:\n" + f.report()


def srv_login(hall: Hall, username: str, password: str, window: int | None = None) -> str:
    body: dict[str, object] = {"username": username, "password": password}
    if window is not None:
        body["window"] = window
    r = httpx.post(f"{hall.server.url}/api/v1/login", json=body, timeout=10)
    r.raise_for_status()
    return str(r.json()["token"])


def ticket_id(hall: Hall, number: str) -> int:
    with hall.api(hall.server.tokens["display"]) as api:
        for status in ("waiting", "called", "no_show", "done", "cancelled"):
            rows = api.get("/tickets", params={"status": status, "limit": 500}).json()
            for r in rows:
                if r["number"] == number:
                    return int(r["id"])
    raise AssertionError(f"no ticket {number} today")

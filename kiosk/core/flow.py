"""The kiosk's flows as a state machine: taps, card reads and QR scans in, `Screen`s out.

Taking an ordinary ticket is one tap on the home screen (two when the tile is on the next
page in elder mode); a real-name service adds only a card swipe, which is not a tap. Device
and network work runs through `run` (a thread in the Qt app, inline in tests), so the UI
thread never waits. Each screen has a generation number: a tap aimed at an older screen is
dropped, and each issuing screen carries one idempotency key, so a double tap prints once.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from halldomain.waits import no_wait, past_closing, wait_phrase

from .checkin import CheckedIn, CheckInFailed, CheckIns
from .issuer import IssueError, Issuer, elderly
from .lookup import Found, Lookup, LookupFailed
from .models import CardLike, IssuedTicket, ServiceInfo, WaitRange
from .outbox import Outbox
from .printing import PrintOutcome, TicketPrinting
from .screens import Button, Screen, Tile, speech_text
from .settings import KioskSettings
from .state import KioskState
from .texts import (
    CHECKIN_EN,
    CHECKIN_NOT_FOUND,
    ISSUE_EN,
    has_cjk,
    level_label,
    priority_text,
    reason_label,
    spoken_number,
    t,
)

log = logging.getLogger("kiosk.flow")

Job = Callable[[], Any]
Runner = Callable[[Job, Callable[[Any], None], Callable[[BaseException], None]], None]


def run_inline(job: Job, ok: Callable[[Any], None], fail: Callable[[BaseException], None]) -> None:
    """Runs a job at once on the caller's thread: what the core tests use."""
    try:
        result = job()
    except Exception as err:
        fail(err)
    else:
        ok(result)


# Screens that read aloud even in standard mode: the card prompt must be heard.
ALWAYS_SPOKEN = {"swipe", "lookup", "checkin"}
# Screens the idle timer leaves alone: home is the reset target, issuing is waiting on devices.
NO_IDLE = {"home", "issuing"}


class KioskFlow:
    def __init__(
        self,
        *,
        state: KioskState,
        issuer: Issuer,
        printing: TicketPrinting,
        lookup: Lookup,
        outbox: Outbox,
        settings: KioskSettings,
        run: Runner = run_inline,
        speak: Callable[[str, str], None] | None = None,
        on_change: Callable[[Screen], None] | None = None,
        kick: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        new_key: Callable[[], str] | None = None,
        checkins: CheckIns | None = None,
    ) -> None:
        self.state = state
        self.issuer = issuer
        self.printing = printing
        self.lookup = lookup
        self.outbox = outbox
        self.settings = settings
        self.checkins = checkins or CheckIns(issuer.api, state)
        self.run = run
        self.speak = speak or (lambda text, lang: None)
        self.on_change = on_change or (lambda screen: None)
        self.kick = kick or (lambda: None)
        self.monotonic = monotonic
        self.new_key = new_key or (lambda: f"{settings.kiosk_id}-{uuid.uuid4().hex}")
        self.lang = "zh"
        self.elder = False
        self.page = 0
        self.gen = 0
        self.ctx: dict[str, Any] = {}
        self.rated: set[str] = set()
        self.last_activity = monotonic()
        self.screen_key = self.new_key()
        self.screen = self._build("home")
        self._show(self.screen)

    # inputs
    def tap(self, action: str, gen: int | None = None) -> bool:
        """A tap on a tile or button; returns False when it was stale or not on this screen."""
        self.touch()
        if gen is not None and gen != self.screen.gen:
            return False
        if action not in self.screen.actions():
            return False
        self._dispatch(action)
        return True

    def touch(self) -> None:
        """Any touch: the citizen is still here, so the idle reset waits again."""
        self.last_activity = self.monotonic()
        if self.screen.idle_left is not None:
            self.screen = replace(self.screen, idle_left=None)
            self.on_change(self.screen)

    def card(self, card: CardLike) -> None:
        """An ID card was read (from the poller thread, marshalled to the UI thread by the caller)."""
        if self.screen.name == "swipe":
            self.touch()
            self._issue(self.ctx["service"], card, self.ctx["key"])
        elif self.screen.name == "lookup":
            self.touch()
            self._lookup(lambda: self.lookup.by_card(card))
        elif self.screen.name == "checkin":
            self.touch()
            self._check_in(card, "")

    def qr(self, text: str) -> None:
        if self.screen.name == "lookup":
            self.touch()
            self._lookup(lambda: self.lookup.by_qr(text))
        elif self.screen.name == "checkin":
            self.touch()
            self._check_in(None, text)

    def tick(self) -> None:
        """Called about once a second: the idle warning and the reset to home."""
        if self.screen.name in NO_IDLE:
            return
        timeout = self.settings.idle_timeout_elder_s if self.elder else self.settings.idle_timeout_s
        idle = self.monotonic() - self.last_activity
        if idle >= timeout:
            self.reset()
            return
        left = int(timeout - idle + 0.999)
        if left <= self.settings.idle_warning_s and left != self.screen.idle_left:
            first = self.screen.idle_left is None
            self.screen = replace(self.screen, idle_left=left)
            self.on_change(self.screen)
            if first and self.elder:
                self.speak(t("idle.warning", self.lang, s=left), self.lang)

    def reset(self) -> None:
        """Back to home in the default mode, for the next citizen."""
        self.lang, self.elder, self.page, self.ctx = "zh", False, 0, {}
        self._go("home")

    def refresh(self) -> None:
        """New waiting counts from the server: redraw the home screen without speaking again."""
        if self.screen.name == "home":
            fresh = replace(
                self._build("home"), gen=self.screen.gen, idle_left=self.screen.idle_left
            )
            if fresh != self.screen:
                self.screen = fresh
                self.on_change(self.screen)

    # dispatch
    def _dispatch(self, action: str) -> None:
        verb, _, arg = action.partition(":")
        name = self.screen.name
        if verb == "home":
            self.page, self.ctx = 0, {}
            self._go("home")
        elif verb == "elder":
            self.elder, self.page = not self.elder, 0
            self._go(name)
        elif verb == "lang":
            self.lang = "en" if self.lang == "zh" else "zh"
            self._go(name)
        elif verb == "page":
            self.page += 1 if arg == "next" else -1
            self._go(name)
        elif verb in ("service", "take"):
            self._choose(arg)
        elif verb == "guides":
            self.page = 0
            self._go("guide_list")
        elif verb == "guide":
            self.ctx["guide"] = arg
            self._go("guide")
        elif verb == "back":
            self._back()
        elif verb == "lookup":
            self._go("lookup")
        elif verb == "checkin":
            self.ctx = {}
            self._go("checkin")
            self.ctx["key"] = self.screen_key  # the check-in's key: one per drawn prompt
        elif verb == "rate":
            self.ctx["level"], self.ctx["reasons"] = 0, set()
            self._go("rate")
        elif verb == "level":
            self.ctx["level"] = int(arg)
            if int(arg) <= self.state.snap.hall.reason_threshold:
                self._go("rate_reasons")
            else:
                self._submit_rating()
        elif verb == "reason":
            reasons: set[str] = self.ctx.setdefault("reasons", set())
            reasons.symmetric_difference_update({arg})
            self.screen = replace(self._build("rate_reasons"), gen=self.screen.gen)
            self.on_change(self.screen)
        elif verb == "submit":
            self._submit_rating()

    def _back(self) -> None:
        name = self.screen.name
        if name == "guide":
            self._go("guide_list")
        elif name == "rate_reasons":
            self._go("rate")
        elif name == "rate" and "ticket" in self.ctx:
            self._go("ticket")
        else:
            self.page, self.ctx = 0, {}
            self._go("home")

    def _choose(self, code: str) -> None:
        service = self.state.service(code)
        if service is None:
            return
        key = self.ctx.get("key") or self.screen_key
        self.ctx = {"service": service, "key": key}
        if service.real_name:
            self._go("swipe")
        else:
            self._issue(service, None, key)

    def _issue(self, service: ServiceInfo, card: CardLike | None, key: str) -> None:
        hall = self.state.snap.hall.name
        self.ctx["elderly"] = elderly(card, self.state)
        self._go("issuing")
        gen = self.gen

        def job() -> tuple[IssuedTicket, PrintOutcome]:
            ticket = self.issuer.issue(key, service, card)
            where = self._location(ticket.service, "zh")
            return ticket, self.printing.print_once(ticket, hall, location=where)

        def ok(result: tuple[IssuedTicket, PrintOutcome]) -> None:
            ticket, outcome = result
            self.ctx["ticket"], self.ctx["outcome"] = ticket, outcome
            if not outcome.printed:
                self.kick()  # the server hears about the printer in the next heartbeat, now
            if self.gen == gen:
                self._go("ticket")

        def fail(err: BaseException) -> None:
            if isinstance(err, IssueError):
                self.ctx["error_code"] = err.code
                self.ctx["error"] = err.message
                self.ctx["error_en"] = ISSUE_EN.get(err.code) or (
                    err.message_en if not has_cjk(err.message_en) else t("message.generic", "en")
                )
            else:
                log.exception("issuing failed", exc_info=err)
                self.ctx["error"] = t("lookup.offline", "zh")
                self.ctx["error_en"] = t("lookup.offline", "en")
            if self.gen == gen:
                self._go("message")

        self.run(job, ok, fail)

    def _check_in(self, card: CardLike | None, qr: str) -> None:
        """预约签到: verify with the server, then print like any ticket (never from a lease)."""
        key = self.ctx.get("key") or self.screen_key
        hall = self.state.snap.hall.name
        self.ctx["checking"] = True
        self._go("issuing")
        gen = self.gen

        def job() -> tuple[CheckedIn, PrintOutcome]:
            done = self.checkins.check_in(key, card, qr)
            if not done.created:  # already checked in: the number is shown, not printed twice
                return done, PrintOutcome(False, "already_attempted")
            where = self._location(done.ticket.service, "zh")
            return done, self.printing.print_once(done.ticket, hall, location=where)

        def ok(result: tuple[CheckedIn, PrintOutcome]) -> None:
            done, outcome = result
            self.ctx.pop("checking", None)
            self.ctx["checkin"] = done
            self.ctx["ticket"], self.ctx["outcome"] = done.ticket, outcome
            if done.created and not outcome.printed:
                self.kick()
            if self.gen == gen:
                self._go("ticket")

        def fail(err: BaseException) -> None:
            self.ctx.pop("checking", None)
            if not isinstance(err, CheckInFailed):
                log.exception("check-in failed", exc_info=err)
                err = CheckInFailed("offline")
            self.ctx["checkin_error"] = err
            if self.gen == gen:
                self._go("checkin_message")

        self.run(job, ok, fail)

    def _lookup(self, job: Callable[[], list[Found]]) -> None:
        self._go("issuing")
        gen = self.gen

        def ok(found: list[Found]) -> None:
            self.ctx["found"] = found
            if self.gen == gen:
                self._go("lookup_result")

        def fail(err: BaseException) -> None:
            code = err.code if isinstance(err, LookupFailed) else "offline"
            key = "lookup.unreadable" if code == "unreadable" else "lookup.offline"
            self.ctx["error"], self.ctx["error_en"] = t(key, "zh"), t(key, "en")
            if self.gen == gen:
                self._go("message")

        self.run(job, ok, fail)

    def _submit_rating(self) -> None:
        ticket: IssuedTicket | None = self.ctx.get("ticket")
        level = int(self.ctx.get("level") or 0)
        reasons = sorted(self.ctx.get("reasons") or ())
        threshold = self.state.snap.hall.reason_threshold
        if ticket is None or not 1 <= level <= 5 or (level <= threshold and not reasons):
            return
        body = {"level": level, "channel": "kiosk", "reasons": reasons}  # codes of the hall's list
        ticket_key = ticket.key if ticket.offline else ""
        self.outbox.add_evaluation(self.new_key(), ticket_key, ticket.ticket_id, body)
        self.rated.add(ticket.key)
        self.kick()
        self._go("thanks")

    # screens
    def _go(self, name: str) -> None:
        self.gen += 1
        self.screen_key = self.new_key()  # one idempotency key per drawn screen
        self.screen = self._build(name)
        self._show(self.screen)

    def _show(self, screen: Screen) -> None:
        self.on_change(screen)
        if self.elder or screen.name in ALWAYS_SPOKEN:
            self.speak(screen.speech, screen.lang)

    def _build(self, name: str) -> Screen:
        screen = getattr(self, f"_screen_{name}")()
        spoken = spoken_number(screen.big, self.lang) if screen.big else ""
        if screen.big:
            spoken = f"{t('ticket.number', self.lang)} {spoken}"
        return replace(screen, speech=speech_text(screen, spoken))

    def _base(self, name: str, title: str, **kw: Any) -> Screen:
        hall = self.state.snap.hall.name
        if self.lang == "en" and has_cjk(hall):  # the config names the hall in Chinese only
            hall = t("hall.generic", "en")
        return Screen(name, self.gen, self.lang, self.elder, title, hall=hall, **kw)

    def _page(self, items: list[Any]) -> tuple[list[Any], list[Button], str]:
        size = self.settings.page_size_elder if self.elder else self.settings.page_size
        pages = max(1, (len(items) + size - 1) // size)
        self.page = min(max(self.page, 0), pages - 1)
        chunk = items[self.page * size : (self.page + 1) * size]
        nav: list[Button] = []
        label = ""
        if pages > 1:
            nav = [
                Button("page:prev", t("btn.prev", self.lang), enabled=self.page > 0),
                Button("page:next", t("btn.next", self.lang), enabled=self.page < pages - 1),
            ]
            label = t("page", self.lang, page=self.page + 1, pages=pages)
        return chunk, nav, label

    def _service_tile(self, s: ServiceInfo, verb: str) -> Tile:
        lang = self.lang
        if not s.open:
            return Tile(f"{verb}:{s.code}", s.label(lang), (t("home.closed", lang),), enabled=False)
        wait = wait_phrase(s.waiting, s.wait.low_min, s.wait.high_min, lang)
        lines = (t("home.waiting", lang, n=s.waiting), wait)
        badge = t("home.real_name", lang) if s.real_name and verb == "service" else ""
        return Tile(f"{verb}:{s.code}", s.label(lang), lines, badge=badge)

    def _mode_buttons(self) -> list[Button]:
        elder = t("btn.elder_is_on" if self.elder else "btn.elder_is_off", self.lang)
        return [
            Button("elder", elder, checked=self.elder),
            Button("lang", t("btn.lang", self.lang)),
        ]

    def _screen_home(self) -> Screen:
        services = list(self.state.snap.services)
        chunk, nav, label = self._page(services)
        buttons = [Button("checkin", t("btn.checkin", self.lang))]
        if not self.state.snap.hall.appointments:
            buttons = []
        buttons += [
            Button("lookup", t("btn.lookup", self.lang)),
            Button("guides", t("btn.guide", self.lang)),
        ]
        return self._base(
            "home",
            t("home.title", self.lang),
            tiles=tuple(self._service_tile(s, "service") for s in chunk),
            buttons=tuple(nav + buttons + self._mode_buttons()),
            page=label,
            ticker=self._notices(),
        )

    def _notices(self) -> tuple[str, ...]:
        """Hall notices (信息发布); in English only those written in English (none, today)."""
        notices = self.state.snap.hall.notices
        if self.lang == "en":
            notices = tuple(n for n in notices if not has_cjk(n))
        return notices if not self.elder else notices[:1]

    def _screen_swipe(self) -> Screen:
        s: ServiceInfo = self.ctx["service"]
        return self._base(
            "swipe",
            t("swipe.title", self.lang),
            lines=(
                t("swipe.for", self.lang, service=s.label(self.lang)),
                t("swipe.hint", self.lang),
            ),
            buttons=(Button("home", t("btn.cancel", self.lang)),),
            animation="card",
        )

    def _screen_issuing(self) -> Screen:
        title = "checkin.checking" if self.ctx.get("checking") else "issuing.title"
        return self._base("issuing", t(title, self.lang), animation="wait")

    def _screen_ticket(self) -> Screen:
        ticket: IssuedTicket = self.ctx["ticket"]
        outcome: PrintOutcome = self.ctx["outcome"]
        lang = self.lang
        lines = [ticket.service_name if lang == "zh" else self._service_label(ticket.service)]
        checkin: CheckedIn | None = self.ctx.get("checkin")
        again = checkin is not None and not checkin.created  # the notice says it all
        where = "" if again else self._location(ticket.service, lang)
        if where:  # 智能引导: where the service is handled
            lines.append(t("ticket.where", lang, where=where))
        if checkin is not None and not again:
            lines.insert(0, t("checkin.late" if checkin.late else "checkin.ok", lang))
        priority = priority_text(ticket.priority, ticket.priority_label, lang)
        if priority:
            lines.append(priority)
        lines.append(t("ticket.ahead", lang, n=ticket.ahead))
        lines.append(self._wait_line(ticket.ahead, ticket.wait, ticket.service))
        closing = self._closing(ticket.ahead, ticket.wait, ticket.service)
        if closing:
            lines.append(closing)
        if not again and outcome.printed:  # unprinted, the notice says to watch for the call
            lines.append(t("ticket.watch", lang))
        buttons = [Button("home", t("btn.done", lang), primary=True)]
        if ticket.key not in self.rated:
            buttons.append(Button("rate", t("btn.rate", lang)))
        printed = outcome.printed
        notice = "" if printed else t("ticket.no_paper", lang)
        if again:
            notice = t("checkin.again", lang)
        alert = bool(notice) and not again
        return self._base(
            "ticket",
            t("ticket.title" if printed else "ticket.number", lang),
            big=ticket.number,
            lines=tuple(lines),
            qr="" if printed else ticket.qr,
            notice=notice,
            alert=alert,
            buttons=tuple(buttons),
        )

    def _wait_line(self, ahead: int, wait: WaitRange, code: str) -> str:
        if no_wait(ahead):
            return wait_phrase(ahead, wait.low_min, wait.high_min, self.lang)
        return t("ticket.wait", self.lang, low=wait.low_min, high=max(wait.high_min, 1))

    def _closing(self, ahead: int, wait: WaitRange, code: str) -> str:
        """A warning when the estimate runs past the end of the service's opening hours."""
        s = self.state.service(code)
        if s is None or no_wait(ahead):
            return ""
        at = past_closing(self.state.local_now(), wait.high_min, s.hours)
        return t("ticket.closing", self.lang, at=at) if at else ""

    def _service_label(self, code: str) -> str:
        s = self.state.service(code)
        return s.label(self.lang) if s else code

    def _location(self, code: str, lang: str) -> str:
        """Where the service is handled (智能引导), "" when the hall has no locations set."""
        s = self.state.service(code)
        if s is None:
            return ""
        return (s.location_en or s.location) if lang == "en" else s.location

    def _screen_message(self) -> Screen:
        lang = self.lang
        said = str(self.ctx.get("error_en" if lang == "en" else "error") or "")
        lines = [said] if said else []
        buttons = [Button("home", t("btn.home", lang), primary=True)]
        title = "message.title"
        if self.ctx.get("error_code") == "duplicate_active_ticket":
            title = "message.duplicate"  # not a failure: the citizen already holds a number
            lines.append(t("message.duplicate_hint", lang))
            buttons.append(Button("lookup", t("btn.lookup", lang)))
        return self._base("message", t(title, lang), lines=tuple(lines), buttons=tuple(buttons))

    def _screen_guide_list(self) -> Screen:
        chunk, nav, label = self._page(list(self.state.snap.services))
        tiles = tuple(Tile(f"guide:{s.code}", s.label(self.lang)) for s in chunk)
        return self._base(
            "guide_list",
            t("guide.list", self.lang),
            tiles=tiles,
            page=label,
            buttons=tuple([*nav, Button("home", t("btn.back", self.lang))]),
        )

    def _screen_guide(self) -> Screen:
        s = self.state.service(self.ctx.get("guide", ""))
        name = s.label(self.lang) if s else ""
        text = s.guide if s and s.guide else t("guide.empty", self.lang)
        if self.lang == "en" and s and s.guide_en and not has_cjk(s.guide_en):
            text = s.guide_en
        elif self.lang == "en" and has_cjk(text):  # a guide written in Chinese only
            text = t("guide.en_generic", "en")
        lines = tuple(p.strip() for p in text.replace("；", "；\n").splitlines() if p.strip())
        buttons = [
            Button("back", t("btn.back", self.lang)),
            Button("home", t("btn.home", self.lang)),
        ]
        if s and s.open:
            buttons.insert(0, Button(f"take:{s.code}", t("btn.take", self.lang), primary=True))
        return self._base(
            "guide", t("guide.title", self.lang, service=name), lines=lines, buttons=tuple(buttons)
        )

    def _screen_lookup(self) -> Screen:
        return self._base(
            "lookup",
            t("lookup.title", self.lang),
            lines=(t("lookup.hint", self.lang),),
            buttons=(Button("home", t("btn.cancel", self.lang)),),
            animation="scan",
        )

    def _screen_lookup_result(self) -> Screen:
        found: list[Found] = self.ctx.get("found") or []
        lang = self.lang
        if not found:
            return self._base(
                "lookup_result",
                t("lookup.none", lang),
                lines=(t("lookup.none_hint", lang),),
                buttons=(Button("home", t("btn.home", lang), primary=True),),
            )
        tiles = []
        for f in found:
            called = "status.called_at" if f.window_guide else "status.called"
            status = (
                t(called, lang, window=f.window, guide=f.window_guide)
                if f.status == "called"
                else t(f"status.{f.status}", lang)
                if f"status.{f.status}" in _STATUS_KEYS
                else f.status
            )
            name = self._service_label(f.service) if f.service else f.service_name
            lines = [f.service_name if lang == "zh" else name, status]
            if f.status == "waiting":
                lines.append(t("ticket.ahead", lang, n=f.ahead))
                lines.append(self._wait_line(f.ahead, f.wait, f.service))
                closing = self._closing(f.ahead, f.wait, f.service)
                if closing:
                    lines.append(closing)
            tiles.append(Tile(f"found:{f.number}", f.number, tuple(lines), enabled=False))
        return self._base(
            "lookup_result",
            t("lookup.found", lang),
            tiles=tuple(tiles),
            buttons=(Button("home", t("btn.home", lang), primary=True),),
        )

    def _screen_checkin(self) -> Screen:
        return self._base(
            "checkin",
            t("checkin.title", self.lang),
            lines=(t("checkin.hint", self.lang),),
            buttons=(Button("home", t("btn.cancel", self.lang)),),
            animation="scan",
        )

    def _screen_checkin_message(self) -> Screen:
        """A refused or unverifiable check-in: what happened, then what to do next."""
        err: CheckInFailed = self.ctx.get("checkin_error") or CheckInFailed("offline")
        lang, code = self.lang, err.code
        said = err.message if lang == "zh" else ""
        ordinary = retry = False
        if code == "offline":
            title, first, advice = "checkin.offline", t("checkin.offline_why", lang), "offline_hint"
            ordinary = retry = True
        elif code == "too_early":
            title, at = "checkin.too_early", err.come_back_at
            first = said or t(
                "checkin.not_yet" if lang == "en" or not at else "checkin.come_back", lang, at=at
            )
            advice = "come_back_hint" if at else "too_early_hint"
        elif code == "appointment_missed":
            title, first, advice = "checkin.missed", said, "ordinary_hint"
            first = first or t("checkin.missed_why", lang)
            ordinary = True
        elif code in CHECKIN_NOT_FOUND:
            title, advice = "checkin.none", "ordinary_hint"
            if code == "invalid_qr":
                said = t("checkin.invalid_qr", lang)
            first = said or (CHECKIN_EN.get(code, "") if lang == "en" else "")
            first = first or t("checkin.none_why", lang)
            ordinary = retry = True
        else:  # blocked, a second active ticket, a bad ID card, outside hours…
            title, advice = "checkin.refused", "desk_hint"
            first = said or (CHECKIN_EN.get(code, "") if lang == "en" else "")
            first = first or t("checkin.refused_why", lang)
            retry = code.startswith("id_")
        at = err.come_back_at
        buttons = [
            Button("home", t("btn.ordinary" if ordinary else "btn.home", lang), primary=True)
        ]
        if retry:
            buttons.append(Button("checkin", t("btn.retry", lang)))
        if ordinary and not retry:  # the way back, said as such, beside "take an ordinary number"
            buttons.append(Button("back", t("btn.home", lang)))
        return self._base(
            "checkin_message",
            t(title, lang),
            lines=(first,),
            notice=t(f"checkin.{advice}", lang, at=at),  # what to do next, shown prominently
            buttons=tuple(buttons),
        )

    def _screen_rate(self) -> Screen:
        tiles = tuple(Tile(f"level:{n}", level_label(n, self.lang)) for n in (5, 4, 3, 2, 1))
        return self._base(
            "rate",
            t("rate.title", self.lang),
            tiles=tiles,
            buttons=(Button("back", t("btn.back", self.lang)),),
        )

    def _screen_rate_reasons(self) -> Screen:
        chosen: set[str] = self.ctx.get("reasons") or set()
        tiles = tuple(
            Tile(f"reason:{r.code}", reason_label(r, self.lang), selected=r.code in chosen)
            for r in self.state.snap.hall.reasons
        )
        return self._base(
            "rate_reasons",
            t("rate.reasons", self.lang),
            lines=(level_label(int(self.ctx.get("level") or 1), self.lang),),
            tiles=tiles,
            buttons=(
                Button("submit", t("btn.submit", self.lang), enabled=bool(chosen), primary=True),
                Button("back", t("btn.back", self.lang)),
            ),
        )

    def _screen_thanks(self) -> Screen:
        return self._base(
            "thanks",
            t("thanks.title", self.lang),
            lines=(t("thanks.hint", self.lang),),
            buttons=(Button("home", t("btn.home", self.lang), primary=True),),
        )


_STATUS_KEYS = {
    "status.waiting",
    "status.no_show",
    "status.done",
    "status.cancelled",
    "status.expired",
}

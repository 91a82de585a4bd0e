"""What a screen is: plain data the Qt layer renders and the voice reads. No Qt here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """A large touch target in the body: a service, a rating level, a reason."""

    action: str
    title: str
    lines: tuple[str, ...] = ()
    enabled: bool = True
    selected: bool = False
    badge: str = ""


@dataclass(frozen=True)
class Button:
    """A command in the bottom bar."""

    action: str
    label: str
    enabled: bool = True
    primary: bool = False
    checked: bool | None = None  # a toggle (长辈模式): on or off; None for a plain command


@dataclass(frozen=True)
class Screen:
    name: str
    gen: int
    lang: str
    elder: bool
    title: str
    hall: str = ""
    lines: tuple[str, ...] = ()
    tiles: tuple[Tile, ...] = ()
    buttons: tuple[Button, ...] = ()
    big: str = ""  # the ticket number, shown as large as the screen allows
    qr: str = ""  # text for an on-screen QR code
    notice: str = ""  # what to do next (a check-in refusal), in a highlighted box
    alert: bool = False  # the notice says something went wrong (no paper): a banner at the top
    animation: str = ""  # "card" (swipe the ID card), "scan" (card or QR), "wait"
    idle_left: int | None = None  # seconds before the idle reset, once the warning shows
    ticker: tuple[str, ...] = ()  # hall notices (信息发布) on the home screen
    page: str = ""  # "第 1/2 页" when the tiles take more than one page
    speech: str = ""  # what the voice reads for this screen

    def actions(self) -> set[str]:
        return {t.action for t in self.tiles if t.enabled} | {
            b.action for b in self.buttons if b.enabled
        }


def speech_text(screen: Screen, spoken_big: str = "") -> str:
    """The sentence read aloud for a screen: title, number, body, and in elder mode the tiles."""
    parts = [screen.title]
    if spoken_big:
        parts.append(spoken_big)
    if screen.notice:
        parts.append(screen.notice)
    parts.extend(screen.lines)
    if screen.tiles:
        sep = ", " if screen.lang == "en" else "，"
        parts.append(sep.join(t.title for t in screen.tiles if t.enabled))
    end = ". " if screen.lang == "en" else "。"
    return end.join(p.rstrip("。. ") for p in parts if p) + end.strip()

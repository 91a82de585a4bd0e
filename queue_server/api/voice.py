"""Call announcements as audio the display plays (GET /voice/announce -> audio/wav), and the
display's announcement queue policy (POST /voice/next: what to say next)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field

from queue_server.api.common import Who, hall_of, json
from queue_server.api.models import Body
from queue_server.base.errors import Invalid
from queue_server.core import voice

router = APIRouter()
_voice: voice.Voice | None = None


def get_voice() -> voice.Voice:
    global _voice
    if _voice is None:
        _voice = voice.Voice()
    return _voice


def _check(number: str, window: int) -> None:
    try:
        voice.number_clips(number)
    except ValueError:
        raise Invalid(f"号码格式不正确：{number[:16]}", "bad_number") from None
    if not 1 <= window <= 9999:
        raise Invalid("窗口号应为 1 到 9999", "bad_window")


def _parse_calls(calls: str) -> list[tuple[str, int]]:
    """ "A023-3,B105-12" -> [("A023", 3), ("B105", 12)]."""
    out = []
    for part in calls.split(","):
        number, _, window = part.strip().rpartition("-")
        if not window.isdigit():
            raise Invalid(f"叫号格式应为 号码-窗口号：{part[:24]}", "bad_calls")
        _check(number, int(window))
        out.append((number.upper(), int(window)))
    if not 1 <= len(out) <= voice.GROUP:
        raise Invalid(f"一次播报 1 到 {voice.GROUP} 个叫号", "bad_calls")
    return out


@router.get("/voice/announce", responses={200: {"content": {"audio/wav": {}}}})
async def announce(
    request: Request,
    who: Who,
    number: Annotated[str | None, Query(max_length=16)] = None,
    window: int | None = None,
    repeats: Annotated[int, Query(ge=1, le=3)] = voice.REPEATS,
    calls: Annotated[str | None, Query(max_length=120)] = None,
    form: Literal["full", "short"] = "full",
    tempo: Annotated[float, Query(ge=1.0, le=1.3)] = 1.0,
) -> Response:
    """The call "请 A023 号 到 3 号窗口 办理", digit by digit, said `repeats` times, as one WAV;
    or several calls (`calls=A023-3,B105-12`) in a row, in the short form "A023 三号窗口"
    (`form=short`), `tempo` times as fast, as POST /voice/next plans them."""
    if calls is not None:
        said = _parse_calls(calls)
    elif number is not None and window is not None:
        _check(number, window)
        said = [(number, window)]
    else:
        raise Invalid("请给出 number 和 window，或 calls", "bad_calls")
    try:
        data = await run_in_threadpool(get_voice().announcement_of, said, repeats, form, tempo)
    except voice.VoiceError as err:
        return json({"error": {"code": "voice_unavailable", "message": str(err)}}, 503)
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "max-age=3600"})


class PendingIn(Body):
    number: str = Field(max_length=16)
    window: int = Field(ge=1, le=9999)
    ticket: str = Field("", max_length=40)
    recall: bool = False
    repeat: bool = False


class NextIn(Body):
    pending: list[PendingIn] = Field(max_length=500)


@router.get("/voice/broadcast", responses={200: {"content": {"audio/wav": {}}}})
async def broadcast_audio(
    request: Request,
    who: Who,
    id: Annotated[int, Query(ge=1, le=2**62)],
    repeats: Annotated[int, Query(ge=1, le=3)] = voice.REPEATS,
) -> Response:
    """A broadcast (语音广播) as one WAV: its text synthesised offline, said `repeats` times."""
    from queue_server.admin import broadcasts

    row = broadcasts.get(hall_of(request).db.reader, id)
    try:
        data = await run_in_threadpool(get_voice().speech, row["text"], repeats)
    except voice.VoiceError as err:
        return json({"error": {"code": "voice_unavailable", "message": str(err)}}, 503)
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "max-age=3600"})


@router.post("/voice/next")
async def next_announcement(body: NextIn, request: Request, who: Who) -> Response:
    """The display's queue of calls still to say (oldest first) -> what to say next: the calls
    (queue positions `said`), their form, repeats and tempo, the audio's address, which queue
    positions it settles (`done`), and whether to queue the call's second reading (`again`).
    `null` when nothing is left to say."""
    for p in body.pending:
        _check(p.number, p.window)
    plan = voice.plan_next(
        [voice.Pending(p.number, p.window, p.ticket, p.recall, p.repeat) for p in body.pending]
    )
    if plan is None:
        return json(None)
    query: dict[str, str | int] = (
        {"number": plan.calls[0][0], "window": plan.calls[0][1]}
        if len(plan.calls) == 1
        else {"calls": ",".join(f"{n}-{w}" for n, w in plan.calls)}
    )
    query |= {"repeats": plan.repeats, "form": plan.form, "tempo": f"{plan.tempo:g}"}
    return json(
        {
            "calls": [{"number": n, "window": w} for n, w in plan.calls],
            "form": plan.form,
            "repeats": plan.repeats,
            "tempo": plan.tempo,
            "done": list(plan.done),
            "said": list(plan.said),
            "again": plan.again,
            "text": "，".join(voice.announcement_text(n, w, plan.form) for n, w in plan.calls),
            "url": f"/api/v1/voice/announce?{urlencode(query)}",
        }
    )


@router.get("/voice/plan")
async def plan(
    request: Request, who: Who, number: Annotated[str, Query(max_length=16)], window: int
) -> Response:
    """The clip sequence of one reading of a call, and where each clip comes from."""
    _check(number, window)
    names = voice.announcement_clips(number, window)
    v = get_voice()
    return json(
        {
            "text": voice.announcement_text(number, window),
            "clips": names,
            "repeats": voice.REPEATS,
            "overrides": str(v.overrides),
        }
    )

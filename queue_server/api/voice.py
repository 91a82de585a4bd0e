"""Call announcements as audio the display plays (GET /voice/announce -> audio/wav)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from queue_server import voice
from queue_server.accounts import Principal
from queue_server.api.common import json, principal
from queue_server.errors import Invalid

router = APIRouter()
Who = Annotated[Principal, Depends(principal)]
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


@router.get("/voice/announce", responses={200: {"content": {"audio/wav": {}}}})
async def announce(
    request: Request,
    who: Who,
    number: Annotated[str, Query(max_length=16)],
    window: int,
    repeats: Annotated[int, Query(ge=1, le=3)] = voice.REPEATS,
) -> Response:
    """The call "请 A023 号 到 3 号窗口 办理", digit by digit, said `repeats` times, as one WAV."""
    _check(number, window)
    try:
        data = await run_in_threadpool(get_voice().announcement, number, window, repeats)
    except voice.VoiceError as err:
        return json({"error": {"code": "voice_unavailable", "message": str(err)}}, 503)
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "max-age=3600"})


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

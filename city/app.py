"""The city gateway's FastAPI app: public pages for citizens' phones and their JSON.

/                          the halls, by distance (`lat`/`lon` or `district`) or waiting
/h/{hall_id}               one hall
/h/{hall_id}/t/{code}      a ticket's page (the ticket's QR code lands here)
/h/{hall_id}/t/{code}/events   its live progress (text/event-stream)
POST /h/{hall_id}/t/{code}/rate  the QR rating, delivered to the hall through the broker
/api/v1/halls, /api/v1/halls/{id}, /api/v1/halls/{id}/tickets/{code}, /api/v1/requests/{rid}
"""

from __future__ import annotations

import asyncio
import heapq
import math
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from city import pages
from city.link import GatewayLink, GatewaySettings
from city.state import HallState, distance_km

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEEPALIVE_S = 15.0
LIST_LIMIT = 50  # halls on one list page (a province has thousands)
LIST_CACHE_S = 1.0  # a list is reused this long for the same place (about 1 km) and choices


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _float(v: str | None, lim: float) -> float | None:
    try:
        f = float(v) if v not in (None, "") else None
    except ValueError:
        return None
    return f if f is not None and abs(f) <= lim else None


def hall_summary(h: HallState, dist: float | None = None) -> dict[str, Any]:
    return {
        **(h.status or {}),
        "online": h.online,
        "last_seen": h.last_seen,
        "distance_km": round(dist, 2) if dist is not None else None,
    }


def sorted_halls(
    link: GatewayLink,
    sort: str,
    lat: float | None,
    lon: float | None,
    district: str,
    limit: int = LIST_LIMIT,
) -> list[tuple[HallState, float | None]]:
    """The first `limit` halls: nearest first (from a place, or the chosen district first),
    else open and online halls with the fewest waiting first."""

    def waiting_key(h: HallState) -> tuple[bool, bool, int]:
        return (not h.online, not (h.status or {}).get("open_now"), h.waiting_total())

    halls = link.state.listing()
    if sort == "distance" and lat is not None and lon is not None:
        here_lat, here_lon = lat, lon
        rlat, rlon = math.radians(lat), math.radians(lon)
        squeeze = math.cos(rlat)  # a province spans a few degrees: one factor is enough

        def near_key(h: HallState) -> float:
            p = h.place
            if p is None:
                return math.inf
            return ((p[1] - rlon) * squeeze) ** 2 + (p[0] - rlat) ** 2

        chosen = heapq.nsmallest(limit, halls, key=near_key)
        out: list[tuple[HallState, float | None]] = []
        for h in chosen:
            s = h.status or {}
            d = None
            if s.get("lat") is not None and s.get("lon") is not None:
                d = distance_km(here_lat, here_lon, s["lat"], s["lon"])
            out.append((h, d))
        return out
    if sort == "distance" and district:
        chosen = heapq.nsmallest(
            limit,
            halls,
            key=lambda h: ((h.status or {}).get("district") != district, *waiting_key(h)),
        )
    else:
        chosen = heapq.nsmallest(limit, halls, key=waiting_key)
    return [(h, None) for h in chosen]


def _int(v: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(v))) if v else default
    except ValueError:
        return default


class ListCache:
    """Rendered lists by (sort, place rounded to 0.01°, district, limit, lang) for a second:
    phones in one neighbourhood share the sorting of thousands of halls."""

    def __init__(self) -> None:
        self._items: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[Any, ...], make: Any, ttl: float = LIST_CACHE_S) -> Any:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        if len(self._items) > 5000:
            self._items.clear()
        value = make()
        self._items[key] = (now, value)
        return value


def create_app(settings: GatewaySettings, link: GatewayLink | None = None) -> FastAPI:
    link = link or GatewayLink(settings)
    cache = ListCache()

    def district_names() -> list[str]:
        names = {str((h.status or {}).get("district") or "") for h in link.state.listing()}
        return sorted(names - {""})

    def listing(request: Request) -> tuple[tuple[Any, ...], Any]:
        q = request.query_params
        lat, lon = _float(q.get("lat"), 90), _float(q.get("lon"), 180)
        district = (q.get("district") or "")[:40]
        sort = q.get("sort") or ("distance" if lat is not None or district else "wait")
        limit = _int(q.get("limit"), LIST_LIMIT, 1, 500)
        place = (round(lat, 2), round(lon, 2)) if lat is not None and lon is not None else None
        if place is not None:
            lat, lon = place
        key = (sort, place, district, limit)

        def make() -> list[tuple[HallState, float | None]]:
            return sorted_halls(link, sort, lat, lon, district, limit)

        return key, make

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        link.start(asyncio.get_running_loop())
        try:
            yield
        finally:
            await asyncio.to_thread(link.stop)

    app = FastAPI(title="政务服务地图 city gateway", lifespan=lifespan, docs_url="/api/docs")
    app.state.link = link

    @app.get("/health")
    async def health() -> Response:
        return _json(
            {
                "status": "ok" if link.connected else "broker_down",
                "halls": len(link.state.halls),
                "open_streams": link.open_streams(),
            }
        )

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> HTMLResponse:
        key, make = listing(request)
        lang = _lang(request)

        def render() -> str:
            districts = cache.get(("districts",), district_names, ttl=30.0)
            return pages.hall_list(lang, make(), districts, key[0], key[2], False)

        return HTMLResponse(cache.get(("html", lang, *key), render))

    @app.get("/h/{hall_id}", response_class=HTMLResponse)
    async def hall_view(hall_id: str, request: Request) -> HTMLResponse:
        h = link.state.halls.get(hall_id)
        if h is None or h.status is None:
            return HTMLResponse(pages.not_found(_lang(request), "hall_missing"), status_code=404)
        return HTMLResponse(pages.hall_page(_lang(request), h))

    @app.get("/h/{hall_id}/t/{code}", response_class=HTMLResponse)
    async def ticket_view(hall_id: str, code: str, request: Request) -> HTMLResponse:
        ticket = await link.lookup(hall_id, code)
        if ticket is None:
            return HTMLResponse(pages.not_found(_lang(request)), status_code=404)
        hall = link.state.halls.get(hall_id)
        lang = _lang(request)
        return HTMLResponse(
            pages.ticket_page(lang, hall_id, code, ticket, hall, settings.near_ahead)
        )

    @app.get("/h/{hall_id}/t/{code}/events")
    async def ticket_events(hall_id: str, code: str, request: Request) -> Response:
        ticket = await link.lookup(hall_id, code)
        if ticket is None:
            return _error(404, "ticket_not_found", "没有这张号票，请核对二维码")
        link.watch(hall_id, code)
        q = link.stream(hall_id, code)
        ticket = link.state.view((hall_id, code)) or ticket  # newest since the look-up

        async def frames() -> AsyncIterator[bytes]:
            try:
                yield b"retry: 3000\ndata: " + orjson.dumps(ticket) + b"\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if item is None:
                        yield b"event: gone\ndata: {}\n\n"
                        return
                    yield b"data: " + orjson.dumps(item) + b"\n\n"
            finally:
                link.close_stream(hall_id, code, q)
                link.unwatch(hall_id, code)

        return StreamingResponse(
            frames(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.post("/h/{hall_id}/t/{code}/rate")
    async def rate(hall_id: str, code: str, request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(422, "bad_request", "请求格式不正确")
        if not isinstance(body, dict):
            return _error(422, "bad_request", "请求格式不正确")
        rid, level = body.get("request_id"), body.get("level")
        reasons, comment = body.get("reasons") or [], body.get("comment") or ""
        if not isinstance(rid, str) or not REQUEST_ID.match(rid):
            return _error(422, "bad_request_id", "请求编号不正确")
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
            return _error(422, "invalid_level", "评价等级应为 1 到 5")
        if (
            not isinstance(reasons, list)
            or len(reasons) > 20
            or not all(isinstance(r, str) and len(r) <= 40 for r in reasons)
        ):
            return _error(422, "invalid_reasons", "评价原因格式不正确")
        if not isinstance(comment, str) or len(comment) > 500:
            return _error(422, "comment_too_long", "留言不能超过 500 字")
        ticket = await link.lookup(hall_id, code)
        if ticket is None:
            return _error(404, "ticket_not_found", "没有这张号票，请核对二维码")
        answer = await link.request(
            hall_id,
            "rate",
            {"code": code, "level": level, "reasons": reasons, "comment": comment},
            rid,
        )
        if answer is None:
            return _json({"request_id": rid, "pending": True}, 202)
        return _json(answer)

    @app.get("/api/v1/requests/{rid}")
    async def request_answer(rid: str) -> Response:
        if not REQUEST_ID.match(rid):
            return _error(422, "bad_request_id", "请求编号不正确")
        answer = link.answer(rid)
        if answer is None:
            return _json({"request_id": rid, "pending": True}, 202)
        return _json(answer)

    @app.get("/api/v1/halls")
    async def halls_json(request: Request) -> Response:
        key, make = listing(request)

        def render() -> bytes:
            return orjson.dumps([hall_summary(h, d) for h, d in make()])

        body = cache.get(("json", *key), render)
        return Response(body, media_type="application/json")

    @app.get("/api/v1/halls/{hall_id}")
    async def hall_json(hall_id: str) -> Response:
        h = link.state.halls.get(hall_id)
        if h is None or h.status is None:
            return _error(404, "hall_not_found", "没有这个大厅")
        return _json(hall_summary(h))

    @app.get("/api/v1/halls/{hall_id}/tickets/{code}")
    async def ticket_json(hall_id: str, code: str) -> Response:
        ticket = await link.lookup(hall_id, code)
        if ticket is None:
            return _error(404, "ticket_not_found", "没有这张号票，请核对二维码")
        return _json(ticket)

    return app

"""The web pages: staff console, hall display, window evaluator, window screen (static files,
no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent
PAGES = {
    "/staff": "staff.html",
    "/display": "display.html",
    "/evaluator": "evaluator.html",
    "/window-screen": "window-screen.html",
}

router = APIRouter(include_in_schema=False)


def _page(filename: str):  # type: ignore[no-untyped-def]
    async def serve() -> FileResponse:
        return FileResponse(WEB / filename, headers={"Cache-Control": "no-cache"})

    return serve


for _path, _file in PAGES.items():
    router.add_api_route(_path, _page(_file), methods=["GET"])


def include(app: FastAPI) -> None:
    """Mount the pages and their scripts and styles (under /web/)."""
    app.include_router(router)
    app.mount("/web", StaticFiles(directory=WEB), name="web")

"""The dashboard's pages, served by the hub from `hub/web` (every asset local, no CDN).

`/` is the monitoring room, `/wall` its camera wall, `/patrol` the patrol page for a
phone, `/zones` the zone editor and `/login` the login form; their scripts and styles are under
`/web/`. The pages hold no data: they read the API with the session cookie the
login sets, so a page without a session sends its user to `/login`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
PAGES = {"/login": "login.html", "/room": "room.html", "/patrol": "patrol.html",
         "/zones": "zones.html", "/wall": "wall.html"}  # fmt: skip
NO_STORE = {"Cache-Control": "no-cache"}

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html; charset=utf-8", headers=NO_STORE)


@router.get("/")
def room() -> FileResponse:
    return _page("room.html")


@router.get("/index.html")
def index() -> RedirectResponse:
    return RedirectResponse("/")


def _add_page(path: str, name: str) -> None:
    router.add_api_route(path, lambda: _page(name), methods=["GET"])


for _path, _name in PAGES.items():
    _add_page(_path, _name)


def mount(app: FastAPI) -> None:
    """Add the pages and their assets (`/web/…`) to the app."""
    app.include_router(router)
    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")

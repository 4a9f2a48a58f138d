"""The composition root of the API: `create_app(hub)` builds the FastAPI app.

The hub itself (pool, MQTT link, metrics, and later the camera workers) is opened
by `hub.hub.open_hub` before the app exists, so a database or broker that cannot
be reached is a clear start-up error rather than a failed lifespan, and the hub
runs the same with or without HTTP. Importing this module touches no server.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hub import __version__
from hub.api import cameras, health, site
from hub.hub import Hub


def create_app(hub: Hub) -> FastAPI:
    """The FastAPI application serving one running hub."""
    app = FastAPI(
        title="gridhub",
        version=__version__,
        summary=f"Security hub for {hub.site.site.name}",
    )
    app.state.hub = hub
    app.include_router(health.router)
    app.include_router(site.router)
    app.include_router(cameras.router)
    app.add_exception_handler(RequestValidationError, _validation_error)
    return app


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field, without echoing the input (it may hold a camera URL)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
              for e in errors]  # fmt: skip
    return JSONResponse({"detail": detail}, status_code=422)

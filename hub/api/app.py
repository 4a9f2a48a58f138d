"""The composition root of the API: `create_app(hub)` builds the FastAPI app.

The hub itself (pool, MQTT link, metrics, and later the camera workers) is opened
by `hub.hub.open_hub` before the app exists, so a database or broker that cannot
be reached is a clear start-up error rather than a failed lifespan, and the hub
runs the same with or without HTTP. Importing this module touches no server.
"""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub import __version__
from hub.api import (
    cameras,
    cases,
    contract,
    evidence,
    health,
    live,
    navigation,
    patrols,
    photos,
    review,
    search,
    session,
    site,
    web,
)
from hub.api.bodies import BodyLimit
from hub.api.proxies import TrustedProxies
from hub.api.request_metrics import RequestMetrics
from hub.hub import Hub


def create_app(hub: Hub) -> FastAPI:
    """The FastAPI application serving one running hub."""
    app = FastAPI(
        title="gridhub",
        version=__version__,
        summary=f"Security hub for {hub.site.site.name}",
    )
    app.state.hub = hub
    app.state.login_limiter = session.LoginLimiter()
    app.add_exception_handler(psycopg.DataError, _unstorable_value)
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.include_router(health.router)
    app.include_router(session.router)
    app.include_router(site.router)
    app.include_router(patrols.router)
    app.include_router(cases.router)
    app.include_router(evidence.router)
    app.include_router(review.router)
    app.include_router(search.router)
    app.include_router(photos.router)
    app.include_router(navigation.router)
    app.include_router(live.router)
    app.include_router(cameras.router)
    app.add_exception_handler(RequestValidationError, contract.validation_error)
    app.add_exception_handler(StarletteHTTPException, contract.http_error)
    contract.document(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=hub.site.api.max_body_bytes,
        uploads={"/photos": hub.site.api.max_photo_bytes * photos.MAX_PHOTOS + 65536},
    )
    app.add_middleware(RequestMetrics, counter=hub.metrics.http_requests)
    app.add_middleware(TrustedProxies, networks=hub.site.api.trusted_proxies)
    web.mount(app)
    return app


async def _unstorable_value(_request: Request, exc: Exception) -> JSONResponse:
    """A value PostgreSQL cannot take (a NUL character, a number out of range) is the
    client's mistake: 422 saying so, not a 500."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    msg = f"a value in the request cannot be used: {reason}"
    return JSONResponse({"detail": [{"loc": ["body"], "msg": msg, "type": "value_error"}]}, 422)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The database is down or overloaded: 503 with a retry hint, not a 500."""
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"}, 503, {"Retry-After": "5"}
    )

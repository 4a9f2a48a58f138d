"""Counting HTTP requests by route template and status class (`gridhub_http_requests_total`).

The route is the template (`/api/cases/{case_id}`), never the raw path, so the
series stay few; a request that matched no route (or was refused before routing,
like a body over the limit) counts under `(none)`.
"""

from __future__ import annotations

from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestMetrics:
    """ASGI middleware that counts each HTTP response once."""

    def __init__(self, app: ASGIApp, counter: Counter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            self.counter.labels(_route(scope), f"{status // 100}xx").inc()


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(none)"

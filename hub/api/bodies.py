"""Request bodies: a size limit, and parse errors that say what was wrong.

`BodyLimit` is an ASGI middleware: a request whose `Content-Length` is over
`api.max_body_bytes` is answered 413 before its body is read; a body streamed
without a length is cut off (413) as soon as it passes the limit. The message
names the limit and the setting. `body_parse_error` replaces FastAPI's bare
"There was an error parsing the body" (400) with the reason — not UTF-8, JSON
nested too deeply, a number too long — without echoing the body.
"""

from __future__ import annotations

import json

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1_048_576


class BodyTooLarge(HTTPException):
    """Raised while a body is read; FastAPI passes HTTPExceptions through as they are."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


def too_large_message(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes (api.max_body_bytes)"


class BodyLimit:
    """Refuses request bodies over `max_bytes` with 413 (`uploads`: larger limits for the
    paths ending so, e.g. photo uploads, whose routes check their own limit)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES,
        uploads: dict[str, int] | None = None,
    ) -> None:  # fmt: skip
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next((n for end, n in self.uploads.items() if path.endswith(end)), self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = JSONResponse({"detail": too_large_message(limit)}, 413)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def body_parse_error(request: Request, exc: Exception) -> Response:
    """Say why a body could not be parsed (FastAPI chains the cause); other HTTP errors
    are answered as FastAPI always does."""
    assert isinstance(exc, StarletteHTTPException)
    reason = _parse_failure(exc.__cause__) if exc.status_code == 400 else None
    if reason is None:
        return await http_exception_handler(request, exc)
    return JSONResponse({"detail": f"the request body cannot be parsed: {reason}"}, 400)


def _parse_failure(cause: BaseException | None) -> str | None:
    if isinstance(cause, UnicodeDecodeError):
        return f"it is not UTF-8 (byte {cause.object[cause.start]:#04x} at {cause.start})"
    if isinstance(cause, RecursionError):
        return "its JSON is nested too deeply"
    if isinstance(cause, json.JSONDecodeError):
        return f"it is not valid JSON ({cause.msg} at {cause.pos})"
    if isinstance(cause, ValueError):  # e.g. an integer of more than 4,300 digits
        return f"it is not usable JSON ({str(cause).split(';')[0]})"
    return None

"""The API's error contract: one error body, and an OpenAPI schema that lists every answer.

Every error is `{"detail": …}`: a sentence (`Problem`), or for 422 FastAPI's list
of `{loc, msg, type}` — also when a route refuses a value itself, so a client
reads one shape per status. `document` adds to each operation the answers the
hub's plumbing can give it: 401/403 where it takes a token, 400/413/422 where it
takes a body, 404 where its path names something, 503 when the database is
down. A 405 carries an `Allow` header listing every method of the path.
Schemathesis checks all of this against a running hub (tests/test_schemathesis.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hub.api.bodies import body_parse_error


def _iso_time(value: Any) -> Any:
    """Only an RFC 3339 time with an offset: pydantic would also take `0.5` (a Unix time)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 time, e.g. 2025-01-31T08:00:00+08:00") from None
        if parsed.tzinfo is None:
            raise ValueError("needs a time zone (e.g. Z or +08:00)")
        return parsed
    if not isinstance(value, datetime):
        raise ValueError("not an ISO 8601 time")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]


class Problem(BaseModel):
    """An error: what went wrong, in words (a workflow conflict adds what is allowed)."""

    detail: str | dict[str, Any] = Field(description="Why the request was refused.")


ERROR: dict[str, Any] = {"model": Problem, "description": "Refused, with the reason"}
_PLUMBING = {
    "401": "No token, or a token that is unknown, revoked or expired",
    "403": "The caller's role may not do this",
    "400": "The body is not JSON, or cannot be parsed",
    "413": "The body is larger than api.max_body_bytes",
    "404": "No such thing",
    "503": "The database is unavailable; try again (Retry-After)",
}
_OPTIONAL_TOKEN = {"/api/health"}  # anonymous callers get less, not 401


def document(app: FastAPI) -> None:
    """Make `app.openapi()` list the plumbing's answers for each operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 routes=app.routes)  # fmt: skip
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    _add_answers(path, operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_answers(path: str, operation: dict[str, Any]) -> None:
    codes = ["503"]
    if operation.get("security"):
        codes += ["401", "403"]
        if path in _OPTIONAL_TOKEN:
            operation["security"] = [{}, *operation["security"]]
    if "requestBody" in operation:
        codes += ["400", "413"]
    if "{" in path:
        codes.append("404")
    responses = operation.setdefault("responses", {})
    for code in codes:
        responses.setdefault(code, _problem(_PLUMBING[code]))


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


async def http_error(request: Request, exc: Exception) -> Response:
    """HTTP errors in the declared shapes: 422 as a list, 405 with the full `Allow`."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 422:
        return JSONResponse({"detail": as_validation_list(exc.detail)}, 422, exc.headers)
    if exc.status_code == 405:
        allow = ", ".join(sorted(_methods_of(request)))
        return JSONResponse({"detail": "method not allowed"}, 405, {"Allow": allow})
    if exc.status_code == 400:
        return await body_parse_error(request, exc)
    return await http_exception_handler(request, exc)


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 naming each bad field, without echoing the input (it may hold a camera URL);
    400 for a body that is not JSON at all (malformed, or sent as another media type)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    reason = _not_json(request, errors)
    if reason is not None:
        return JSONResponse({"detail": f"the request body cannot be parsed: {reason}"}, 400)
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
              for e in errors]  # fmt: skip
    return JSONResponse({"detail": detail}, status_code=422)


def _not_json(request: Request, errors: Sequence[Any]) -> str | None:
    for error in errors:
        if error.get("type") == "json_invalid":
            where = error.get("ctx", {}).get("error", "")
            return f"it is not valid JSON ({where})" if where else "it is not valid JSON"
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    json_media = media == "application/json" or media.endswith("+json")
    body_errors = any(tuple(e.get("loc", ())) == ("body",) for e in errors)
    if body_errors and not json_media:
        return f"it must be JSON (Content-Type: application/json), not {media or 'untyped'}"
    return None


def as_validation_list(detail: Any) -> list[dict[str, Any]]:
    """A route's own 422 reason(s) as FastAPI's `[{loc, msg, type}]`."""
    items = detail if isinstance(detail, list) else [detail]
    out = []
    for item in items:
        if isinstance(item, dict) and {"loc", "msg", "type"} <= item.keys():
            out.append({"loc": list(item["loc"]), "msg": str(item["msg"]), "type": item["type"]})
        else:
            out.append({"loc": ["body"], "msg": str(item), "type": "value_error"})
    return out


def _methods_of(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return methods

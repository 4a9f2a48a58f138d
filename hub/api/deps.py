"""FastAPI dependencies: the running hub, and who is calling with which role.

Every route but health and login takes one of the role aliases below (health
takes `MaybeUser`: anonymous callers get less). A token
comes as ``Authorization: Bearer …`` (devices, scripts) or as the dashboard's
session cookie; a missing or bad token is 401, a role without the right is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import PoolTimeout

from hub.auth import Principal, authenticate
from hub.errors import AuthError
from hub.hub import Hub

SESSION_COOKIE = "gridhub_session"
_bearer = HTTPBearer(auto_error=False, description="A token from `gridhub user add` or login.")


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def token_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None:
        return credentials.credentials
    return request.cookies.get(SESSION_COOKIE)


def principal_for(hub: Hub, token: str | None) -> Principal:
    """The caller of a token, or 401."""
    if not token:
        raise HTTPException(401, "authentication required", {"WWW-Authenticate": "Bearer"})
    try:
        with hub.pool.connection() as conn:
            return authenticate(conn, token, hub.clock.now())
    except AuthError as exc:
        raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None


def get_principal(
    request: Request,
    hub: HubDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return principal_for(hub, token_of(request, credentials))


def optional_principal(
    request: Request,
    hub: HubDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller, or None for a call without a token (a bad token is still 401), and
    while the database that would say whose token it is is down."""
    token = token_of(request, credentials)
    try:
        return principal_for(hub, token) if token else None
    except (psycopg.Error, PoolTimeout):
        return None


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only `roles` through (403 otherwise)."""

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"the {principal.role} role may not do this")
        return principal

    return check


AnyUser = Annotated[Principal, Depends(get_principal)]
MaybeUser = Annotated[Principal | None, Depends(optional_principal)]
Staff = Annotated[Principal, Depends(require("admin", "operator"))]
Viewer = Annotated[Principal, Depends(require("admin", "operator", "integrator"))]
Integrator = Annotated[Principal, Depends(require("admin", "integrator"))]
Reporter = Annotated[Principal, Depends(require("admin", "operator", "patrol"))]

"""Dashboard login and logout (a session cookie), and who am I."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from hub.api.deps import SESSION_COOKIE, AnyUser, HubDep, token_of
from hub.auth import SESSION_HOURS, Principal, login, logout
from hub.errors import AuthError

router = APIRouter(tags=["session"])


class LoginLimiter:
    """At most `max_failures` failed logins per client address and per user name
    in `window_s`; past that, 429 until the oldest failure ages out."""

    def __init__(self, max_failures: int = 5, window_s: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before trying again, 0 when allowed now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._failures[key]
                while failures and now - failures[0] > self.window_s:
                    failures.popleft()
                if len(failures) >= self.max_failures:
                    wait = max(wait, self.window_s - (now - failures[0]))
        return wait

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(time.monotonic())


def get_limiter(request: Request) -> LoginLimiter:
    limiter: LoginLimiter = request.app.state.login_limiter
    return limiter


class Credentials(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    name: str
    role: str
    patrol_id: str | None


@router.post("/api/login", summary="Log in with name and password; sets the session cookie")
def log_in(
    body: Credentials, request: Request, response: Response, hub: HubDep,
    limiter: Annotated[LoginLimiter, Depends(get_limiter)],
) -> Me:  # fmt: skip
    keys = (f"addr:{request.client.host if request.client else '?'}", f"name:{body.name}")
    wait = limiter.retry_after(*keys)
    if wait > 0:
        raise HTTPException(429, "too many failed logins", {"Retry-After": str(int(wait) + 1)})
    try:
        with hub.pool.connection() as conn:
            session = login(conn, body.name, body.password, hub.clock.now())
    except AuthError as exc:
        limiter.failed(*keys)
        raise HTTPException(401, str(exc)) from None
    response.set_cookie(SESSION_COOKIE, session.token, max_age=SESSION_HOURS * 3600,
                        httponly=True, samesite="strict")  # fmt: skip
    return _me(session.principal)


@router.post("/api/logout", status_code=204, summary="End the session")
def log_out(request: Request, response: Response, hub: HubDep, _user: AnyUser) -> None:
    token = token_of(request, None)
    if token:
        with hub.pool.connection() as conn:
            logout(conn, token)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/api/me", summary="Who the caller is")
def me(user: AnyUser) -> Me:
    return _me(user)


def _me(principal: Principal) -> Me:
    return Me(name=principal.name, role=principal.role, patrol_id=principal.patrol_id)

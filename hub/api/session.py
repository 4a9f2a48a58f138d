"""Dashboard login and logout (a session cookie), and who am I."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from hub.api.contract import ERROR
from hub.api.deps import SESSION_COOKIE, AnyUser, HubDep, token_of
from hub.auth import SESSION_HOURS, Principal, login, logout
from hub.errors import AuthError

router = APIRouter(tags=["session"])


@dataclass(frozen=True, slots=True)
class LoginCaps:
    """Failed logins allowed within `window_s` before 429, per key."""

    per_name_and_address: int = 5
    per_name: int = 20  # across addresses: distributed guessing of one account
    per_address: int = 100  # across names: spraying from one address
    window_s: float = 300.0


class LoginLimiter:
    """Counts failed logins per (name, address), per name and per address.

    Hammering one account from an address closes only that account from that address
    (attempts past the cap are refused before any password check and count no further),
    so a correct password of another user from the same address — a monitoring room
    behind one NAT — still logs in. A name that fails from many addresses is closed
    everywhere (`per_name`); an address that fails for many names is closed for all
    (`per_address`, set far higher: it needs a password spray over many accounts).
    """

    def __init__(self, caps: LoginCaps | None = None) -> None:
        self.caps = caps or LoginCaps()
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str) -> list[tuple[str, int]]:
        c = self.caps
        return [(f"pair:{name}\0{address}", c.per_name_and_address),
                (f"name:{name}", c.per_name), (f"addr:{address}", c.per_address)]  # fmt: skip

    def retry_after(self, name: str, address: str) -> float:
        """Seconds to wait before trying again, 0 when allowed now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key, cap in self._keys(name, address):
                failures = self._failures[key]
                while failures and now - failures[0] > self.caps.window_s:
                    failures.popleft()
                if len(failures) >= cap:
                    wait = max(wait, self.caps.window_s - (now - failures[0]))
                if not failures:
                    del self._failures[key]
        return wait

    def failed(self, name: str, address: str) -> None:
        with self._lock:
            for key, _cap in self._keys(name, address):
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


@router.post(
    "/api/login",
    summary="Log in with name and password; sets the session cookie",
    responses={
        401: {**ERROR, "description": "Wrong name or password"},
        429: {**ERROR, "description": "Too many failed logins (Retry-After)"},
    },
)
def log_in(
    body: Credentials, request: Request, response: Response, hub: HubDep,
    limiter: Annotated[LoginLimiter, Depends(get_limiter)],
) -> Me:  # fmt: skip
    keys = (body.name, request.client.host if request.client else "?")
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

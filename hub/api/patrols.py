"""Patrols as the monitoring room sees them: roster, live position, status, tracks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from hub.api.contract import IsoTime
from hub.api.deps import AnyUser, HubDep, Staff
from hub.auth import Principal
from hub.model import PatrolFix, PatrolInfo, PatrolState
from hub.storage import position_repo
from hub.storage.site_repo import list_patrols

router = APIRouter(tags=["patrols"])
MAX_TRACK_POINTS = 10_000


class Position(BaseModel):
    """A patrol's position at one time."""

    lat: float
    lon: float
    ts: datetime
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    battery_pct: float | None = None
    source: str = "native"


class PatrolView(BaseModel):
    """A patrol with its live state."""

    id: str
    name: str
    grid_id: str
    enabled: bool
    duty_status: str = Field(description="on_duty, off_duty or busy (as the device says)")
    available: bool = Field(description="Would be considered for a dispatch now.")
    last_fix: Position | None
    fix_age_s: float | None = Field(description="Seconds since the last fix was taken.")
    dispatch_id: int | None = Field(description="The dispatch it is working on, if any.")


class Track(BaseModel):
    """A patrol's stored positions in a time range, oldest first."""

    patrol_id: str
    points: list[Position]
    truncated: bool = Field(description=f"True when more than {MAX_TRACK_POINTS} points matched.")


@router.get("/api/patrols", summary="Patrols with last fix, age, status and dispatch")
def patrols(hub: HubDep, _user: Staff) -> list[PatrolView]:
    with hub.pool.connection() as conn:
        roster = list_patrols(conn)
    return [_view(hub, p, hub.patrols.get(p.id)) for p in roster]


@router.get("/api/patrols/{patrol_id}", summary="One patrol with its live state")
def patrol(hub: HubDep, user: AnyUser, patrol_id: str) -> PatrolView:
    _self_or_staff(user, patrol_id)
    with hub.pool.connection() as conn:
        roster = {p.id: p for p in list_patrols(conn)}
    if patrol_id not in roster:
        raise HTTPException(404, f"no patrol {patrol_id}")
    return _view(hub, roster[patrol_id], hub.patrols.get(patrol_id))


@router.get("/api/patrols/{patrol_id}/track", summary="Stored positions in a time range")
def track(
    hub: HubDep,
    user: AnyUser,
    patrol_id: str,
    since: Annotated[
        IsoTime | None, Query(description="Start (ISO 8601); default 1 h ago.")
    ] = None,
    until: Annotated[IsoTime | None, Query(description="End (ISO 8601); default now.")] = None,
) -> Track:
    _self_or_staff(user, patrol_id)
    until = until or hub.clock.now()
    since = since or until - timedelta(hours=1)
    if since.tzinfo is None or until.tzinfo is None:
        raise HTTPException(422, "since and until need a time zone (e.g. Z or +08:00)")
    if since > until:
        raise HTTPException(422, "since must not be after until")
    if hub.patrols.get(patrol_id) is None:
        raise HTTPException(404, f"no patrol {patrol_id}")
    with hub.pool.connection() as conn:
        fixes = position_repo.track(conn, patrol_id, since, until, MAX_TRACK_POINTS + 1)
    points = [_position(fix) for fix in fixes]
    return Track(
        patrol_id=patrol_id,
        points=points[:MAX_TRACK_POINTS],
        truncated=len(points) > MAX_TRACK_POINTS,
    )


def _self_or_staff(user: Principal, patrol_id: str) -> None:
    """Staff see every patrol; a patrol user only itself."""
    if user.role in ("admin", "operator"):
        return
    if user.role != "patrol" or user.patrol_id != patrol_id:
        raise HTTPException(403, "you may see only your own patrol")


def _view(hub: HubDep, info: PatrolInfo, state: PatrolState | None) -> PatrolView:
    fix = state.fix if state else None
    now = hub.clock.now()
    age = (now - fix.ts).total_seconds() if fix else None
    return PatrolView(
        id=info.id,
        name=info.name,
        grid_id=info.grid_id,
        enabled=info.enabled,
        duty_status=state.duty_status if state else info.duty_status,
        available=hub.patrols.available(info.id),
        last_fix=_position(fix) if fix else None,
        fix_age_s=age,
        dispatch_id=state.dispatch_id if state else None,
    )


def _position(fix: PatrolFix) -> Position:
    return Position(
        lat=fix.lat,
        lon=fix.lon,
        ts=fix.ts,
        accuracy_m=fix.accuracy_m,
        speed_mps=fix.speed_mps,
        heading_deg=fix.heading_deg,
        battery_pct=fix.battery_pct,
        source=fix.source,
    )

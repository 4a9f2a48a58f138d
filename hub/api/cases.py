"""Grid cases over HTTP: list, detail, manual reports, workflow actions, export, stats."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from hub.api.contract import ERROR, IsoTime
from hub.api.deps import AnyUser, HubDep, Reporter, Staff
from hub.auth import Principal
from hub.cases.queries import (
    GROUPS,
    CaseFilter,
    DispatchEntry,
    EventEntry,
    case_dispatches,
    case_events,
    list_cases,
    patrol_sees,
    stats,
)
from hub.cases.store import CaseRow, NewCase, get_case, merge_details, open_case
from hub.cases.workflow import CaseAction, allowed_actions, apply
from hub.errors import CaseError, PayloadError, TransitionError
from hub.patrols.payloads import Reply
from hub.storage.alert_repo import AlertRow, case_alerts
from hub.storage.site_repo import grid_exists, patrol_grid

router = APIRouter(tags=["cases"])
Conn = psycopg.Connection[Any]
MAX_PAGE = 500
CaseState = Literal["reported", "accepted", "dispatched", "arrived", "resolved", "escalated",
                    "closed", "evaluated", "rejected"]  # fmt: skip


class CaseView(BaseModel):
    """A case as the monitoring room sees it."""

    id: int
    kind: str
    state: str
    severity: int
    title: str
    grid_id: str | None
    camera_id: str | None
    sensor_id: str | None
    lat: float | None
    lon: float | None
    escalation_level: int
    opened_at: datetime
    updated_at: datetime
    accept_deadline: datetime | None
    arrive_deadline: datetime | None
    details: dict[str, Any]


class CasePage(BaseModel):
    items: list[CaseView]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next (older) page.")


class AlertView(BaseModel):
    """One alert of a case."""

    id: int
    ts: datetime
    kind: str = Field(description="The scenario; `<kind>_cleared` for a clearing alert.")
    camera_id: str | None
    sensor_id: str | None
    confidence: float | None
    details: dict[str, Any]

    @classmethod
    def of(cls, row: AlertRow) -> AlertView:
        return cls(
            id=row.id,
            ts=row.ts,
            kind=row.label,
            camera_id=row.camera_id,
            sensor_id=row.sensor_id,
            confidence=row.confidence,
            details=row.details,
        )


class CaseDetail(CaseView):
    events: list[EventEntry]
    dispatches: list[DispatchEntry]
    alerts: list[AlertView]
    allowed_actions: list[str] = Field(description="What the caller may do next.")


class ManualReport(BaseModel):
    """A case reported by hand: a resident's call, a grid member's own finding."""

    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="manual", min_length=1, max_length=64)
    lat: float = Field(ge=-90, le=90, strict=True)
    lon: float = Field(ge=-180, le=180, strict=True)
    grid_id: str | None = Field(default=None, description="Default: the grid holding lat/lon.")
    severity: int | None = Field(default=None, ge=1, le=4, strict=True)
    description: str | None = Field(default=None, max_length=4000)


class ActionRequest(BaseModel):
    """One workflow step."""

    action: str = Field(min_length=1, max_length=32, description="accept, dispatch, reject, …")
    note: str | None = Field(default=None, max_length=4000)
    score: int | None = Field(
        default=None, ge=1, le=5, strict=True, description="For evaluate: 1–5."
    )
    department: str | None = Field(default=None, max_length=200, description="For handoff.")


class PatrolReply(BaseModel):
    action: Literal["accept", "decline", "arrive", "resolve"]
    note: str | None = Field(default=None, max_length=2000)


def _view(case: CaseRow) -> CaseView:
    return CaseView.model_validate(case, from_attributes=True)


class CaseQuery(BaseModel):
    """Filters of the case list and export."""

    state: list[CaseState] | None = Field(default=None, description="Repeat for several states.")
    grid: str | None = Field(default=None, description="Grid id.")
    kind: str | None = Field(default=None, description="Scenario, e.g. fire_lane.")
    since: IsoTime | None = Field(default=None, description="Opened at or after (ISO 8601).")
    until: IsoTime | None = Field(default=None, description="Opened before (ISO 8601).")
    overdue: bool = Field(default=False, description="Only cases past a deadline now.")
    cursor: int | None = Field(default=None, ge=1, description="next_cursor of the last page.")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE, description="Page size.")


def _filter(user: Principal, q: CaseQuery, now: datetime) -> CaseFilter:
    for value in (q.since, q.until):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, "since and until need a time zone (e.g. Z or +08:00)")
    return CaseFilter(
        states=tuple(q.state or ()), grid_id=q.grid, kind=q.kind, since=q.since, until=q.until,
        overdue_at=now if q.overdue else None,
        patrol_id=user.patrol_id if user.role == "patrol" else None, before_id=q.cursor,
    )  # fmt: skip


Filters = Annotated[CaseQuery, Query()]
SinceQ = Annotated[IsoTime | None, Query(description="From (ISO 8601); default 30 days ago.")]
UntilQ = Annotated[IsoTime | None, Query(description="Until (ISO 8601); default now.")]


@router.get("/api/cases", summary="Cases, newest first, with filters and a cursor")
def cases(hub: HubDep, user: Reporter, q: Filters) -> CasePage:
    f = _filter(user, q, hub.clock.now())
    with hub.pool.connection() as conn:
        rows = list_cases(conn, f, q.limit)
    next_cursor = rows[-1].id if len(rows) == q.limit else None
    return CasePage(items=[_view(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/api/cases/export.csv",
    summary="The filtered cases as CSV (up to 100,000)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(hub: HubDep, user: Staff, q: Filters) -> Response:
    f = replace(_filter(user, q, hub.clock.now()), before_id=None)
    with hub.pool.connection() as conn:
        rows = list_cases(conn, f, 100_000)
    out = io.StringIO()
    columns = ["id", "kind", "state", "severity", "title", "grid_id", "camera_id", "sensor_id",
               "lat", "lon", "escalation_level", "opened_at", "updated_at"]  # fmt: skip
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([getattr(row, c) for c in columns])
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM, so spreadsheet programs read the Chinese right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cases.csv"'},
    )


@router.get("/api/cases/{case_id}", summary="A case with its audit log, dispatches and alerts")
def case_detail(hub: HubDep, user: Reporter, case_id: int) -> CaseDetail:
    with hub.pool.connection() as conn:
        case = visible_case(conn, user, case_id)
        detail = CaseDetail(
            **_view(case).model_dump(),
            events=case_events(conn, case_id),
            dispatches=case_dispatches(conn, case_id),
            alerts=[AlertView.of(a) for a in case_alerts(conn, case_id)],
            allowed_actions=allowed_actions(case.state, user.role),
        )
    return detail


def visible_case(conn: Conn, user: Principal, case_id: int) -> CaseRow:
    """The case, if this user may see it (404 otherwise, also for other patrols' cases)."""
    try:
        case = get_case(conn, case_id)
    except CaseError:
        raise HTTPException(404, f"no case {case_id}") from None
    if user.role == "patrol" and not patrol_sees(conn, case_id, user.patrol_id):
        raise HTTPException(404, f"no case {case_id}")
    return case


PATROL_REPORT = "patrol_report"  # 现场上报: what a patrol's report always is


@router.post("/api/cases", status_code=201, summary="Report a case by hand")
def report_case(hub: HubDep, user: Reporter, body: ManualReport) -> CaseView:
    """Staff report any kind, grid and severity. A patrol's report is a `patrol_report`
    in the patrol's own grid with that kind's severity, whatever the body says (staff
    change it afterwards); the patrol can read it as it reads its dispatches."""
    details: dict[str, Any] = {"description": body.description, "reported_by": user.name}
    with hub.pool.connection() as conn:
        if user.role == "patrol":
            kind, severity, grid_id = PATROL_REPORT, None, patrol_grid(conn, user.patrol_id)
            details["reported_by_patrol"] = user.patrol_id
        else:
            kind, severity = body.kind, body.severity
            grid_id = body.grid_id or hub.grids.locate(body.lat, body.lon)
        severity = severity or hub.cases.scenarios.rules(kind).severity
        new = NewCase(kind=kind, title=body.title, severity=severity, grid_id=grid_id,
                      lat=body.lat, lon=body.lon, details=details)  # fmt: skip
        if grid_id is not None and not grid_exists(conn, grid_id):
            raise HTTPException(422, f"no grid {grid_id}")
        accept_s = hub.site.deadlines(kind, grid_id)[0]
        case_id = open_case(conn, new, hub.clock.now(), user.name, accept_s)
        conn.commit()
        return _view(get_case(conn, case_id))


@router.post(
    "/api/cases/{case_id}/transitions",
    summary="Take a workflow action (409 with the allowed actions when it does not fit)",
    responses={409: {**ERROR, "description": "Not allowed from this state for this role"}},
)
def transition(hub: HubDep, user: Staff, case_id: int, body: ActionRequest) -> CaseDetail:
    if body.action == "dispatch":
        _dispatch(hub, user, case_id)
    else:
        _apply(hub, user, case_id, body)
    return case_detail(hub, user, case_id)


def _dispatch(hub: HubDep, user: Principal, case_id: int) -> None:
    with hub.pool.connection() as conn:
        case = visible_case(conn, user, case_id)
    if case.state not in ("accepted", "escalated"):
        allowed = allowed_actions(case.state, user.role)
        raise HTTPException(409, {"detail": f"cannot dispatch a case in state {case.state}",
                                  "allowed": allowed})  # fmt: skip
    hub.dispatcher.dispatch(case_id, user.name, user.role)


def _apply(hub: HubDep, user: Principal, case_id: int, body: ActionRequest) -> None:
    note = body.note
    if body.action == "handoff":
        if not body.department:
            raise HTTPException(422, "handoff needs a department")
        note = f"handed to {body.department}" + (f": {note}" if note else "")
    if body.action == "evaluate" and body.score is None:
        raise HTTPException(422, "evaluate needs a score from 1 to 5")
    try:
        with hub.pool.connection() as conn, conn.transaction():
            visible_case(conn, user, case_id)
            apply(conn, CaseAction(case_id, body.action, user.name, user.role, note),
                  hub.clock.now())  # fmt: skip
            extra: dict[str, Any] = {"score": body.score} if body.score else {}
            if body.department:
                extra["department"] = body.department
            if extra:
                merge_details(conn, case_id, extra)
    except TransitionError as exc:
        raise HTTPException(409, {"detail": str(exc), "allowed": exc.allowed}) from None
    if body.action in ("reject", "close"):
        hub.dispatcher.cancel_live(case_id)


@router.post(
    "/api/dispatches/{dispatch_id}/reply",
    summary="A patrol answers its dispatch",
    responses={409: {**ERROR, "description": "The dispatch is not in a state for this answer"}},
)
def patrol_reply(hub: HubDep, user: AnyUser, dispatch_id: int, body: PatrolReply) -> dict[str, str]:
    if user.role != "patrol" or user.patrol_id is None:
        raise HTTPException(403, "only a patrol answers its dispatches")
    try:
        hub.dispatcher.handle_reply(user.patrol_id, Reply(dispatch_id, body.action, body.note))
    except PayloadError as exc:
        status = 404 if exc.reason == "unknown_dispatch" else 409
        raise HTTPException(status, exc.detail) from None
    return {"status": "ok"}


@router.get("/api/stats/cases", summary="Cases, response times, SLA compliance, false alarms")
def case_stats(
    hub: HubDep, _user: Staff,
    group: Annotated[Literal["grid", "kind", "camera", "grid_kind"], Query()] = "grid",
    since: SinceQ = None, until: UntilQ = None,
) -> list[dict[str, Any]]:  # fmt: skip
    until = until or hub.clock.now()
    since = since or until - timedelta(days=30)
    if since.tzinfo is None or until.tzinfo is None:
        raise HTTPException(422, "since and until need a time zone (e.g. Z or +08:00)")
    assert group in GROUPS
    with hub.pool.connection() as conn:
        return stats(conn, group, since, until, hub.site.sla.accept_s)

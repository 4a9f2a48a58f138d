"""Alert review over HTTP: the queue, one-click accept / reject with a reason / dispatch,
and the false-alarm statistics per camera and detector.

`GET /api/review/queue` lists the cases waiting for a verdict, newest first, each with
its first snapshot's URL and the patrol a dispatch would go to now (with the distance).
`POST /api/review/{id}/reject` takes a reason from `GET /api/review/reasons`;
`POST /api/review/{id}/dispatch` accepts a reported case and dispatches it in one step.
The workflow itself stays in `hub.cases.workflow`: these are shortcuts over it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from hub.api.cases import CaseDetail, CaseView, SinceQ, UntilQ, case_detail, visible_case
from hub.api.contract import ERROR
from hub.api.deps import HubDep, Staff
from hub.auth import Principal
from hub.cases.review import (
    REJECT_REASONS,
    Rejection,
    false_alarm_stats,
    first_snapshots,
    queue,
    reject,
)
from hub.cases.store import CaseRow
from hub.cases.workflow import CaseAction, allowed_actions, apply
from hub.errors import TransitionError
from hub.hub import Hub

router = APIRouter(tags=["review"])
CONFLICT: dict[str, Any] = {**ERROR, "description": "Not allowed from this state for this role"}
ReasonCode = Literal["light", "animal", "weather", "shake", "authorised", "duplicate", "other"]
assert set(get_args(ReasonCode)) == set(REJECT_REASONS)


class Suggestion(BaseModel):
    """The patrol a dispatch would go to now."""

    patrol_id: str
    distance_m: float
    tier: int = Field(description="0 own grid, 1 neighbouring grid, 2 community, 3 in range.")


class ReviewItem(CaseView):
    snapshot_url: str | None = Field(description="The case's first snapshot, if one was written.")
    suggestion: Suggestion | None = Field(description="None: no patrol available in range.")


class RejectRequest(BaseModel):
    reason: ReasonCode = Field(description="Why it is a false alarm; see /api/review/reasons.")
    note: str | None = Field(default=None, max_length=2000)


def _suggest(hub: Hub, case: CaseRow) -> Suggestion | None:
    if case.lat is None or case.lon is None:
        return None
    found = hub.patrols.nearest(case.lat, case.lon, case.grid_id, k=1)
    if not found:
        return None
    best = found[0]
    return Suggestion(patrol_id=best.patrol_id, distance_m=round(best.distance_m), tier=best.tier)


@router.get("/api/review/queue", summary="Cases waiting for a verdict, newest first")
def review_queue(
    hub: HubDep, _user: Staff, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ReviewItem]:
    with hub.pool.connection() as conn:
        cases = queue(conn, limit)
        snaps = first_snapshots(conn, [c.id for c in cases])
    return [
        ReviewItem(
            **CaseView.model_validate(c, from_attributes=True).model_dump(),
            snapshot_url=f"/api/cases/{c.id}/evidence/{snaps[c.id]}" if c.id in snaps else None,
            suggestion=_suggest(hub, c),
        )
        for c in cases
    ]


@router.get("/api/review/reasons", summary="The false-alarm reasons (code: 中文 / English)")
def reasons(_user: Staff) -> dict[str, str]:
    return REJECT_REASONS


def _transition(hub: Hub, user: Principal, case_id: int, step: Any) -> None:
    try:
        with hub.pool.connection() as conn, conn.transaction():
            visible_case(conn, user, case_id)
            step(conn, hub.clock.now())
    except TransitionError as exc:
        raise HTTPException(409, {"detail": str(exc), "allowed": exc.allowed}) from None


@router.post(
    "/api/review/{case_id}/reject",
    summary="误报: reject with a reason (409 with the allowed actions when it does not fit)",
    responses={409: CONFLICT},
)
def reject_case(hub: HubDep, user: Staff, case_id: int, body: RejectRequest) -> CaseDetail:
    rejection = Rejection(case_id, body.reason, user.name, user.role, body.note)
    _transition(hub, user, case_id, lambda conn, now: reject(conn, rejection, now))
    hub.dispatcher.cancel_live(case_id)
    return case_detail(hub, user, case_id)


@router.post(
    "/api/review/{case_id}/dispatch",
    summary="派遣: accept (if new) and dispatch (409 with the allowed actions if it does not fit)",
    responses={409: CONFLICT},
)
def accept_and_dispatch(hub: HubDep, user: Staff, case_id: int) -> CaseDetail:
    with hub.pool.connection() as conn:
        state = visible_case(conn, user, case_id).state
    if state == "reported":
        action = CaseAction(case_id, "accept", user.name, user.role, "accepted to dispatch")
        _transition(hub, user, case_id, lambda conn, now: apply(conn, action, now))
    elif state not in ("accepted", "escalated"):
        allowed = allowed_actions(state, user.role)
        raise HTTPException(409, {"detail": f"cannot dispatch a case in state {state}",
                                  "allowed": allowed})  # fmt: skip
    hub.dispatcher.dispatch(case_id, user.name, user.role)
    return case_detail(hub, user, case_id)


@router.get("/api/stats/false-alarms", summary="False alarms per camera/sensor and detector")
def false_alarms(
    hub: HubDep, _user: Staff, since: SinceQ = None, until: UntilQ = None
) -> list[dict[str, Any]]:
    until = until or hub.clock.now()
    since = since or until - timedelta(days=30)
    if since >= until:
        raise HTTPException(422, {"loc": ["query", "since"], "msg": "must be before until",
                                  "type": "value_error"})  # fmt: skip
    with hub.pool.connection() as conn:
        return false_alarm_stats(conn, since, until)

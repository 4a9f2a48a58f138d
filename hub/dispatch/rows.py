"""Stored dispatches, and the message a patrol's device receives for one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from hub.cases.store import CaseRow

Conn = psycopg.Connection[Any]
# A dispatch in these states holds its case and its patrol (one per case, one per patrol).
LIVE = ["pending", "sent", "accepted", "arrived"]


@dataclass(frozen=True, slots=True)
class DispatchRow:
    """A stored dispatch."""

    id: int
    case_id: int
    patrol_id: str
    attempt: int
    state: str
    payload: dict[str, Any]
    created_at: datetime
    published_at: datetime | None
    deadline: datetime
    answered_at: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class DispatchRef:
    """Which case and patrol a dispatch is for, and where it stands."""

    id: int
    case_id: int
    patrol_id: str
    state: str


DISPATCH_COLUMNS = (
    "id, case_id, patrol_id, attempt, state, payload, created_at, published_at, deadline,"
    " answered_at, note"
)


def dispatches_of(conn: Conn, case_id: int) -> list[DispatchRow]:
    """A case's dispatches, first attempt first."""
    with conn.cursor(row_factory=class_row(DispatchRow)) as cur:
        return cur.execute(
            f"SELECT {DISPATCH_COLUMNS} FROM dispatches WHERE case_id = %s ORDER BY attempt",
            (case_id,),
        ).fetchall()


def dispatches_in(conn: psycopg.Connection[Any], states: tuple[str, ...]) -> list[DispatchRow]:
    """Every dispatch in one of `states`, oldest first."""
    with conn.cursor(row_factory=class_row(DispatchRow)) as cur:
        return cur.execute(
            f"SELECT {DISPATCH_COLUMNS} FROM dispatches WHERE state = ANY(%s) ORDER BY id",
            (list(states),),
        ).fetchall()


def dispatch_payload(
    case: CaseRow, dispatch_id: int, patrol_id: str, attempt: int, deadline: datetime
) -> dict[str, Any]:
    """What the patrol's device receives."""
    return {
        "dispatch_id": dispatch_id,
        "case_id": case.id,
        "patrol_id": patrol_id,
        "attempt": attempt,
        "kind": case.kind,
        "summary": case.title,
        "severity": case.severity,
        "grid_id": case.grid_id,
        "location": {"lat": case.lat, "lon": case.lon},
        "evidence_url": f"/api/cases/{case.id}/evidence",
        "accept_by": deadline.isoformat(),
        "reply_topic": f"gridhub/patrols/{patrol_id}/reply",
    }

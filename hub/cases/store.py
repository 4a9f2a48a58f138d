"""Opening cases and reading them back (the state machine is in workflow.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from hub.cases.workflow import OPEN_STATES
from hub.errors import CaseError
from hub.storage import rows


@dataclass(frozen=True, slots=True)
class NewCase:
    """What is known when a case is reported."""

    kind: str
    title: str
    severity: int = 2
    grid_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    camera_id: str | None = None
    sensor_id: str | None = None
    dedupe_key: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A stored case."""

    id: int
    kind: str
    state: str
    severity: int
    grid_id: str | None
    camera_id: str | None
    sensor_id: str | None
    lat: float | None
    lon: float | None
    title: str
    details: dict[str, Any]
    dedupe_key: str | None
    escalation_level: int
    opened_at: datetime
    updated_at: datetime
    accept_deadline: datetime | None
    arrive_deadline: datetime | None


@dataclass(frozen=True, slots=True)
class Overdue:
    """A case past one of its deadlines, as the SLA monitor needs it."""

    id: int
    kind: str
    grid_id: str | None
    escalation_level: int


CASE_COLUMNS = (
    "id, kind, state, severity, grid_id, camera_id, sensor_id, lat, lon, title, details,"
    " dedupe_key, escalation_level, opened_at, updated_at, accept_deadline, arrive_deadline"
)


def open_case(
    conn: psycopg.Connection[Any], new: NewCase, at: datetime, actor: str, accept_s: float
) -> int:
    """Insert a reported case and its first audit event; return its id."""
    case_id = int(rows.scalar(
        conn,
        """INSERT INTO cases (kind, state, severity, grid_id, camera_id, sensor_id, lat, lon,
               title, details, dedupe_key, opened_at, updated_at, accept_deadline)
           VALUES (%s, 'reported', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           RETURNING id""",
        (new.kind, new.severity, new.grid_id, new.camera_id, new.sensor_id, new.lat, new.lon,
         new.title, json.dumps(new.details, ensure_ascii=False), new.dedupe_key, at, at,
         at + timedelta(seconds=accept_s)),
    ))  # fmt: skip
    conn.execute(
        """INSERT INTO case_events (case_id, at, actor, action, from_state, to_state)
           VALUES (%s, %s, %s, 'report', NULL, 'reported')""",
        (case_id, at, actor),
    )
    return case_id


def get_case(conn: psycopg.Connection[Any], case_id: int, *, lock: bool = False) -> CaseRow:
    """A case by id (locked for the caller's transaction with `lock`), or `CaseError`."""
    query = f"SELECT {CASE_COLUMNS} FROM cases WHERE id = %s" + (" FOR UPDATE" if lock else "")
    row = rows.one(conn, CaseRow, query, (case_id,))
    if row is None:
        raise CaseError(f"no case {case_id}")
    return row


def case_kind(conn: psycopg.Connection[Any], case_id: int) -> str | None:
    """A case's scenario, or None when there is no such case."""
    kind = rows.scalar(conn, "SELECT kind FROM cases WHERE id = %s", (case_id,))
    return None if kind is None else str(kind)


def merge_details(conn: psycopg.Connection[Any], case_id: int, extra: dict[str, Any]) -> None:
    """Add `extra`'s keys to the case's details (a score, a department), replacing old ones."""
    conn.execute(
        "UPDATE cases SET details = details || %s::jsonb WHERE id = %s",
        (json.dumps(extra, ensure_ascii=False), case_id),
    )


def matching_case(
    conn: psycopg.Connection[Any], dedupe_key: str, closed_since: datetime | None
) -> int | None:
    """The newest case with this de-duplication key that is open, or (with `closed_since`)
    was last updated at or after that time; locked for the caller's transaction."""
    case_id = rows.scalar(
        conn,
        """SELECT id FROM cases WHERE dedupe_key = %s
             AND (state = ANY(%s) OR updated_at >= %s)
           ORDER BY id DESC LIMIT 1 FOR UPDATE""",
        (dedupe_key, sorted(OPEN_STATES), closed_since),
    )
    return None if case_id is None else int(case_id)


def count_alert(conn: psycopg.Connection[Any], case_id: int, at: datetime) -> None:
    """Note one more alert on the case: `alert_count` and `last_alert_at` in its details."""
    conn.execute(
        """UPDATE cases SET details = details || jsonb_build_object(
               'alert_count', coalesce((details->>'alert_count')::int, 0) + 1,
               'last_alert_at', %s::text)
           WHERE id = %s""",
        (at.isoformat(), case_id),
    )


# The deadline columns a caller may name; never user input, but checked all the same.
DEADLINE_COLUMNS = frozenset({"accept_deadline", "arrive_deadline", "dispatch_deadline"})


def overdue_case(
    conn: psycopg.Connection[Any], column: str, state: str, now: datetime
) -> Overdue | None:
    """The case in `state` whose `column` deadline passed longest ago, locked (cases other
    hubs hold are skipped), or None."""
    assert column in DEADLINE_COLUMNS
    return rows.one(
        conn,
        Overdue,
        f"""SELECT id, kind, grid_id, escalation_level FROM cases
            WHERE state = %s AND {column} < %s
            ORDER BY {column} LIMIT 1 FOR UPDATE SKIP LOCKED""",
        (state, now),
    )


def set_escalation(
    conn: psycopg.Connection[Any], case_id: int, level: int, column: str,
    deadline: datetime | None,
) -> None:  # fmt: skip
    """Record the case's new escalation rung and its next `column` deadline."""
    assert column in DEADLINE_COLUMNS
    conn.execute(
        f"UPDATE cases SET escalation_level = %s, {column} = %s WHERE id = %s",
        (level, deadline, case_id),
    )


def track_dispatch_deadlines(conn: psycopg.Connection[Any], dispatch_s: float) -> None:
    """Give each accepted case a dispatch deadline (`dispatch_s` after it was accepted,
    from the audit log), and take it from cases that left `accepted`."""
    conn.execute(
        """UPDATE cases c SET dispatch_deadline = (
               SELECT max(e.at) FROM case_events e
               WHERE e.case_id = c.id AND e.to_state = 'accepted') + make_interval(secs => %s)
           WHERE c.state = 'accepted' AND c.dispatch_deadline IS NULL""",
        (dispatch_s,),
    )
    conn.execute(
        "UPDATE cases SET dispatch_deadline = NULL"
        " WHERE state <> 'accepted' AND dispatch_deadline IS NOT NULL"
    )

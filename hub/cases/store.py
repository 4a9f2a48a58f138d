"""Opening cases and reading them back (the state machine is in workflow.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row

from hub.errors import CaseError


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


CASE_COLUMNS = (
    "id, kind, state, severity, grid_id, camera_id, sensor_id, lat, lon, title, details,"
    " dedupe_key, escalation_level, opened_at, updated_at, accept_deadline, arrive_deadline"
)


def open_case(
    conn: psycopg.Connection[Any], new: NewCase, at: datetime, actor: str, accept_s: float
) -> int:
    """Insert a reported case and its first audit event; return its id."""
    row = conn.execute(
        """INSERT INTO cases (kind, state, severity, grid_id, camera_id, sensor_id, lat, lon,
               title, details, dedupe_key, opened_at, updated_at, accept_deadline)
           VALUES (%s, 'reported', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           RETURNING id""",
        (new.kind, new.severity, new.grid_id, new.camera_id, new.sensor_id, new.lat, new.lon,
         new.title, json.dumps(new.details, ensure_ascii=False), new.dedupe_key, at, at,
         at + timedelta(seconds=accept_s)),
    ).fetchone()  # fmt: skip
    assert row is not None
    case_id = int(row[0])
    conn.execute(
        """INSERT INTO case_events (case_id, at, actor, action, from_state, to_state)
           VALUES (%s, %s, %s, 'report', NULL, 'reported')""",
        (case_id, at, actor),
    )
    return case_id


def get_case(conn: psycopg.Connection[Any], case_id: int, *, lock: bool = False) -> CaseRow:
    """A case by id (locked for the caller's transaction with `lock`), or `CaseError`."""
    query = f"SELECT {CASE_COLUMNS} FROM cases WHERE id = %s" + (" FOR UPDATE" if lock else "")
    with conn.cursor(row_factory=class_row(CaseRow)) as cur:
        row = cur.execute(query, (case_id,)).fetchone()
    if row is None:
        raise CaseError(f"no case {case_id}")
    return row

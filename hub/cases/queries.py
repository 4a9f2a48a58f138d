"""Reading cases for the API: filtered lists with cursor pagination, detail, statistics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from hub.cases.store import CASE_COLUMNS, CaseRow
from hub.storage import rows

Conn = psycopg.Connection[Any]
# The cases a patrol user sees (two parameters, both the patrol id): those ever
# dispatched to it and those it reported itself.
PATROL_SEES = (
    "(id IN (SELECT case_id FROM dispatches WHERE patrol_id = %s)"
    " OR details->>'reported_by_patrol' = %s)"
)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """What `GET /api/cases` narrows by; None means any."""

    states: tuple[str, ...] = ()
    grid_id: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    overdue_at: datetime | None = None  # only cases past a deadline at this time
    patrol_id: str | None = None  # only cases dispatched to (or reported by) this patrol
    before_id: int | None = None  # the cursor: cases older than this id
    camera_id: str | None = None
    text: str | None = None  # in the title or details (case-insensitive), or the case id
    text_kinds: tuple[str, ...] = ()  # scenarios whose name matches `text`: they match too


def _where(f: CaseFilter) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list[Any] = []
    for clause, values in _clauses(f):
        clauses.append(sql.SQL(clause))  # constant SQL: the values go as parameters
        params.extend(values)
    return sql.SQL(" AND ").join(clauses), params


OVERDUE = ("((state = 'reported' AND accept_deadline < %s)"
           " OR (state = 'accepted' AND dispatch_deadline < %s)"
           " OR (state = 'dispatched' AND arrive_deadline < %s))")  # fmt: skip
TEXT = "(title ILIKE %s OR details::text ILIKE %s OR id::text = %s OR kind = ANY(%s))"


def _clauses(f: CaseFilter) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The SQL condition and its values of each filter that is set."""
    simple = (("state = ANY(%s)", list(f.states) if f.states else None),
              ("grid_id = %s", f.grid_id), ("kind = %s", f.kind), ("camera_id = %s", f.camera_id),
              ("opened_at >= %s", f.since), ("opened_at < %s", f.until),
              ("id < %s", f.before_id))  # fmt: skip
    for clause, value in simple:
        if value:
            yield clause, (value,)
    if f.patrol_id:
        yield PATROL_SEES, (f.patrol_id, f.patrol_id)
    if f.overdue_at:
        yield OVERDUE, (f.overdue_at, f.overdue_at, f.overdue_at)
    if f.text:
        like = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        yield TEXT, (like, like, f.text.strip(), list(f.text_kinds))


def list_cases(conn: Conn, f: CaseFilter, limit: int) -> list[CaseRow]:
    """Newest first; pass the last id as `before_id` for the next page."""
    where, params = _where(f)
    query = sql.SQL("SELECT {} FROM cases WHERE {} ORDER BY id DESC LIMIT %s").format(
        sql.SQL(CASE_COLUMNS), where
    )
    return rows.many(conn, CaseRow, query, [*params, limit])


def count_cases(conn: Conn, f: CaseFilter) -> int:
    """How many cases match (the cursor ignored)."""
    where, params = _where(replace(f, before_id=None))
    query = sql.SQL("SELECT count(*) FROM cases WHERE {}").format(where)
    return int(rows.scalar(conn, query, params) or 0)


@dataclass(frozen=True, slots=True)
class EventEntry:
    """One line of a case's audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    note: str | None


@dataclass(frozen=True, slots=True)
class DispatchEntry:
    """One dispatch of a case as its detail shows it."""

    id: int
    patrol_id: str
    attempt: int
    state: str
    created_at: datetime
    published_at: datetime | None
    deadline: datetime
    answered_at: datetime | None
    note: str | None


def case_events(conn: Conn, case_id: int) -> list[EventEntry]:
    return rows.many(
        conn,
        EventEntry,
        """SELECT id, at, actor, action, from_state, to_state, note FROM case_events
           WHERE case_id = %s ORDER BY id""",
        (case_id,),
    )


def case_dispatches(conn: Conn, case_id: int) -> list[DispatchEntry]:
    return rows.many(
        conn,
        DispatchEntry,
        """SELECT id, patrol_id, attempt, state, created_at, published_at, deadline,
                  answered_at, note FROM dispatches WHERE case_id = %s ORDER BY attempt""",
        (case_id,),
    )


def patrol_sees(conn: Conn, case_id: int, patrol_id: str | None) -> bool:
    """Whether a patrol user may see the case: it was ever dispatched to the patrol, or
    the patrol reported it."""
    query = "SELECT 1 FROM cases WHERE id = %s AND " + PATROL_SEES
    return rows.exists(conn, query, (case_id, patrol_id, patrol_id))


STATS_SQL = """
WITH firsts AS (
  SELECT case_id,
    min(at) FILTER (WHERE action = 'accept') AS accepted_at,
    min(at) FILTER (WHERE action = 'dispatch') AS dispatched_at,
    min(at) FILTER (WHERE action = 'arrive') AS arrived_at,
    min(at) FILTER (WHERE action = 'resolve') AS resolved_at
  FROM case_events GROUP BY case_id
), c AS (
  SELECT cases.*, f.accepted_at, f.dispatched_at, f.arrived_at, f.resolved_at
  FROM cases JOIN firsts f ON f.case_id = cases.id
  WHERE opened_at >= %(since)s AND opened_at < %(until)s
)
SELECT {group} AS key, count(*) AS cases,
  count(*) FILTER (WHERE state = 'rejected') AS false_alarms,
  count(*) FILTER (WHERE state IN ('closed', 'evaluated')) AS closed,
  avg(extract(epoch FROM accepted_at - opened_at)) AS accept_s_avg,
  avg(extract(epoch FROM arrived_at - dispatched_at)) AS arrive_s_avg,
  avg(extract(epoch FROM resolved_at - opened_at)) AS resolve_s_avg,
  count(*) FILTER (WHERE accepted_at IS NOT NULL
                   AND accepted_at <= opened_at + make_interval(secs => %(accept_s)s))
    AS accepted_in_time,
  count(*) FILTER (WHERE accepted_at IS NOT NULL) AS accepted
FROM c GROUP BY 1 ORDER BY 1
"""
GROUPS = {"grid": "coalesce(grid_id, '-')", "kind": "kind", "camera": "coalesce(camera_id, '-')",
          "grid_kind": "coalesce(grid_id, '-') || '/' || kind"}  # fmt: skip


def stats(
    conn: Conn, group: str, since: datetime, until: datetime, accept_s: float
) -> list[dict[str, Any]]:
    """Per group: cases, false alarms (operators' rejections), response times, SLA compliance."""
    query = sql.SQL(STATS_SQL).format(group=sql.SQL(GROUPS[group]))
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, {"since": since, "until": until, "accept_s": accept_s}).fetchall()
    for row in rows:
        row["false_alarm_rate"] = row["false_alarms"] / row["cases"] if row["cases"] else None
        row["accept_sla_compliance"] = (
            row["accepted_in_time"] / row["accepted"] if row["accepted"] else None
        )
    return rows

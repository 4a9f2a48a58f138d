"""Alert review: the queue of new camera cases, false-alarm reasons and their statistics.

A monitoring room verifies each new case before acting: it accepts it (受理),
rejects it as a false alarm (误报) with a reason from `REJECT_REASONS`, or
dispatches it. The reason is stored in the case's details (`reject_reason`) next
to the `reject` event, so the false alarms can be counted per camera and
detector and a noisy camera shows up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from hub.cases.queries import CaseFilter, list_cases
from hub.cases.store import CaseRow
from hub.cases.workflow import CaseAction, apply
from hub.storage import rows

Conn = psycopg.Connection[Any]
REVIEW_STATES = ("reported", "escalated")
REJECT_REASONS = {
    "light": "光影变化 / light or shadow change",
    "animal": "动物或飞鸟 / animal or bird",
    "weather": "雨雪风 / rain, snow or wind",
    "shake": "摄像机抖动 / camera shake",
    "authorised": "允许的活动 / authorised activity",
    "duplicate": "重复案件 / duplicate case",
    "other": "其他 / other",
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """An operator rejects a case as a false alarm, with a reason code."""

    case_id: int
    reason: str
    actor: str
    role: str
    note: str | None = None


def reject(conn: Conn, r: Rejection, now: datetime) -> None:
    """The `reject` transition and the stored reason, in the caller's transaction."""
    label = REJECT_REASONS[r.reason]  # "中文 / English": read in either language
    note = f"{label}" + (f": {r.note}" if r.note else "")
    apply(conn, CaseAction(r.case_id, "reject", r.actor, r.role, note), now)
    conn.execute(
        "UPDATE cases SET details = details || jsonb_build_object('reject_reason', %s::text)"
        " WHERE id = %s",
        (r.reason, r.case_id),
    )


def queue(conn: Conn, limit: int) -> list[CaseRow]:
    """Cases waiting for an operator's verdict, newest first."""
    return list_cases(conn, CaseFilter(states=REVIEW_STATES), limit)


@dataclass(frozen=True, slots=True)
class _EvidenceRow:
    case_id: int
    evidence: list[dict[str, Any]] | None


def first_snapshots(conn: Conn, case_ids: list[int]) -> dict[int, int]:
    """Per case, the `n` (as `GET /api/cases/{id}/evidence/{n}` counts) of its first
    snapshot that was written."""
    found = rows.many(
        conn, _EvidenceRow,
        "SELECT case_id, details->'evidence' AS evidence FROM alerts"
        " WHERE case_id = ANY(%s) ORDER BY case_id, ts, id",
        (case_ids,),
    )  # fmt: skip
    counted: dict[int, int] = {}
    first: dict[int, int] = {}
    for row in found:
        for ref in row.evidence or []:
            n = counted.get(row.case_id, 0)
            counted[row.case_id] = n + 1
            if (
                row.case_id not in first
                and ref.get("kind") == "snapshot"
                and not ref.get("missing")
            ):
                first[row.case_id] = n
    return first


FALSE_ALARM_SQL = """
SELECT coalesce(camera_id, sensor_id, '-') AS source, kind,
  count(*) AS cases,
  count(*) FILTER (WHERE state = 'rejected') AS false_alarms
FROM cases WHERE opened_at >= %(since)s AND opened_at < %(until)s
  AND (camera_id IS NOT NULL OR sensor_id IS NOT NULL)
GROUP BY 1, 2 ORDER BY 4 DESC, 1, 2
"""
REASONS_SQL = """
SELECT coalesce(camera_id, sensor_id, '-') AS source, kind,
  coalesce(details->>'reject_reason', 'unknown') AS reason, count(*) AS n
FROM cases WHERE state = 'rejected' AND opened_at >= %(since)s AND opened_at < %(until)s
GROUP BY 1, 2, 3
"""


def false_alarm_stats(conn: Conn, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per camera (or sensor) and detector: cases, false alarms, their rate and reasons."""
    params = {"since": since, "until": until}
    with conn.cursor(row_factory=dict_row) as cur:
        totals = cur.execute(FALSE_ALARM_SQL, params).fetchall()
        reasons = cur.execute(REASONS_SQL, params).fetchall()
    by_key: dict[tuple[str, str], dict[str, int]] = {}
    for r in reasons:
        by_key.setdefault((r["source"], r["kind"]), {})[r["reason"]] = r["n"]
    return [
        {"source": t["source"], "kind": t["kind"], "cases": t["cases"],
         "false_alarms": t["false_alarms"], "false_alarm_rate": t["false_alarms"] / t["cases"],
         "reasons": by_key.get((t["source"], t["kind"]), {})}
        for t in totals
    ]  # fmt: skip

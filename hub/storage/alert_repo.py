"""The `alerts` table: every alert as it came, linked to the case it opened or joined.

An alert is stored with its real kind and a `cleared` flag (migration 0011);
`AlertRow.label` gives back the ``<kind>_cleared`` form people have always seen
for a clearing. Rows written before 0011 on a TimescaleDB chunk that was already
compressed may still carry that suffix in `kind` with `cleared` false: the label
reads the same either way, and nothing else reads stored kinds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from hub.model import Alert, alert_label
from hub.storage import rows

Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class AlertRow:
    """A stored alert as a case's detail shows it."""

    id: int
    ts: datetime
    kind: str
    cleared: bool
    camera_id: str | None
    sensor_id: str | None
    confidence: float | None
    details: dict[str, Any]

    @property
    def label(self) -> str:
        return alert_label(self.kind, self.cleared)


@dataclass(frozen=True, slots=True)
class AlertEvidence:
    """One evidence reference (the `evidence` list of an alert's details) and its alert."""

    alert_id: int
    ref: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Details:
    id: int
    details: dict[str, Any] | None


def insert_alert(conn: Conn, alert: Alert) -> int | None:
    """Store the alert (no case yet); return its id, or None when it is stored already
    (the same `ref` and time: a redelivered sensor event, a replayed spool entry)."""
    details = {
        **alert.details,
        "summary": alert.summary,
        "region": alert.region,
        "started_at": alert.started_at.isoformat(),
        "overlay": alert.overlay,
        "evidence": [{"kind": e.kind, "path": e.path, "media_type": e.media_type,
                      "missing": e.missing} for e in alert.evidence],
    }  # fmt: skip
    row = conn.execute(
        """INSERT INTO alerts (ts, kind, cleared, camera_id, sensor_id, confidence, details,
                               source_ref)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id""",
        (alert.confirmed_at, alert.kind, alert.cleared, alert.camera_id, alert.sensor_id,
         alert.confidence, json.dumps(details, ensure_ascii=False, default=str), alert.ref),
    ).fetchone()  # fmt: skip
    return None if row is None else int(row[0])


def link_alert(conn: Conn, alert_id: int, ts: datetime, case_id: int) -> None:
    """Record the case an alert opened or joined (`ts` finds its chunk on TimescaleDB)."""
    conn.execute(
        "UPDATE alerts SET case_id = %s WHERE id = %s AND ts = %s", (case_id, alert_id, ts)
    )


def case_alerts(conn: Conn, case_id: int) -> list[AlertRow]:
    """A case's alerts, oldest first."""
    return rows.many(
        conn,
        AlertRow,
        """SELECT id, ts, kind, cleared, camera_id, sensor_id, confidence, details FROM alerts
           WHERE case_id = %s ORDER BY ts""",
        (case_id,),
    )


def case_evidence(conn: Conn, case_id: int) -> list[AlertEvidence]:
    """Every evidence reference of a case's alerts, in alert order: the `n` of the API."""
    found = rows.many(
        conn, _Details, "SELECT id, details FROM alerts WHERE case_id = %s ORDER BY ts, id",
        (case_id,),
    )  # fmt: skip
    return [
        AlertEvidence(a.id, ref) for a in found for ref in (a.details or {}).get("evidence", [])
    ]

"""The alert sink the hub uses until the cases issue brings its own: log and record.

`RecordingAlertSink` logs each alert and inserts it into the `alerts` table
(kind, camera or sensor, confidence, and everything else in `details`,
evidence references included). `submit` never raises: a database outage
costs the row, logged, and not the camera worker that raised the alert.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hub.model import Alert

log = logging.getLogger(__name__)


class RecordingAlertSink:
    """Writes every alert into the `alerts` table."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def submit(self, alert: Alert) -> None:
        log.info(
            "alert %s camera=%s sensor=%s confidence=%.2f %s",
            alert.kind, alert.camera_id, alert.sensor_id, alert.confidence, alert.summary,
        )  # fmt: skip
        try:
            with self.pool.connection(timeout=2) as conn:
                conn.execute(
                    """INSERT INTO alerts (ts, kind, camera_id, sensor_id, confidence, details)
                       VALUES (%s, %s, %s, %s, %s, %s)""",
                    [
                        alert.confirmed_at,
                        alert.kind,
                        alert.camera_id,
                        alert.sensor_id,
                        alert.confidence,
                        json.dumps(alert_details(alert), ensure_ascii=False, default=str),
                    ],
                )
        except (psycopg.Error, PoolTimeout) as exc:
            log.error("alert %s not recorded: %s", alert.kind, type(exc).__name__)


def alert_details(alert: Alert) -> dict[str, Any]:
    """What the `alerts.details` column keeps beyond the indexed columns."""
    return {
        "started_at": alert.started_at.isoformat(),
        "region": alert.region,
        "summary": alert.summary,
        "overlay": [list(map(list, line)) for line in alert.overlay],
        "evidence": [asdict(ref) for ref in alert.evidence],
        **dict(alert.details),
    }

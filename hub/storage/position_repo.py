"""The `patrol_positions` history read back: the latest fix per patrol, a patrol's track.

Fixes are written in batches by `hub.patrols.writer.PositionWriter` (COPY); rows
come back as the same `PatrolFix` records the live index holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from hub.model import PatrolFix
from hub.storage import rows

Conn = psycopg.Connection[Any]
FIX_COLUMNS = "patrol_id, lat, lon, ts, accuracy_m, speed_mps, heading_deg, battery_pct, source"


def latest_fixes(conn: Conn, since: datetime) -> list[PatrolFix]:
    """Each patrol's newest fix taken at or after `since`."""
    return rows.many(
        conn,
        PatrolFix,
        f"""SELECT DISTINCT ON (patrol_id) {FIX_COLUMNS}
            FROM patrol_positions WHERE ts >= %s ORDER BY patrol_id, ts DESC""",
        (since,),
    )


def track(
    conn: Conn, patrol_id: str, since: datetime, until: datetime, limit: int
) -> list[PatrolFix]:
    """A patrol's fixes from `since` to `until` (both included), oldest first, at most `limit`."""
    return rows.many(
        conn,
        PatrolFix,
        f"""SELECT {FIX_COLUMNS} FROM patrol_positions
            WHERE patrol_id = %s AND ts >= %s AND ts <= %s ORDER BY ts LIMIT %s""",
        (patrol_id, since, until, limit),
    )

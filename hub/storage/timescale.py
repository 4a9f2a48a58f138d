"""TimescaleDB where it exists, plain PostgreSQL where it does not.

The time-series tables are created as plain tables with time indexes by the
migrations. Where the `timescaledb` extension is available, this turns them into
hypertables and adds compression and retention policies; every step checks the
catalog first, so running it again changes nothing. Queries are the same on both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from hub.storage import rows

log = logging.getLogger(__name__)

# Time-series table -> (time column, column to segment compressed chunks by).
TIMESERIES_TABLES: dict[str, tuple[str, str]] = {
    "patrol_positions": ("ts", "patrol_id"),
    "alerts": ("ts", "kind"),
    "camera_health": ("ts", "camera_id"),
}

Conn = psycopg.Connection[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class TimeseriesPolicy:
    """How long time series are kept and when they are compressed (TimescaleDB only)."""

    retention_days: dict[str, int] = field(default_factory=dict)
    compress_after_days: int = 7


def ensure_timeseries(conn: Conn, policy: TimeseriesPolicy) -> str | None:
    """Make hypertables if TimescaleDB is available; return its version or None."""
    version = _enable_extension(conn)
    if version is None:
        return None
    for table, (time_column, segment_by) in TIMESERIES_TABLES.items():
        _make_hypertable(conn, table, time_column)
        _enable_compression(conn, table, segment_by, policy.compress_after_days)
        days = policy.retention_days.get(table)
        if days:
            conn.execute(
                "SELECT add_retention_policy(%s, make_interval(days => %s), if_not_exists => true)",
                (table, days),
            )
    return version


def _enable_extension(conn: Conn) -> str | None:
    if not rows.exists(
        conn, "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
    ):
        log.info("timescaledb is not available: time series stay plain tables")
        return None
    if not _preloaded(conn):
        # Installed but not in shared_preload_libraries: CREATE EXTENSION would answer
        # FATAL and close the connection. Plain tables work; say how to get hypertables.
        log.warning("timescaledb is installed but not preloaded (add it to "
                    "shared_preload_libraries): time series stay plain tables")  # fmt: skip
        return None
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error as exc:
        if conn.closed:
            raise
        log.warning("timescaledb is installed but cannot be enabled: %s", exc)
        return None
    return installed_version(conn)


def _preloaded(conn: Conn) -> bool:
    """Whether the server preloads timescaledb (it must, for the extension to load)."""
    libraries = str(rows.scalar(conn, "SELECT current_setting('shared_preload_libraries')"))
    return "timescaledb" in {name.strip() for name in libraries.split(",")}


def installed_version(conn: Conn) -> str | None:
    """The installed TimescaleDB version, or None where the extension is not installed."""
    version = rows.scalar(conn, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    return None if version is None else str(version)


def _make_hypertable(conn: Conn, table: str, time_column: str) -> None:
    conn.execute(
        "SELECT create_hypertable(%s::regclass, %s::name, if_not_exists => true,"
        " migrate_data => true)",
        (table, time_column),
    )


def _enable_compression(conn: Conn, table: str, segment_by: str, after_days: int) -> None:
    enabled = rows.scalar(
        conn,
        "SELECT compression_enabled FROM timescaledb_information.hypertables"
        " WHERE hypertable_name = %s",
        (table,),
    )
    if enabled is False:
        conn.execute(
            sql.SQL(
                "ALTER TABLE {} SET (timescaledb.compress, timescaledb.compress_segmentby = {})"
            ).format(sql.Identifier(table), sql.Literal(segment_by))
        )
    conn.execute(
        "SELECT add_compression_policy(%s, make_interval(days => %s), if_not_exists => true)",
        (table, after_days),
    )

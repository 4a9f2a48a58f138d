"""Schema migrations: numbered SQL files applied once, in order, under a lock.

`migrate()` takes a session-level advisory lock, so two processes migrating one
database at once apply each file exactly once; each file runs in its own
transaction and is recorded in `schema_version` with its checksum. An applied
file that was edited afterwards is an error, not a silent skip. After the files,
the time-series tables are converted to hypertables where TimescaleDB exists.
A connection the server closes on the way (a TimescaleDB installed but not
preloaded once did) ends in one `MigrationError`; its session lock died with it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from hub.errors import MigrationError
from hub.storage import rows
from hub.storage.timescale import TimeseriesPolicy, ensure_timeseries

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary but fixed: the advisory-lock key every gridhub process migrates under.
MIGRATION_LOCK_KEY = 0x67726964687562
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Conn = psycopg.Connection[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file of the schema's history."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Applied:
    """A row of `schema_version`: a file applied earlier."""

    version: int
    checksum: str


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What one `migrate()` call did."""

    applied: tuple[int, ...]
    current_version: int
    timescaledb: str | None


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a misnamed file is an error."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version in {directory}")
    return found


def migrate(
    conn: Conn, policy: TimeseriesPolicy, migrations: list[Migration] | None = None
) -> MigrationReport:
    """Bring the schema up to date. `conn` must be in autocommit mode."""
    if not conn.autocommit:
        raise MigrationError("migrate() needs an autocommit connection")
    migrations = discover() if migrations is None else migrations
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        _ensure_version_table(conn)
        applied = _apply_pending(conn, migrations)
        timescale = _timeseries(conn, policy)
    finally:
        if not conn.closed:  # a dead connection took its session lock with it
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    current = max((m.version for m in migrations), default=0)
    return MigrationReport(tuple(applied), current, timescale)


def _timeseries(conn: Conn, policy: TimeseriesPolicy) -> str | None:
    """Hypertables where TimescaleDB is usable; a database error is a one-line
    `MigrationError` (the migrations themselves are applied and recorded)."""
    try:
        return ensure_timeseries(conn, policy)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MigrationError(f"TimescaleDB setup failed: {first}") from exc


def _ensure_version_table(conn: Conn) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_version (
               version     integer PRIMARY KEY,
               name        text NOT NULL,
               checksum    text NOT NULL,
               applied_at  timestamptz NOT NULL DEFAULT now())"""
    )


def _apply_pending(conn: Conn, migrations: list[Migration]) -> list[int]:
    done = {
        m.version: m.checksum
        for m in rows.many(conn, _Applied, "SELECT version, checksum FROM schema_version")
    }
    applied = []
    for migration in migrations:
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} was edited after it "
                    "was applied; add a new migration instead"
                )
            continue
        _apply(conn, migration)
        applied.append(migration.version)
    return applied


def _apply(conn: Conn, migration: Migration) -> None:
    label = f"{migration.version:04d}_{migration.name}"
    try:
        with conn.transaction():
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_version (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.Error as exc:
        raise MigrationError(f"migration {label} failed: {exc}") from exc
    log.info("applied migration %s", label)


def current_version(conn: Conn) -> int:
    """The newest applied migration, 0 for an empty database."""
    if not rows.scalar(conn, "SELECT to_regclass('schema_version') IS NOT NULL"):
        return 0
    return int(rows.scalar(conn, "SELECT coalesce(max(version), 0) FROM schema_version"))

"""Migrations against the real PostgreSQL: complete, idempotent, safe in parallel."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from hub.errors import MigrationError
from hub.storage.migrate import Migration, current_version, discover, migrate
from hub.storage.timescale import TimeseriesPolicy

POLICY = TimeseriesPolicy()
TABLES = {
    "grids", "patrols", "cameras", "sensors", "cases", "case_events", "dispatches", "users",
    "tokens", "patrol_positions", "alerts", "camera_health", "schema_version",
}  # fmt: skip


def _schema_snapshot(url: str) -> list[tuple[object, ...]]:
    """Every column, index and trigger in the public schema, to compare two states."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            """SELECT table_name, column_name, data_type, is_nullable, column_default
               FROM information_schema.columns WHERE table_schema = 'public'
               ORDER BY 1, 2"""
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        versions = conn.execute(
            "SELECT version, name, checksum, applied_at FROM schema_version ORDER BY 1"
        ).fetchall()
    return [*columns, *indexes, *versions]


def test_migrate_creates_every_table(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        report = migrate(conn, POLICY)
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        assert current_version(conn) == report.current_version
    assert tables >= TABLES
    assert report.applied == tuple(m.version for m in discover())
    with psycopg.connect(fresh_db) as conn:  # TimescaleDB, where the server can load it
        usable = conn.execute(
            """SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
                      AND current_setting('shared_preload_libraries') LIKE '%timescaledb%'"""
        ).fetchone()
        hypertables = _hypertables(conn) if report.timescaledb else set()
    assert (report.timescaledb is not None) == bool(usable and usable[0])
    if report.timescaledb:
        assert hypertables == {"patrol_positions", "alerts", "camera_health"}


def _hypertables(conn: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    rows = conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")
    return {str(r[0]) for r in rows}


def test_second_migrate_changes_nothing(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        migrate(conn, POLICY)
    before = _schema_snapshot(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        report = migrate(conn, POLICY)
    assert report.applied == ()
    assert _schema_snapshot(fresh_db) == before


def test_two_sessions_migrating_at_once_apply_each_file_once(fresh_db: str) -> None:
    results: list[tuple[int, ...]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            with psycopg.connect(fresh_db, autocommit=True) as conn:
                barrier.wait()
                results.append(migrate(conn, POLICY).applied)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results, key=len) == [(), tuple(m.version for m in discover())]


def test_an_edited_migration_is_refused(fresh_db: str) -> None:
    migrations = discover()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        migrate(conn, POLICY, migrations)
        edited = [*migrations[:-1], Migration(migrations[-1].version, "x", "SELECT 1;")]
        with pytest.raises(MigrationError, match="was edited after it was applied"):
            migrate(conn, POLICY, edited)


def test_a_failing_migration_is_rolled_back(fresh_db: str, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (id int); SELECT * FROM nowhere;")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        with pytest.raises(MigrationError, match="migration 0002_bad failed"):
            migrate(conn, POLICY, discover(tmp_path))
        assert current_version(conn) == 1
        assert conn.execute("SELECT to_regclass('half')").fetchone() == (None,)


def test_misnamed_migration_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "add_table.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="named NNNN_name.sql"):
        discover(tmp_path)


def test_audit_log_is_append_only(migrated_db: str) -> None:
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        case_id = conn.execute(
            """INSERT INTO cases (kind, state, title, opened_at, updated_at)
               VALUES ('manual', 'reported', 'test', now(), now()) RETURNING id"""
        ).fetchone()
        assert case_id is not None
        conn.execute(
            """INSERT INTO case_events (case_id, at, actor, action, to_state)
               VALUES (%s, now(), 'operator', 'report', 'reported')""",
            case_id,
        )
        for statement in ("UPDATE case_events SET note = 'x'", "DELETE FROM case_events",
                          "TRUNCATE case_events CASCADE"):  # fmt: skip
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)


def test_one_live_dispatch_per_case(migrated_db: str) -> None:
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO grids (id, name, level, geometry) VALUES ('g', 'g', 'street', '{}');
               INSERT INTO patrols (id, name, grid_id) VALUES ('p1', 'p1', 'g'), ('p2', 'p2', 'g');
               INSERT INTO cases (kind, state, title, opened_at, updated_at)
               VALUES ('manual', 'dispatched', 't', now(), now());"""
        )
        insert = """INSERT INTO dispatches (case_id, patrol_id, attempt, state, payload,
                        created_at, deadline)
                    VALUES (1, %s, %s, %s, '{}', now(), now())"""
        conn.execute(insert, ("p1", 1, "sent"))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert, ("p2", 2, "pending"))
        conn.execute("UPDATE dispatches SET state = 'expired'")
        conn.execute(insert, ("p2", 2, "pending"))


def test_a_connection_that_dies_mid_migration_is_one_error_not_a_failed_unlock(
    fresh_db: str,
) -> None:
    """The server closing the connection (as a TimescaleDB that is installed but not
    preloaded does) must end in a `MigrationError`, not in a second error from unlocking
    on the dead connection (the session lock went with it)."""
    dies = Migration(9999, "dies", "SELECT pg_terminate_backend(pg_backend_pid());")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        with pytest.raises(MigrationError, match="migration 9999_dies failed"):
            migrate(conn, POLICY, [*discover(), dies])
        assert conn.closed
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # the lock is free again
        assert migrate(conn, POLICY).applied == ()

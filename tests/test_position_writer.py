"""The patrol position writer: batches into PostgreSQL, and a bounded buffer that drops
the oldest fixes (counted, logged once) when writing cannot keep up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from psycopg_pool import ConnectionPool

from hub.model import PatrolFix
from hub.patrols.writer import PositionWriter
from hub.storage.db import open_pool

pytestmark = pytest.mark.postgres
T0 = datetime(2025, 11, 22, 8, 0, tzinfo=UTC)


def _fix(n: int) -> PatrolFix:
    return PatrolFix("P01", 30.27, 120.14, T0 + timedelta(seconds=n))


def test_a_full_buffer_drops_the_oldest_counts_them_and_writes_the_rest(
    migrated_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hub.patrols.writer")
    pool = open_pool(migrated_db, 2)
    drops: list[str] = []
    writer = PositionWriter(pool, max_buffer=4, on_dropped=drops.append)
    try:
        for n in range(10):  # the writer is not running yet: nothing drains the buffer
            writer.put(_fix(n))
        assert (writer.pending, writer.dropped, drops) == (4, 6, ["buffer_full"] * 6)
        writer.start()
        writer.stop()
        with pool.connection() as conn:
            stored = conn.execute("SELECT ts FROM patrol_positions ORDER BY ts").fetchall()
    finally:
        pool.close()
    assert [row[0] for row in stored] == [_fix(n).ts for n in range(6, 10)]  # the newest four
    assert writer.written == 4 and writer.pending == 0
    full = [r for r in caplog.records if "buffer full" in r.getMessage()]
    assert len(full) == 1 and full[0].levelno == logging.ERROR  # once per overflow, not per fix
    assert "written again; 6 were dropped meanwhile" in caplog.text


def test_a_fix_the_database_refuses_is_dropped_alone_and_does_not_block_the_rest(
    migrated_db: str,
) -> None:
    """PostgreSQL's `real` cannot hold 1e-300: retried whole, the batch would be retried
    for ever and every later fix would queue behind it."""
    pool = open_pool(migrated_db, 2)
    drops: list[str] = []
    writer = PositionWriter(pool, on_dropped=drops.append)
    fixes = [_fix(n) for n in range(5)]
    fixes[2] = replace(fixes[2], speed_mps=1e-300)
    try:
        for fix in fixes:
            writer.put(fix)
        writer.start()
        writer.put(_fix(5))  # a later batch gets through too
        writer.stop()
        with pool.connection() as conn:
            stored = conn.execute("SELECT ts FROM patrol_positions ORDER BY ts").fetchall()
    finally:
        pool.close()
    assert [row[0] for row in stored] == [_fix(n).ts for n in (0, 1, 3, 4, 5)]
    assert (writer.written, writer.refused, drops) == (5, 1, ["unstorable"])


def test_a_redelivered_fix_is_one_row_and_every_message_is_acknowledged_after_commit(
    migrated_db: str,
) -> None:
    """A fix the broker sends again (the hub died before acknowledging it, or a retained
    OwnTracks fix at a reconnect) is stored once; each copy's ack comes after the commit."""
    pool = open_pool(migrated_db, 2)
    writer = PositionWriter(pool)
    acked: list[tuple[int, bool]] = []  # (fix, whether its row was committed at the ack)

    def ack(n: int) -> Callable[[], None]:
        return lambda: acked.append((n, _stored(pool, _fix(n))))

    try:
        writer.put(_fix(0), ack(0))
        writer.put(_fix(1), ack(1))
        assert acked == []  # not before the writer has committed them
        writer.start()
        writer.put(_fix(1), ack(1))  # redelivered, in a later batch
        writer.put(_fix(2), ack(2))
        writer.stop()
        stored = _rows(pool)
    finally:
        pool.close()
    assert stored == 3
    assert sorted(n for n, _ in acked) == [0, 1, 1, 2]
    assert all(committed for _, committed in acked)
    assert (writer.written, writer.duplicates) == (3, 1)


def _rows(pool: ConnectionPool) -> int:
    with pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM patrol_positions").fetchone()
    return int(row[0]) if row else 0


def _stored(pool: ConnectionPool, fix: PatrolFix) -> bool:
    with pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM patrol_positions WHERE ts = %s", (fix.ts,))
        found = row.fetchone()
    return bool(found and found[0])

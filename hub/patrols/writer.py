"""Batched writes of patrol positions: one COPY per batch, not one INSERT per fix.

Ingest threads `put()` fixes into a bounded in-memory buffer (a `RetryQueue`,
hub/infra/retry_queue.py); one writer thread takes up to `batch_size` at a time
(or whatever came within `max_delay_s`) and COPYs them into `patrol_positions`
in one transaction. If the database fails, the batch is kept and retried with
backoff, so nothing accepted is lost while the buffer has room; past
`max_buffer` fixes the oldest are dropped, counted (`on_dropped`, the
`gridhub_patrol_positions_dropped` metric) and logged once per overflow, with
the total when writing resumes. A fix holding a value the database refuses
(`DataError`) is dropped and counted alone; the rest of its batch is written.

Each fix carries the acknowledgement of the MQTT message it came in: it is sent
once the batch is committed (or the fix is dropped and counted), never before, so
a hub killed with fixes in memory gets them again from the broker. A fix stored
twice (a redelivery) is one row: `(patrol_id, ts)` is unique (migration 0012);
the fast COPY path falls back to `INSERT … ON CONFLICT DO NOTHING` for a batch
holding a fix already stored, which is counted in `duplicates`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hub.infra.retry_queue import RetryPolicy, RetryQueue
from hub.model import PatrolFix

log = logging.getLogger(__name__)

COPY_SQL = (
    "COPY patrol_positions (patrol_id, ts, lat, lon, accuracy_m, speed_mps, heading_deg,"
    " battery_pct, source) FROM STDIN"
)
INSERT_SQL = (
    "INSERT INTO patrol_positions (patrol_id, ts, lat, lon, accuracy_m, speed_mps, heading_deg,"
    " battery_pct, source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


def _no_ack() -> None:
    return None


@dataclass(frozen=True, slots=True)
class HeldFix:
    """A fix waiting to be written, and the acknowledgement of the message it came in."""

    fix: PatrolFix
    ack: Callable[[], None] = _no_ack


class PositionWriter(RetryQueue[HeldFix]):
    """A background thread that writes fixes to PostgreSQL in batches."""

    def __init__(
        self,
        pool: ConnectionPool,
        batch_size: int = 5000,
        max_delay_s: float = 0.05,
        max_buffer: int = 1_000_000,
        on_written: Callable[[int], None] | None = None,
        on_dropped: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(
            RetryPolicy(
                "position-writer", max_buffer, (psycopg.Error, PoolTimeout),
                batch_size=batch_size, max_delay_s=max_delay_s, first_backoff_s=0.5,
                max_backoff_s=10.0, retry_while_stopping=True,
            )
        )  # fmt: skip
        self._pool = pool
        self._on_written = on_written or (lambda _n: None)
        self._on_dropped = on_dropped or (lambda _reason: None)
        self._refused: list[HeldFix] = []  # of the batch just written
        self._repeated = 0  # of the batch just written: fixes stored before
        self.written = 0
        self.duplicates = 0  # fixes already stored (a redelivered message)
        self.dropped = 0  # the buffer was full
        self.refused = 0  # the database refuses a value of the fix

    def put(self, fix: PatrolFix, ack: Callable[[], None] = _no_ack) -> None:
        """Queue a fix; `ack` is called once it is committed (or dropped and counted)."""
        self.submit(HeldFix(fix, ack))

    def _dropped(self, item: HeldFix, overflow: int) -> None:
        """The buffer was full: the oldest fix went, counted; logged once per overflow.

        Its message is acknowledged: left unacknowledged it would hold one of the
        broker's in-flight slots until the next reconnect."""
        item.ack()
        self.dropped += 1
        self._on_dropped("buffer_full")
        if overflow == 1:
            log.error(
                "patrol position buffer full (%d fixes, database unavailable?): "
                "dropping the oldest until writing catches up", self.policy.limit,
            )  # fmt: skip

    def _apply(self, batch: list[HeldFix]) -> None:
        """Write a batch in one transaction; psycopg errors keep it to be retried."""
        with self._pool.connection(timeout=5) as conn:
            self._refused, self._repeated = [], 0
            try:
                with conn.transaction():
                    _copy(conn, batch)
            except psycopg.errors.UniqueViolation:
                with conn.transaction():
                    self._repeated = len(batch) - _insert_new(conn, batch)
            except psycopg.DataError as exc:
                self._refused = self._write_storable(conn, batch, exc)

    def _held(self, batch: list[HeldFix], exc: BaseException) -> None:
        log.warning("could not write %d patrol positions (will retry): %s", len(batch), exc)

    def _failed(self, batch: list[HeldFix], exc: Exception) -> None:
        log.exception("could not write %d patrol positions; skipped", len(batch))
        for item in batch:
            item.ack()

    def _write_storable(
        self, conn: psycopg.Connection[Any], batch: list[HeldFix], exc: psycopg.DataError
    ) -> list[HeldFix]:
        """A batch holding a value PostgreSQL refuses (a float too small for `real`, say):
        retried whole it would block every later fix for ever, so each fix is written
        under its own savepoint and the refused ones are returned, to be dropped."""
        refused = []
        with conn.transaction():
            for item in batch:
                try:
                    with conn.transaction():
                        self._repeated += 1 - _insert_new(conn, [item])
                except psycopg.DataError:
                    refused.append(item)
        first = refused[0].fix if refused else None
        log.warning(
            "dropped %d patrol position(s) the database refuses (first: %s at %s): %s",
            len(refused), first and first.patrol_id, first and first.ts,
            str(exc).splitlines()[0],
        )  # fmt: skip
        return refused

    def _applied(self, batch: list[HeldFix], overflow: int) -> None:
        for item in batch:  # committed, or refused for good: the broker may forget them
            item.ack()
        if overflow:
            log.warning("patrol positions are written again; %d were dropped meanwhile", overflow)
        for _ in self._refused:
            self.refused += 1
            self._on_dropped("unstorable")
        written = len(batch) - len(self._refused) - self._repeated
        self.duplicates += self._repeated
        self.written += written
        self._on_written(written)


def _row(f: PatrolFix) -> tuple[object, ...]:
    return (f.patrol_id, f.ts, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.heading_deg,
            f.battery_pct, f.source)  # fmt: skip


def _copy(conn: psycopg.Connection[Any], items: list[HeldFix]) -> None:
    with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
        for item in items:
            copy.write_row(_row(item.fix))


def _insert_new(conn: psycopg.Connection[Any], items: list[HeldFix]) -> int:
    """Insert the fixes not stored yet; how many were new."""
    with conn.cursor() as cur:
        cur.executemany(INSERT_SQL, [_row(item.fix) for item in items])
        return max(cur.rowcount, 0)

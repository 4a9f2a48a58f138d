"""Batched writes of patrol positions: one COPY per batch, not one INSERT per fix.

Ingest threads `put()` fixes into a bounded in-memory buffer; one writer thread
takes up to `batch_size` at a time (or whatever came within `max_delay_s`) and
COPYs them into `patrol_positions` in one transaction. If the database fails,
the batch is kept and retried with backoff, so nothing accepted is lost while the
buffer has room; past `max_buffer` fixes the oldest are dropped, counted
(`on_dropped`, the `gridhub_patrol_positions_dropped` metric) and logged once per
overflow, with the total when writing resumes. A fix holding a value the database
refuses (`DataError`) is dropped and counted alone; the rest of its batch is written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hub.model import PatrolFix

log = logging.getLogger(__name__)

COPY_SQL = (
    "COPY patrol_positions (patrol_id, ts, lat, lon, accuracy_m, speed_mps, heading_deg,"
    " battery_pct, source) FROM STDIN"
)


class PositionWriter:
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
        self._pool = pool
        self._batch_size = batch_size
        self._max_delay_s = max_delay_s
        self._max_buffer = max_buffer
        self._on_written = on_written or (lambda _n: None)
        self._on_dropped = on_dropped or (lambda _reason: None)
        self._buffer: deque[PatrolFix] = deque()
        self._held = 0  # fixes of the batch being written (or retried)
        self._overflow = 0  # fixes dropped since the buffer last overflowed
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="position-writer", daemon=True)
        self.written = 0
        self.dropped = 0  # the buffer was full
        self.refused = 0  # the database refuses a value of the fix

    def start(self) -> None:
        self._thread.start()

    def put(self, fix: PatrolFix) -> None:
        with self._cond:
            if len(self._buffer) >= self._max_buffer:
                self._drop_oldest()
            self._buffer.append(fix)
            if len(self._buffer) == 1 or len(self._buffer) >= self._batch_size:
                self._cond.notify()

    def _drop_oldest(self) -> None:
        """Make room (the caller holds the lock): the oldest fix goes, counted."""
        self._buffer.popleft()
        self.dropped += 1
        self._overflow += 1
        self._on_dropped("buffer_full")
        if self._overflow == 1:
            log.error(
                "patrol position buffer full (%d fixes, database unavailable?): "
                "dropping the oldest until writing catches up", self._max_buffer,
            )  # fmt: skip

    @property
    def pending(self) -> int:
        """Fixes accepted but not yet written: buffered, or in the batch being written."""
        return len(self._buffer) + self._held

    def stop(self, timeout_s: float = 10.0) -> None:
        """Flush what is buffered (within `timeout_s`) and stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        backoff = 0.5
        while True:
            batch = self._take()
            if not batch:
                return
            while not self._write(batch):
                if self._stopping and backoff > 8:
                    self._requeue(batch)
                    return
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            backoff = 0.5

    def _take(self) -> list[PatrolFix]:
        """Wait for fixes, give a batch `max_delay_s` to fill; empty means stop."""
        with self._cond:
            while not self._buffer and not self._stopping:
                self._cond.wait()
            if not self._stopping and len(self._buffer) < self._batch_size:
                self._cond.wait(self._max_delay_s)
            n = min(len(self._buffer), self._batch_size)
            self._held = n
            return [self._buffer.popleft() for _ in range(n)]

    def _requeue(self, batch: list[PatrolFix]) -> None:
        with self._cond:
            self._buffer.extendleft(reversed(batch))
            self._held = 0

    def _write(self, batch: list[PatrolFix]) -> bool:
        """Write a batch; False (keep it, retry) when the database is unavailable."""
        try:
            with self._pool.connection(timeout=5) as conn:
                try:
                    with conn.transaction():
                        _copy(conn, batch)
                    refused: list[PatrolFix] = []
                except psycopg.DataError as exc:
                    refused = self._write_storable(conn, batch, exc)
        except (psycopg.Error, PoolTimeout) as exc:
            log.warning("could not write %d patrol positions (will retry): %s", len(batch), exc)
            return False
        self._done(len(batch) - len(refused), refused)
        return True

    def _write_storable(
        self, conn: psycopg.Connection[Any], batch: list[PatrolFix], exc: psycopg.DataError
    ) -> list[PatrolFix]:
        """A batch holding a value PostgreSQL refuses (a float too small for `real`, say):
        retried whole it would block every later fix for ever, so each fix is written
        under its own savepoint and the refused ones are returned, to be dropped."""
        refused = []
        with conn.transaction():
            for fix in batch:
                try:
                    with conn.transaction():
                        _copy(conn, [fix])
                except psycopg.DataError:
                    refused.append(fix)
        first = refused[0] if refused else None
        log.warning(
            "dropped %d patrol position(s) the database refuses (first: %s at %s): %s",
            len(refused), first and first.patrol_id, first and first.ts,
            str(exc).splitlines()[0],
        )  # fmt: skip
        return refused

    def _done(self, written: int, refused: list[PatrolFix]) -> None:
        with self._cond:
            self._held = 0
            overflow, self._overflow = self._overflow, 0
        if overflow:
            log.warning("patrol positions are written again; %d were dropped meanwhile", overflow)
        for _ in refused:
            self.refused += 1
            self._on_dropped("unstorable")
        self.written += written
        self._on_written(written)


def _copy(conn: psycopg.Connection[Any], fixes: list[PatrolFix]) -> None:
    with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
        for f in fixes:
            copy.write_row(
                (f.patrol_id, f.ts, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.heading_deg,
                 f.battery_pct, f.source)
            )  # fmt: skip

"""Duty-status writes, off the MQTT network thread.

A patrol's duty status (`on_duty`, `off_duty`, `busy`) changes the live index at
once; the `patrols` row follows from this queue's own thread, so a database
outage holds the writes (retried with backoff, `hub.infra.retry_queue`) instead
of blocking paho's thread — and every other message — for seconds per change.
Each change carries the acknowledgement of its MQTT message, sent once the row
is committed. Within a batch only a patrol's newest change is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hub.infra.retry_queue import RetryPolicy, RetryQueue

log = logging.getLogger(__name__)


def _no_ack() -> None:
    return None


@dataclass(frozen=True, slots=True)
class DutyChange:
    """A patrol's new duty status, and the acknowledgement of the message that said so."""

    patrol_id: str
    duty_status: str
    ack: Callable[[], None] = _no_ack


class DutyWriter(RetryQueue[DutyChange]):
    """Writes duty changes to `patrols` in batches, newest per patrol."""

    def __init__(self, pool: ConnectionPool, limit: int = 100_000) -> None:
        policy = RetryPolicy(
            "duty-writer", limit, (psycopg.OperationalError, PoolTimeout), batch_size=500,
            max_delay_s=0.02, first_backoff_s=0.5, max_backoff_s=10.0,
        )  # fmt: skip
        super().__init__(policy)
        self._pool = pool
        self.written = 0

    def _apply(self, batch: list[DutyChange]) -> None:
        newest = {change.patrol_id: change.duty_status for change in batch}
        with self._pool.connection(timeout=5) as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "UPDATE patrols SET duty_status = %s, updated_at = now() WHERE id = %s",
                [(status, patrol_id) for patrol_id, status in newest.items()],
            )

    def _applied(self, batch: list[DutyChange], overflow: int) -> None:
        self.written += len(batch)
        for change in batch:
            change.ack()

    def _held(self, batch: list[DutyChange], exc: BaseException) -> None:
        log.warning("could not store %d duty change(s) (will retry): %s", len(batch), exc)

    def _failed(self, batch: list[DutyChange], exc: Exception) -> None:
        log.exception("could not store %d duty change(s); skipped", len(batch))
        for change in batch:
            change.ack()

    def _dropped(self, item: DutyChange, overflow: int) -> None:
        log.error("duty-status queue full: dropped %s's %s", item.patrol_id, item.duty_status)
        item.ack()

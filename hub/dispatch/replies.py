"""Patrol replies applied off the MQTT thread, in order, and held while the database is down.

A reply is acknowledged to the broker as it arrives, so the hub must not drop it
because PostgreSQL is briefly unreachable — nor apply it on paho's network
thread, which would hold every other message (and the keepalive) while it
waits. `ReplyQueue.submit()` only appends to a bounded queue
(`hub.infra.retry_queue`); one thread applies the replies in arrival order,
retrying with capped backoff while the database is unavailable or a deadlock
was lost. Past `limit` waiting replies the oldest is dropped, counted and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg_pool import PoolTimeout

from hub.infra.retry_queue import RetryPolicy, RetryQueue
from hub.patrols.payloads import Reply

log = logging.getLogger(__name__)
RETRYABLE = (psycopg.OperationalError, psycopg.errors.DeadlockDetected, PoolTimeout)


@dataclass(frozen=True, slots=True)
class PatrolReply:
    """A parsed reply and the patrol whose topic it came on."""

    patrol_id: str
    reply: Reply


class ReplyQueue(RetryQueue[PatrolReply]):
    """A bounded FIFO of replies with one applying thread."""

    def __init__(
        self,
        apply: Callable[[PatrolReply], None],
        on_dropped: Callable[[], None],
        limit: int = 10_000,
    ) -> None:
        policy = RetryPolicy(
            "patrol-replies", limit, RETRYABLE, first_backoff_s=0.2, max_backoff_s=5.0
        )
        super().__init__(policy)
        self._apply_reply = apply
        self._on_dropped = on_dropped

    def _apply(self, batch: list[PatrolReply]) -> None:
        for item in batch:
            self._apply_reply(item)

    def _held(self, batch: list[PatrolReply], exc: BaseException) -> None:
        log.warning("holding %d patrol repl(ies) until the database answers: %s",
                    self.pending, exc)  # fmt: skip

    def _failed(self, batch: list[PatrolReply], exc: Exception) -> None:
        for item in batch:
            log.exception("could not apply %s's reply to dispatch %d; skipped",
                          item.patrol_id, item.reply.dispatch_id)  # fmt: skip

    def _dropped(self, item: PatrolReply, overflow: int) -> None:
        self._on_dropped()
        reply = item.reply
        log.error("patrol reply queue full: dropped %s's %s of dispatch %d",
                  item.patrol_id, reply.action, reply.dispatch_id)  # fmt: skip

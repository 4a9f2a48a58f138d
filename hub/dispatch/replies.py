"""Patrol replies applied off the MQTT thread, in order, and held while the database is down.

A reply is acknowledged to the broker as it arrives, so the hub must not drop it
because PostgreSQL is briefly unreachable — nor apply it on paho's network
thread, which would hold every other message (and the keepalive) while it
waits. `ReplyQueue.submit()` only appends to a bounded queue; one thread applies
the replies in arrival order, retrying with capped backoff while the database is
unavailable or a deadlock was lost. Past `limit` waiting replies the oldest is
dropped, counted and logged.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg_pool import PoolTimeout

from hub.patrols.payloads import Reply

log = logging.getLogger(__name__)
RETRYABLE = (psycopg.OperationalError, psycopg.errors.DeadlockDetected, PoolTimeout)


@dataclass(frozen=True, slots=True)
class PatrolReply:
    """A parsed reply and the patrol whose topic it came on."""

    patrol_id: str
    reply: Reply


class ReplyQueue:
    """A bounded FIFO of replies with one applying thread."""

    def __init__(
        self,
        apply: Callable[[PatrolReply], None],
        on_dropped: Callable[[], None],
        limit: int = 10_000,
    ) -> None:
        self._apply = apply
        self._on_dropped = on_dropped
        self._limit = limit
        self._queue: deque[PatrolReply] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="patrol-replies", daemon=True)
        self.max_backoff_s = 5.0

    def submit(self, item: PatrolReply) -> None:
        with self._cond:
            if len(self._queue) >= self._limit:
                dropped = self._queue.popleft()
                self._on_dropped()
                reply = dropped.reply
                log.error("patrol reply queue full: dropped %s's %s of dispatch %d",
                          dropped.patrol_id, reply.action, reply.dispatch_id)  # fmt: skip
            self._queue.append(item)
            self._cond.notify()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Apply what is queued (while the database answers, within `timeout_s`), then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        backoff = 0.2
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                item = self._queue[0]
            if self._applied(item):
                with self._cond:
                    self._queue.popleft()
                backoff = 0.2
                continue
            with self._cond:
                if self._stopping:
                    return  # the database is down at shutdown: nothing more to be done
                self._cond.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    def _applied(self, item: PatrolReply) -> bool:
        """True when the reply is dealt with; False to retry it (the database is unavailable)."""
        try:
            self._apply(item)
        except RETRYABLE as exc:
            log.warning("holding %d patrol repl(ies) until the database answers: %s",
                        len(self._queue), exc)  # fmt: skip
            return False
        except Exception:  # a bug must not stop the replies behind this one
            log.exception("could not apply %s's reply to dispatch %d; skipped",
                          item.patrol_id, item.reply.dispatch_id)  # fmt: skip
        return True

"""Dispatches nobody answered in time: expired, and the case offered to the next patrol.

A dispatch still `pending` or `sent` past its deadline is claimed with
``FOR UPDATE SKIP LOCKED`` (one hub handles it), marked `expired`, and the case
goes to the next candidate (or is escalated) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from hub.clock import Clock
from hub.dispatch.assign import Assigner, DispatchOutcome
from hub.dispatch.rows import DispatchRef
from hub.storage.rows import one


@dataclass(frozen=True, slots=True)
class Expired:
    """A dispatch that expired: whose it was, and what became of its case."""

    patrol_id: str
    next: DispatchOutcome


class DeadlineWatch:
    """Expires overdue dispatches, one transaction each."""

    def __init__(self, pool: ConnectionPool, clock: Clock, assigner: Assigner) -> None:
        self._pool = pool
        self._clock = clock
        self._assigner = assigner

    def expire_next(self) -> Expired | None:
        """Expire the most overdue dispatch and reassign its case; None when none is due."""
        with self._pool.connection() as conn, conn.transaction():
            due = one(
                conn,
                DispatchRef,
                """SELECT id, case_id, patrol_id, state FROM dispatches
                   WHERE state IN ('pending', 'sent') AND deadline < %s
                   ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED""",
                (self._clock.now(),),
            )
            if due is None:
                return None
            outcome = self._assigner.reassign(conn, due.id, due.case_id, "expired")
        return Expired(due.patrol_id, outcome)

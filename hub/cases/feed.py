"""The audit log as a feed: case events in order, for notifiers and the live API.

Every case change is a row in `case_events`, whichever hub wrote it, so the log
itself is the event stream: readers ask for events after the last id they saw.
The id is the resume token of the live WebSocket and the persisted cursor of
each notifier.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from hub.infra.ticker import Ticker
from hub.storage import rows

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One audit-log entry with what a reader needs of its case."""

    id: int
    case_id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    note: str | None
    kind: str
    title: str
    severity: int
    grid_id: str | None
    camera_id: str | None = None
    sensor_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "at": self.at.isoformat(),
            "actor": self.actor, "action": self.action, "from_state": self.from_state,
            "to_state": self.to_state, "note": self.note, "kind": self.kind,
            "title": self.title, "severity": self.severity, "grid_id": self.grid_id,
        }  # fmt: skip


def events_after(conn: psycopg.Connection[Any], after_id: int, limit: int = 500) -> list[CaseEvent]:
    """Events with id > `after_id`, oldest first."""
    with conn.cursor(row_factory=class_row(CaseEvent)) as cur:
        return cur.execute(
            """SELECT e.id, e.case_id, e.at, e.actor, e.action, e.from_state, e.to_state, e.note,
                      c.kind, c.title, c.severity, c.grid_id, c.camera_id, c.sensor_id
               FROM case_events e JOIN cases c ON c.id = e.case_id
               WHERE e.id > %s ORDER BY e.id LIMIT %s""",
            (after_id, limit),
        ).fetchall()


def last_event_id(conn: psycopg.Connection[Any]) -> int:
    return int(rows.scalar(conn, "SELECT coalesce(max(id), 0) FROM case_events"))


class EventFeed:
    """Polls the audit log and hands new events to in-process listeners (the live API)."""

    def __init__(self, pool: ConnectionPool, poll_s: float = 0.2) -> None:
        self._pool = pool
        self._listeners: list[Callable[[CaseEvent], None]] = []
        self._lock = threading.Lock()
        self._ticker = Ticker("event-feed", self._poll, interval_s=poll_s)
        self.last_id = 0

    def start(self) -> None:
        with self._pool.connection() as conn:
            self.last_id = last_event_id(conn)
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def listen(self, listener: Callable[[CaseEvent], None]) -> Callable[[], None]:
        """Call `listener` for every new event (from the feed's thread); returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _poll(self) -> None:
        with self._pool.connection(timeout=5) as conn:
            events = events_after(conn, self.last_id)
        for event in events:
            self.last_id = event.id
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                listener(event)

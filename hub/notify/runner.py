"""Delivering case events to notifiers, at least once, resuming after a restart.

A `gridhub.notifiers` entry point names a `NotifierPlugin`; the site file lists
the notifiers to run (`notifiers:` with a `kind` and the plugin's settings). Each
runs in its own thread with a cursor persisted in `notifier_cursors`: events are
read from the audit log after the cursor, delivered with retries and backoff,
and the cursor moves on, one event per transaction with the cursor row locked
(so hub instances sharing a database never send one event twice). A notifier
that still fails after its retries is counted and logged, and the next event
goes on: one dead webhook never stalls the others, nor the hub.
"""

from __future__ import annotations

import logging

from psycopg_pool import ConnectionPool

from hub.cases.feed import CaseEvent, events_after, last_event_id
from hub.config import SiteConfig
from hub.errors import HubError, NotifyError
from hub.infra.metrics import HubMetrics
from hub.infra.ticker import Ticker
from hub.plugins import NOTIFIERS, Registry
from hub.seams import Notifier, NotifierContext
from hub.storage import rows

log = logging.getLogger(__name__)


class NotifierRunner:
    """One notifier's delivery thread."""

    def __init__(
        self, name: str, notifier: Notifier, pool: ConnectionPool, metrics: HubMetrics,
        retries: int = 4,
    ) -> None:  # fmt: skip
        self.name = name
        self._notifier = notifier
        self._pool = pool
        self._metrics = metrics
        self._retries = retries
        self._ticker = Ticker(f"notify-{name}", self.deliver_pending, interval_s=0.5)
        self._stop = self._ticker.stopped
        self.backoff_s = 1.0

    def start(self) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                """INSERT INTO notifier_cursors (name, last_event_id) VALUES (%s, %s)
                   ON CONFLICT (name) DO NOTHING""",
                (self.name, last_event_id(conn)),
            )
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def deliver_pending(self) -> int:
        """Deliver every event after the cursor; return how many were delivered."""
        delivered = 0
        while not self._stop.is_set():
            outcome = self._deliver_next()
            if outcome is None:
                break
            delivered += outcome
        return delivered

    def _deliver_next(self) -> int | None:
        """Deliver the event after the cursor and move it on; None when there is none.

        The cursor row stays locked while the event goes out, so hub instances
        sharing the database take turns: an instance that finds it locked leaves
        the work to the one holding it, and no event goes out twice from two hubs.
        """
        with self._pool.connection() as conn, conn.transaction():
            cursor = rows.scalar(
                conn,
                "SELECT last_event_id FROM notifier_cursors WHERE name = %s FOR UPDATE SKIP LOCKED",
                (self.name,),
            )
            if cursor is None:
                return None
            events = events_after(conn, int(cursor), limit=1)
            if not events:
                return None
            delivered = self._deliver(events[0])
            if not delivered and self._stop.is_set():
                return None  # stopped mid-retry: the next start tries this event again
            conn.execute(
                "UPDATE notifier_cursors SET last_event_id = %s, updated_at = now()"
                " WHERE name = %s",
                (events[0].id, self.name),
            )
            return delivered

    def _deliver(self, event: CaseEvent) -> int:
        for attempt in range(self._retries + 1):
            try:
                self._notifier.notify(event)
                self._metrics.notifications.labels(self.name, "delivered").inc()
                return 1
            except NotifyError as exc:
                log.warning("notifier %s, event %d, try %d: %s", self.name, event.id,
                            attempt + 1, exc)  # fmt: skip
                if self._stop.wait(self.backoff_s * 2**attempt):
                    break
        self._metrics.notifications.labels(self.name, "failed").inc()
        return 0


def build_runners(
    site: SiteConfig, registry: Registry, context: NotifierContext, pool: ConnectionPool,
    metrics: HubMetrics,
) -> list[NotifierRunner]:  # fmt: skip
    """A runner for each notifier in the site file; an unknown kind is a start-up error."""
    runners = []
    for i, spec in enumerate(site.notifiers):
        plugin = registry.get(NOTIFIERS, spec.kind)
        try:
            notifier = plugin.build(spec, context)
        except HubError as exc:
            raise HubError(f"notifiers[{i}] ({spec.kind}): {exc}") from exc
        runners.append(NotifierRunner(spec.name or spec.kind, notifier, pool, metrics))
    return runners

"""Delivering case events to notifiers, at least once, resuming after a restart.

A `gridhub.notifiers` entry point names a `NotifierPlugin`; the site file lists
the notifiers to run (`notifiers:` with a `kind` and the plugin's settings). Each
runs in its own thread with a cursor persisted in `notifier_cursors`: events are
read from the audit log after the cursor, delivered with retries and backoff,
and the cursor moves on, one event per transaction with the cursor row locked
(so hub instances sharing a database never send one event twice). A notifier
that still fails after its retries is counted and logged, and the next event
goes on: one dead webhook never stalls the others, nor the hub.

A chat robot (a `MessageNotifier`) is sent only the events its routing rules
take (hub/notify/routing.py); the others move its cursor on, counted `skipped`.
A rate limit (the robot's own window, or the platform's answer) is a wait, not a
try: the event waits where it is, in the audit log, however long the platform
blocks the robot, and a restart finds it there. Each failed try is counted by
its reason (`NotifyError.outcome`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from psycopg_pool import ConnectionPool

from hub.cases.feed import CaseEvent, events_after, last_event_id
from hub.config import NotifierSpec, SiteConfig
from hub.errors import ConfigError, HubError, NotifyError
from hub.infra.metrics import HubMetrics
from hub.infra.ticker import Ticker
from hub.notify.routing import Routing
from hub.plugins import NOTIFIERS, Registry
from hub.seams import MessageNotifier, Notifier, NotifierContext
from hub.storage import rows

log = logging.getLogger(__name__)


class NotifierRunner:
    """One notifier's delivery thread."""

    def __init__(
        self, name: str, notifier: Notifier, pool: ConnectionPool, metrics: HubMetrics,
        routing: Routing | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self.notifier = notifier
        self._pool = pool
        self._metrics = metrics
        self._routing = routing
        self.retries = 4
        self._ticker = Ticker(f"notify-{name}", self.deliver_pending, interval_s=0.5)
        self._stop = self._ticker.stopped
        self.backoff_s = 1.0
        # How the runner waits (a backoff, a rate limit): True when stopped meanwhile.
        # Tests replace it with one that moves a fake clock.
        self.pause: Callable[[float], bool] = self._stop.wait

    def start(self) -> None:
        self.claim_cursor()
        self._ticker.start()

    def claim_cursor(self) -> None:
        """Start the cursor at the log's end the first time; a restart resumes where it was."""
        with self._pool.connection() as conn:
            conn.execute(
                """INSERT INTO notifier_cursors (name, last_event_id) VALUES (%s, %s)
                   ON CONFLICT (name) DO NOTHING""",
                (self.name, last_event_id(conn)),
            )

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
            if delivered is None:
                return None  # stopped mid-retry: the next start tries this event again
            conn.execute(
                "UPDATE notifier_cursors SET last_event_id = %s, updated_at = now()"
                " WHERE name = %s",
                (events[0].id, self.name),
            )
            return delivered

    def _deliver(self, event: CaseEvent) -> int | None:
        """1 delivered, 0 skipped or given up (the cursor moves on), None stopped meanwhile."""
        if self._routing is not None and not self._routing.wants(event):
            self._metrics.notifications.labels(self.name, "skipped").inc()
            return 0
        attempt = 0
        while True:
            try:
                self.notifier.notify(event)
                self._metrics.notifications.labels(self.name, "delivered").inc()
                return 1
            except NotifyError as exc:
                self._metrics.notifications.labels(self.name, exc.outcome).inc()
                log.warning("notifier %s, event %d, try %d: %s", self.name, event.id,
                            attempt + 1, exc)  # fmt: skip
                wait = exc.retry_after_s
                if wait is None and (exc.permanent or attempt >= self.retries):
                    break
                if self.pause(wait if wait is not None else self.backoff_s * 2**attempt):
                    return None
                attempt += 0 if wait is not None else 1
        self._metrics.notifications.labels(self.name, "failed").inc()
        return 0


def build_runners(
    site: SiteConfig, registry: Registry, context: NotifierContext, pool: ConnectionPool,
    metrics: HubMetrics,
) -> list[NotifierRunner]:  # fmt: skip
    """A runner for each notifier in the site file; an unknown kind is a start-up error."""
    runners = []
    for i, spec in enumerate(site.notifiers):
        notifier, routing = build_notifier(i, spec, registry, context)
        runners.append(NotifierRunner(spec.name or spec.kind, notifier, pool, metrics, routing))
    return runners


def build_notifier(
    i: int, spec: NotifierSpec, registry: Registry, context: NotifierContext
) -> tuple[Notifier, Routing | None]:
    """Site notifier `i` and, for a chat robot, its routing; `ConfigError` naming the field."""
    try:
        plugin = registry.get(NOTIFIERS, spec.kind)
    except HubError as exc:
        raise ConfigError(f"notifiers[{i}].kind: {exc}") from exc
    try:
        notifier = plugin.build(spec, context)
        routing = Routing.of(spec, context.site) if isinstance(notifier, MessageNotifier) else None
    except HubError as exc:
        raise ConfigError(f"notifiers[{i}] ({spec.kind}): {exc}") from exc
    return notifier, routing

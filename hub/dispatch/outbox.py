"""The outbox: dispatch rows published to the patrols' devices after their commit.

`relay_once()` claims `pending` rows with ``FOR UPDATE SKIP LOCKED`` (several hub
processes share the work), publishes each on `gridhub/patrols/{patrol_id}/dispatch`
and waits for the broker's PUBACK before marking it `sent`; the first that is not
confirmed stops the round, and the rows left stay `pending` for the next one. At
start, `requeue_unanswered()` makes every `sent` row `pending` again: a crash
between commit and publish, or a broker that lost the message, costs a repeat,
never a loss.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from psycopg_pool import ConnectionPool

from hub.clock import Clock
from hub.dispatch.rows import Conn
from hub.errors import BrokerError
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink

log = logging.getLogger(__name__)


def dispatch_topic(patrol_id: str) -> str:
    return f"gridhub/patrols/{patrol_id}/dispatch"


class Outbox:
    """Publishes the dispatch rows that are waiting, each confirmed by the broker."""

    def __init__(
        self, pool: ConnectionPool, link: MqttLink, metrics: HubMetrics, clock: Clock
    ) -> None:
        self._pool = pool
        self._link = link
        self._metrics = metrics
        self._clock = clock

    @staticmethod
    def requeue_unanswered(conn: Conn) -> None:
        """Publish again what was sent but never answered (at start, in the caller's
        transaction): the hub cannot know whether the device got it."""
        conn.execute("UPDATE dispatches SET state = 'pending' WHERE state = 'sent'")

    def relay_once(self) -> int:
        """Publish pending dispatches (claimed with SKIP LOCKED); return how many."""
        published = 0
        with self._pool.connection() as conn, conn.transaction():
            rows = conn.execute(
                """SELECT id, patrol_id, payload FROM dispatches WHERE state = 'pending'
                   ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"""
            ).fetchall()
            for dispatch_id, patrol_id, payload in rows:
                if not self._publish(str(patrol_id), payload):
                    break
                conn.execute(
                    "UPDATE dispatches SET state = 'sent', published_at = %s WHERE id = %s",
                    (self._clock.now(), dispatch_id),
                )
                published += 1
        self._metrics.dispatches.labels("published").inc(published)
        return published

    def _publish(self, patrol_id: str, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self._link.publish_confirmed(dispatch_topic(patrol_id), body)
        except BrokerError as exc:
            log.warning("could not publish dispatch to %s: %s", patrol_id, exc)
            return False
        return True

    def send_cancel(self, patrol_id: str, dispatch_id: int, case_id: int) -> None:
        """Tell a patrol its dispatch is withdrawn (QoS 1, not waited for: the row is
        already `cancelled`, and the device's replies to it are refused)."""
        body = {"dispatch_id": dispatch_id, "case_id": case_id, "cancelled": True}
        self._link.publish(dispatch_topic(patrol_id), json.dumps(body).encode())

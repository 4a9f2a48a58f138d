"""MQTT ingest of patrol locations and duty status (native topics and OwnTracks).

Topics:
  gridhub/patrols/{patrol_id}/location   native JSON fix (see payloads.py)
  gridhub/patrols/{patrol_id}/status     on_duty | off_duty | busy
  owntracks/{user}/{device}              OwnTracks, mapped to a patrol by the site file

A fix from an unknown or disabled patrol, or one that fails validation, is
rejected: counted by reason in /metrics and logged once per source per minute.
OwnTracks messages of other types (lwt, status, …) are not used; they are
counted too, as `ignored_type`, so every message is accounted for.
An accepted fix goes to the live index (unless older than the one held) and to
the batched history writer (or, with `cluster.shared_history`, the history is
left to hub/patrols/history.py). Handlers never raise: one bad message never stops
the MQTT client, and none writes to the database on its thread.

Every subscription is QoS 1 and acknowledged after commit: a fix once the batch
holding it is written (hub/patrols/writer.py), a duty change once its row is
(hub/patrols/duty.py), a rejected message at once, after it is counted. A
retained fix the broker sends again at a reconnect is one row (the history's
`(patrol_id, ts)` is unique).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import Counter
from psycopg_pool import ConnectionPool

from hub.clock import Clock
from hub.errors import PayloadError
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.infra.throttle import ThrottledLog
from hub.model import PatrolFix, PatrolInfo
from hub.patrols.duty import DutyChange, DutyWriter
from hub.patrols.index import PatrolIndex
from hub.patrols.payloads import parse_native_location, parse_owntracks, parse_status
from hub.patrols.writer import PositionWriter
from hub.storage.position_repo import latest_fixes

log = logging.getLogger(__name__)

LOCATION_TOPIC = "gridhub/patrols/+/location"
STATUS_TOPIC = "gridhub/patrols/+/status"
OWNTRACKS_TOPIC = "owntracks/+/+"


class PatrolIngest:
    """Turns patrol MQTT messages into index updates and stored positions."""

    def __init__(
        self, index: PatrolIndex, writer: PositionWriter, pool: ConnectionPool,
        metrics: HubMetrics, clock: Clock, store_history: bool = True,
    ) -> None:  # fmt: skip
        self._index = index
        self._writer = writer
        self._store_history = store_history
        self._pool = pool
        self.duty = DutyWriter(pool)  # the owner starts and stops it
        self._metrics = metrics
        self._throttle = ThrottledLog(log, clock)
        self._lock = threading.Lock()
        self._enabled: set[str] = set()
        self._owntracks: dict[tuple[str, str], str] = {}
        self._fix_counters: dict[tuple[str, str], Counter] = {}

    def set_roster(self, patrols: Iterable[PatrolInfo]) -> None:
        """Which patrols exist, are enabled, and which OwnTracks devices they use."""
        patrols = list(patrols)
        with self._lock:
            self._enabled = {p.id for p in patrols if p.enabled}
            self._owntracks = {
                (p.owntracks_user, p.owntracks_device): p.id
                for p in patrols
                if p.owntracks_user and p.owntracks_device
            }
        self._index.register(patrols)

    def restore_fixes(self, since: datetime) -> int:
        """Put each patrol's latest stored fix since `since` back in the live index, so a
        restarted hub knows who is where without waiting for the next reports."""
        with self._pool.connection() as conn:
            fixes = latest_fixes(conn, since)
        restored = [f for f in fixes if f.patrol_id in self._index]
        for fix in restored:
            self._index.update_fix(fix)
        return len(restored)

    def subscribe(self, link: MqttLink) -> None:
        # QoS 1 throughout, acknowledged after commit. A site whose devices burst
        # raises Mosquitto's max_queued_messages (docs/mqtt.md): the default 1000
        # drops the rest of a burst for a client that is behind.
        link.subscribe(LOCATION_TOPIC, self.on_location, qos=1, acks=True)
        link.subscribe(OWNTRACKS_TOPIC, self.on_owntracks, qos=1, acks=True)
        link.subscribe(STATUS_TOPIC, self.on_status, qos=1, acks=True)

    def on_location(self, message: ReceivedMessage) -> None:
        try:
            patrol_id = self.topic_patrol(message)
            report = parse_native_location(patrol_id, message.payload, message.received_at)
        except PayloadError as exc:
            self._reject("location", message, exc)
            return
        if report.duty_status is not None:
            self._set_duty(patrol_id, report.duty_status)
        self._accept(report.fix, message)

    def on_owntracks(self, message: ReceivedMessage) -> None:
        try:
            _, user, device = message.topic_levels(3)
            patrol_id = self.owntracks_patrol(user, device)
            fix = parse_owntracks(patrol_id, message.payload, message.received_at)
            if fix is None:
                raise PayloadError("ignored_type", "not a location message (not used)")
        except PayloadError as exc:
            self._reject("owntracks", message, exc)
            return
        self._accept(fix, message)

    def on_status(self, message: ReceivedMessage) -> None:
        try:
            patrol_id = self.topic_patrol(message)
            report = parse_status(message.payload)
        except PayloadError as exc:
            self._reject("status", message, exc)
            return
        self._set_duty(patrol_id, report.duty_status, message.ack)

    def topic_patrol(self, message: ReceivedMessage) -> str:
        """The patrol of a `gridhub/patrols/{id}/…` topic, which must exist and be enabled."""
        patrol_id = message.topic_levels(4)[2]
        self._check_patrol(patrol_id)
        return patrol_id

    def _check_patrol(self, patrol_id: str) -> None:
        with self._lock:
            if patrol_id in self._enabled:
                return
        if patrol_id in self._index:
            raise PayloadError("disabled_patrol", f"patrol {patrol_id} is disabled")
        raise PayloadError("unknown_patrol", f"no patrol {patrol_id!r} in the registry")

    def owntracks_patrol(self, user: str, device: str) -> str:
        """The enabled patrol an OwnTracks device reports for, or `PayloadError`."""
        with self._lock:
            patrol_id = self._owntracks.get((user, device))
        if patrol_id is None:
            raise PayloadError("unknown_patrol", f"OwnTracks {user}/{device} maps to no patrol")
        self._check_patrol(patrol_id)
        return patrol_id

    def _accept(self, fix: PatrolFix, message: ReceivedMessage) -> None:
        moved = self._index.update_fix(fix)
        if self._store_history:
            self._writer.put(fix, message.ack)
        else:  # another instance stores it (hub/patrols/history.py)
            message.ack()
        self._fix_counter(fix.source, "accepted" if moved else "out_of_order").inc()

    def _fix_counter(self, source: str, outcome: str) -> Counter:
        """The labelled counter, cached: `labels()` is too slow for every message."""
        key = (source, outcome)
        counter = self._fix_counters.get(key)
        if counter is None:
            counter = self._fix_counters[key] = self._metrics.patrol_fixes.labels(*key)
        return counter

    def _set_duty(
        self, patrol_id: str, duty_status: str, ack: Callable[[], None] | None = None
    ) -> None:
        """The live index at once; the row from the duty writer's thread, then `ack`."""
        state = self._index.get(patrol_id)
        if state is not None and state.duty_status == duty_status:
            if ack is not None:
                ack()
            return
        self._index.set_duty(patrol_id, duty_status)
        if ack is None:
            self.duty.submit(DutyChange(patrol_id, duty_status))
        else:
            self.duty.submit(DutyChange(patrol_id, duty_status, ack))

    def _reject(self, channel: str, message: ReceivedMessage, exc: PayloadError) -> None:
        self._metrics.mqtt_rejected.labels(channel, exc.reason).inc()
        message.ack()
        topic = message.topic
        self._throttle.warning(
            f"{channel}:{topic}:{exc.reason}", "rejected %s message on %s: %s",
            channel, topic, exc,
        )  # fmt: skip

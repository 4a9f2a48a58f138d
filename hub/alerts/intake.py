"""The hub's `AlertSink`: accepts alerts at once and records them in the background.

Camera workers and sensor ingest must never wait on the database, nor lose an
alert because it is briefly unreachable. `submit()` only appends to a bounded
queue (`hub.infra.retry_queue`); one thread hands each alert to `CaseSink.record`,
in order. A database that is down is retried with capped backoff, holding the
alert; a full queue drops its oldest waiting alert and counts it
(`gridhub_alerts_total{outcome="dropped"}`); an alert that fails for any other
reason is logged with its traceback, counted as `failed`, and the queue moves on.

`submit_acked` carries the acknowledgement of the MQTT message an alert came in
(a sensor event): it is called once the alert is committed, or counted as failed
or dropped, so a hub killed with alerts in this queue gets them again. Alerts
made in-process (cameras, through `submit`) are written to the `AlertSpool`
(hub/alerts/spool.py) before `submit` returns, marked done once committed, and
replayed by `replay()` at the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import psycopg
from psycopg_pool import PoolTimeout

from hub.alerts.sink import CaseSink
from hub.alerts.spool import AlertSpool
from hub.infra.metrics import HubMetrics
from hub.infra.retry_queue import RetryPolicy, RetryQueue
from hub.model import Alert

log = logging.getLogger(__name__)


def _no_ack() -> None:
    return None


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An alert waiting to be recorded, and what to call once it is."""

    alert: Alert
    ack: Callable[[], None] = _no_ack


class AlertIntake:
    """A non-blocking front for `CaseSink` (an `AckingAlertSink`)."""

    def __init__(
        self, sink: CaseSink, metrics: HubMetrics, limit: int = 100_000,
        spool: AlertSpool | None = None,
    ) -> None:  # fmt: skip
        self.queue = _AlertQueue(sink, metrics, limit)
        self.spool = spool
        self._metrics = metrics

    @property
    def pending(self) -> int:
        return self.queue.pending

    def start(self) -> None:
        self.queue.start()

    def stop(self) -> None:
        self.queue.stop()

    def submit(self, alert: Alert) -> None:
        """The `AlertSink`: spool the alert (fsync), queue it, and return."""
        if self.spool is None:
            self.queue.submit(PendingAlert(alert))
            return
        spool_id = self.spool.append(alert)
        if spool_id is None:
            self._metrics.alert_spool_full.inc()
            self.queue.submit(PendingAlert(alert))
            return
        spooled = replace(alert, ref=f"spool:{spool_id}")
        self.queue.submit(PendingAlert(spooled, partial(self.spool.done, spool_id)))

    def replay(self) -> int:
        """Queue the alerts a previous run spooled but never committed; how many."""
        if self.spool is None:
            return 0
        alerts = self.spool.replay()
        for alert in alerts:
            spool_id = (alert.ref or "").removeprefix("spool:")
            self.queue.submit(PendingAlert(alert, partial(self.spool.done, spool_id)))
        if alerts:
            log.warning("replaying %d camera alert(s) spooled but not recorded before the "
                        "last stop (%s)", len(alerts), self.spool.path)  # fmt: skip
            self._metrics.recovered.labels("spooled_alerts").inc(len(alerts))
        return len(alerts)

    def submit_acked(self, alert: Alert, ack: Callable[[], None]) -> None:
        """Queue the alert; `ack` once it is committed (or counted as failed or dropped)."""
        self.queue.submit(PendingAlert(alert, ack))


class _AlertQueue(RetryQueue[PendingAlert]):
    """The queue and its recording thread."""

    def __init__(self, sink: CaseSink, metrics: HubMetrics, limit: int) -> None:
        retryable = (psycopg.OperationalError, PoolTimeout)
        policy = RetryPolicy(
            "alert-intake", limit, retryable, first_backoff_s=0.5, max_backoff_s=10.0
        )
        super().__init__(policy)
        self._sink = sink
        self._metrics = metrics

    def _apply(self, batch: list[PendingAlert]) -> None:
        for item in batch:  # batches of one: each alert is its own transaction
            self._sink.record(item.alert)
            item.ack()

    def _held(self, batch: list[PendingAlert], exc: BaseException) -> None:
        log.warning("database unavailable, holding %d alert(s): %s", self.pending, exc)

    def _failed(self, batch: list[PendingAlert], exc: Exception) -> None:
        for item in batch:
            log.exception("could not record a %s alert; skipped", item.alert.label)
            self._metrics.alerts.labels(item.alert.label, "failed").inc()
            item.ack()

    def _dropped(self, item: PendingAlert, overflow: int) -> None:
        self._metrics.alerts.labels(item.alert.label, "dropped").inc()
        log.error("alert queue full: dropped a %s alert", item.alert.label)
        item.ack()

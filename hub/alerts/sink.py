"""Alerts into cases: store every alert, then open a case or join the one already open.

The de-duplication key is (source, kind, region): a camera's thrown-object alert
on its facade zone joins the case open for that camera, kind and zone — or one
closed less than the scenario's `dedupe_window_s` ago — instead of opening a
second case. The grid comes from the source's location; severity and deadlines
from the scenario (hub.alerts.scenarios: a camera alert's from its detector plugin,
the zh title first, the en one in the details). A cleared alert (`Alert.cleared`:
the lane is free again) is noted on the open case and never opens one; audit lines
and metrics show it as `<kind>_cleared`, as they always have. An alert stored before
(the same `ref`: a redelivered sensor event) is counted as `duplicate` and changes
nothing. High-confidence scenarios can be configured to be accepted and dispatched at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from hub.alerts.scenarios import ScenarioBook
from hub.cases.store import NewCase, count_alert, matching_case, open_case
from hub.cases.workflow import AUTO_ACCEPT_ACTOR, CaseAction, apply
from hub.clock import Clock
from hub.config import SiteConfig
from hub.dispatch.dispatcher import Dispatcher
from hub.errors import HubError
from hub.infra.metrics import HubMetrics
from hub.model import Alert
from hub.storage.alert_repo import insert_alert, link_alert
from hub.storage.site_repo import Place, camera_place, sensor_place

log = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What became of one alert."""

    alert_id: int
    case_id: int | None
    outcome: str  # opened | joined | cleared | orphan | duplicate
    dispatch: bool  # the case should be dispatched now


class CaseSink:
    """Alerts stored, de-duplicated and turned into cases (synchronously: see intake.py)."""

    def __init__(
        self, pool: ConnectionPool, site: SiteConfig, dispatcher: Dispatcher,
        metrics: HubMetrics, clock: Clock, scenarios: ScenarioBook,
    ) -> None:  # fmt: skip
        self._pool = pool
        self._site = site
        self.scenarios = scenarios
        self._dispatcher = dispatcher
        self._metrics = metrics
        self._clock = clock

    def record(self, alert: Alert) -> AlertOutcome:
        """Store the alert and apply it to a case; dispatch when the scenario says so."""
        for attempt in range(2):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    outcome = self._apply(conn, alert)
                break
            except psycopg.errors.UniqueViolation:
                if attempt:  # another hub opened the same case twice in a row: give up loudly
                    raise
                log.info("another hub opened the case for this alert first; joining it")
        self._metrics.alerts.labels(alert.label, outcome.outcome).inc()
        if outcome.dispatch and outcome.case_id is not None:
            try:
                self._dispatcher.dispatch(outcome.case_id)
            except (psycopg.Error, HubError) as exc:  # accepted and on the board: by hand
                log.error("case %d was accepted but could not be dispatched: %s",
                          outcome.case_id, exc)  # fmt: skip
        return outcome

    def _apply(self, conn: Conn, alert: Alert) -> AlertOutcome:
        source = self._source(conn, alert)
        key = dedupe_key(alert)
        alert_id = insert_alert(conn, alert)
        if alert_id is None:  # stored before: a redelivery changes nothing
            return AlertOutcome(0, None, "duplicate", False)
        case_id = self._matching_case(conn, key, alert)
        if case_id is not None:
            # The actor and the fallback note are the label: `fire_lane_cleared` for a clearing.
            action = CaseAction(
                case_id, "alert", alert.label, "system", alert.summary or alert.label
            )
            apply(conn, action, self._clock.now())
            self._link(conn, alert_id, case_id, alert)
            return AlertOutcome(alert_id, case_id, "cleared" if alert.cleared else "joined", False)
        if alert.cleared or source is None:
            return AlertOutcome(alert_id, None, "orphan", False)
        case_id, dispatch = self._open(conn, alert, source, key)
        self._link(conn, alert_id, case_id, alert)
        return AlertOutcome(alert_id, case_id, "opened", dispatch)

    @staticmethod
    def _source(conn: Conn, alert: Alert) -> Place | None:
        if alert.camera_id:
            table, place = "cameras", camera_place(conn, alert.camera_id)
        elif alert.sensor_id:
            table, place = "sensors", sensor_place(conn, alert.sensor_id)
        else:
            return None
        if place is None:
            log.warning(
                "alert %s from unknown %s %s: stored without a case",
                alert.label, table, alert.camera_id or alert.sensor_id,
            )  # fmt: skip
        return place

    def _matching_case(self, conn: Conn, key: str, alert: Alert) -> int | None:
        """The open case for `key`, or (not for a clearing) one closed within the window."""
        window = timedelta(seconds=self.scenarios.for_alert(alert).dedupe_window_s)
        since = None if alert.cleared else self._clock.now() - window
        return matching_case(conn, key, since)

    def _open(self, conn: Conn, alert: Alert, source: Place, key: str) -> tuple[int, bool]:
        scenario, title = self.scenarios.for_alert(alert), self.scenarios.title(alert)
        now = self._clock.now()
        details = {"confidence": alert.confidence, "region": alert.region, **alert.details}
        if title.en is not None:
            details["title_en"] = title.en
        new = NewCase(
            kind=alert.kind, title=title.zh, severity=scenario.severity, grid_id=source.grid_id,
            lat=source.lat, lon=source.lon, camera_id=alert.camera_id,
            sensor_id=alert.sensor_id, dedupe_key=key, details=details,
        )  # fmt: skip
        accept_s = self._site.deadlines(alert.kind, source.grid_id)[0]
        case_id = open_case(conn, new, now, alert.camera_id or alert.sensor_id or "hub", accept_s)
        threshold = scenario.auto_dispatch_confidence
        auto = scenario.dispatch and threshold is not None and alert.confidence >= threshold
        if auto:
            note = f"auto-accepted: confidence {alert.confidence:.2f} >= {threshold:.2f}"
            apply(conn, CaseAction(case_id, "accept", AUTO_ACCEPT_ACTOR, "system", note), now)
        return case_id, auto

    @staticmethod
    def _link(conn: Conn, alert_id: int, case_id: int, alert: Alert) -> None:
        link_alert(conn, alert_id, alert.confirmed_at, case_id)
        count_alert(conn, case_id, alert.confirmed_at)


def dedupe_key(alert: Alert) -> str:
    """(source, kind, region) as one string; a clearing has the key of what it clears."""
    source = f"camera:{alert.camera_id}" if alert.camera_id else f"sensor:{alert.sensor_id}"
    return f"{source}:{alert.kind}:{alert.region or '-'}"

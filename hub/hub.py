"""The running hub: the parts every interface shares, built in one place.

`open_hub` opens the connection pool, writes the site file into the database,
builds the grid and patrol indexes (the patrols' last stored fixes included, so
a restart does not forget who is where), starts the position writer, the patrol
ingest and the dispatcher, and connects to the MQTT broker; closing it stops
them in reverse order (the position writer flushes what it holds). The API and
the CLI use it; there are no module-level singletons and tests build a hub each.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from psycopg_pool import ConnectionPool

from hub.alerts.intake import AlertIntake
from hub.alerts.scenarios import ScenarioBook
from hub.alerts.sensors import SensorIngest
from hub.alerts.sink import CaseSink
from hub.alerts.spool import AlertSpool, spool_path
from hub.cameras.leases import CameraLeases, this_instance
from hub.cameras.manager import CameraManager, ManagerParts
from hub.cameras.metrics import CameraCollector
from hub.cases.feed import EventFeed
from hub.cases.sla import SlaMonitor
from hub.clock import Clock, SystemClock
from hub.config import SiteConfig
from hub.dispatch.dispatcher import Dispatcher
from hub.errors import ConfigError
from hub.geo import GridIndex, GridNode, GridTopology
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink
from hub.model import GridInfo
from hub.notify.escalation import escalation_parts
from hub.notify.runner import NotifierRunner, build_runners
from hub.patrols.history import SharedHistory
from hub.patrols.index import AvailabilityRules, PatrolIndex
from hub.patrols.ingest import PatrolIngest
from hub.patrols.writer import PositionWriter
from hub.plugins import DETECTORS, NOTIFIERS, SOURCES, load_registry
from hub.seams import AlertSink, NotifierContext
from hub.services import Endpoints
from hub.storage.db import open_pool
from hub.storage.site_repo import grid_index, list_grids, list_patrols, sync_site

log = logging.getLogger(__name__)


@dataclass
class Hub:
    """Shared state of one running hub."""

    site: SiteConfig
    endpoints: Endpoints
    pool: ConnectionPool
    mqtt: MqttLink
    metrics: HubMetrics
    grids: GridIndex
    topology: GridTopology
    patrols: PatrolIndex
    ingest: PatrolIngest
    positions: PositionWriter
    dispatcher: Dispatcher
    cases: CaseSink
    alerts: AlertIntake  # the AlertSink for detectors, cameras and sensors
    sla: SlaMonitor
    feed: EventFeed
    notifiers: list[NotifierRunner]
    clock: Clock
    cameras: CameraManager


def topology_of(grids: list[GridInfo]) -> GridTopology:
    return GridTopology(GridNode(g.id, g.level, g.parent_id, g.geometry) for g in grids)


class Part(Protocol):
    """A background part of the hub."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@contextmanager
def open_hub(
    site: SiteConfig,
    endpoints: Endpoints,
    clock: Clock | None = None,
    alert_sink: AlertSink | None = None,
) -> Iterator[Hub]:
    """Run the hub's parts against a migrated database and a broker; stop them on exit.

    Camera alerts go to the hub's alert intake (and so become cases) unless a test
    passes its own `alert_sink`.
    """
    clock = clock or SystemClock()
    shared_history = _shared_history(site, endpoints)
    metrics = HubMetrics()
    registry = load_registry([SOURCES, DETECTORS, NOTIFIERS])
    with ExitStack() as stack:

        def run(part: Part) -> None:
            part.start()
            stack.callback(part.stop)

        pool = open_pool(endpoints.database_url, site.database.pool_size)
        stack.callback(pool.close)
        with pool.connection() as conn:
            sync_site(conn, site)
            grids, patrols = list_grids(conn), list_patrols(conn)
        topology = topology_of(grids)
        rules = AvailabilityRules(site.dispatch.max_fix_age_s, site.dispatch.radius_m)
        index = PatrolIndex(topology, clock, rules)
        writer = PositionWriter(
            pool,
            on_written=metrics.positions_written.inc,
            on_dropped=lambda reason: metrics.positions_dropped.labels(reason).inc(),
        )
        run(writer)
        link = _mqtt_link(site, endpoints, metrics, clock)
        ingest = PatrolIngest(index, writer, pool, metrics, clock, not shared_history)
        run(ingest.duty)
        ingest.set_roster(patrols)
        ingest.restore_fixes(clock.now() - timedelta(seconds=site.dispatch.max_fix_age_s))
        ingest.subscribe(link)
        dispatcher = Dispatcher(pool, index, link, metrics, clock, site)
        dispatcher.subscribe()
        scenarios = ScenarioBook.of(site, registry)
        cases = CaseSink(pool, site, dispatcher, metrics, clock, scenarios)
        alerts = _alert_intake(site, endpoints, cases, metrics)
        run(alerts)
        SensorIngest(site.sensors, alerts, metrics, clock).subscribe(link)
        run(link)
        if shared_history:
            run(_history_link(endpoints, link, clock, SharedHistory(ingest, writer)))
        run(dispatcher)
        sla = SlaMonitor(pool, site, metrics, clock)
        run(sla)
        feed = EventFeed(pool)
        run(feed)
        runners = build_runners(site, registry, NotifierContext(site, link, clock), pool, metrics)
        notify_parts: list[Part] = [
            *runners,
            *escalation_parts(site, runners, pool, metrics, clock),
        ]
        for notify_part in notify_parts:
            run(notify_part)
        instance = this_instance(site.cluster.instance)
        leases = CameraLeases(pool, instance, site.cluster.lease_ttl_s)
        parts = ManagerParts(
            pool, link, registry, alert_sink or alerts, clock, site.site.data_dir, leases
        )
        cameras = CameraManager(parts, site.video)
        metrics.registry.register(CameraCollector(cameras.healths))
        run(cameras)
        yield Hub(
            site, endpoints, pool, link, metrics, grid_index(grids), topology, index, ingest,
            writer, dispatcher, cases, alerts, sla, feed, runners, clock, cameras,
        )  # fmt: skip


def _history_link(
    endpoints: Endpoints, link: MqttLink, clock: Clock, history: SharedHistory
) -> MqttLink:
    """A second MQTT session that reads the fixes other instances share."""
    history_link = MqttLink(
        endpoints.broker_url, f"{link.client_id}-history", clock=clock,
        persistent=link.persistent, mqtt5=True,
    )  # fmt: skip
    history.subscribe(history_link)
    return history_link


def _alert_intake(
    site: SiteConfig, endpoints: Endpoints, cases: CaseSink, metrics: HubMetrics
) -> AlertIntake:
    """The alert intake with its spool, holding what a previous run spooled, unrecorded."""
    spool = spool_path(site.site.data_dir, endpoints.database_url, site.cluster.instance)
    alerts = AlertIntake(cases, metrics, spool=AlertSpool(spool))
    alerts.replay()
    return alerts


def _mqtt_link(
    site: SiteConfig, endpoints: Endpoints, metrics: HubMetrics, clock: Clock
) -> MqttLink:
    client_id, persistent = mqtt_identity(site)
    link = MqttLink(
        endpoints.broker_url, client_id,
        lambda subscription: metrics.mqtt_handler_errors.labels(subscription).inc(),
        clock, persistent, mqtt5=not endpoints.broker_embedded,
    )  # fmt: skip
    metrics.mqtt_redelivered.set_function(lambda: link.redelivered)
    return link


def mqtt_identity(site: SiteConfig) -> tuple[str, bool]:
    """The hub's MQTT client id, and whether its broker session outlives a connection:
    only a stable id (one per named instance) can take its session back."""
    instance = site.cluster.instance
    if site.mqtt.persistent_session and instance:
        return f"{site.mqtt.client_id}-{instance}", True
    return f"{site.mqtt.client_id}-{uuid.uuid4().hex[:8]}", False


def _shared_history(site: SiteConfig, endpoints: Endpoints) -> bool:
    """Whether fixes are stored from the shared subscription (hub/patrols/history.py)."""
    if site.cluster.shared_history and endpoints.broker_embedded:
        raise ConfigError(
            "cluster.shared_history needs a configured broker with shared subscriptions "
            "(Mosquitto 2, EMQX); the embedded broker serves a single hub"
        )
    return site.cluster.shared_history

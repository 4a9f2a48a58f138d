"""The running hub: the parts every interface shares, built in one place.

`open_hub` opens the connection pool, writes the site file into the database,
and connects to the MQTT broker; the API's lifespan and the CLI commands use it,
so there are no module-level singletons and tests build a hub per test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from hub.cameras.manager import CameraManager, ManagerParts
from hub.cameras.metrics import CameraCollector
from hub.cameras.sink import RecordingAlertSink
from hub.clock import Clock, SystemClock
from hub.config import SiteConfig
from hub.detect import AlertSink
from hub.geo import GridIndex
from hub.metrics import HubMetrics
from hub.mqtt import MqttLink
from hub.plugins import load_registry
from hub.runtime import Endpoints
from hub.storage.db import open_pool
from hub.storage.site_repo import grid_index, list_grids, sync_site

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
    clock: Clock
    cameras: CameraManager


@contextmanager
def open_hub(
    site: SiteConfig,
    endpoints: Endpoints,
    clock: Clock | None = None,
    alert_sink: AlertSink | None = None,
) -> Iterator[Hub]:
    """Connect to the (migrated) database and the broker, start the camera workers;
    stop and close everything on exit.

    `alert_sink` receives every alert (detectors', `camera_offline`); by default
    alerts are logged and recorded in the `alerts` table.
    """
    clock = clock or SystemClock()
    registry = load_registry(["gridhub.sources", "gridhub.detectors"])
    pool = open_pool(endpoints.database_url, site.database.pool_size)
    try:
        with pool.connection() as conn:
            sync_site(conn, site)
            grids = grid_index(list_grids(conn))
        link = MqttLink(endpoints.broker_url, f"{site.mqtt.client_id}-hub")
        link.start()
        try:
            sink = alert_sink or RecordingAlertSink(pool)
            parts = ManagerParts(pool, link, registry, sink, clock, site.site.data_dir)
            cameras = CameraManager(parts, site.video)
            metrics = HubMetrics()
            metrics.registry.register(CameraCollector(cameras.healths))
            cameras.start()
            try:
                yield Hub(site, endpoints, pool, link, metrics, grids, clock, cameras)
            finally:
                cameras.stop()
        finally:
            link.stop()
    finally:
        pool.close()

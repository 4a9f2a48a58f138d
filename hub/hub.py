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

from hub.clock import Clock, SystemClock
from hub.config import SiteConfig
from hub.geo import GridIndex
from hub.metrics import HubMetrics
from hub.mqtt import MqttLink
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


@contextmanager
def open_hub(site: SiteConfig, endpoints: Endpoints, clock: Clock | None = None) -> Iterator[Hub]:
    """Connect to the (migrated) database and the broker; close both on exit."""
    pool = open_pool(endpoints.database_url, site.database.pool_size)
    try:
        with pool.connection() as conn:
            sync_site(conn, site)
            grids = grid_index(list_grids(conn))
        link = MqttLink(endpoints.broker_url, f"{site.mqtt.client_id}-hub")
        link.start()
        try:
            yield Hub(site, endpoints, pool, link, HubMetrics(), grids, clock or SystemClock())
        finally:
            link.stop()
    finally:
        pool.close()

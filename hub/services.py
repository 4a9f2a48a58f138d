"""Where the hub's database and broker are: configured servers or embedded ones.

`service_endpoints(site)` is a context manager: it starts an embedded PostgreSQL
and/or MQTT broker for whatever the site leaves unconfigured, says in the log
which ones it started and where, and stops them on exit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from hub.config import SiteConfig
from hub.infra.embedded import EmbeddedBroker, EmbeddedPostgres
from hub.infra.mqtt import BrokerAddress
from hub.storage.db import describe_server

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Resolved service URLs. The URLs may hold passwords: use `describe()` to show them."""

    database_url: str
    database_embedded: bool
    broker_url: str
    broker_embedded: bool

    def describe(self) -> dict[str, str]:
        """Password-free descriptions for logs and /api/health."""
        return {
            "database": describe_server(self.database_url),
            "broker": BrokerAddress.parse(self.broker_url).describe(),
        }


@contextmanager
def service_endpoints(site: SiteConfig) -> Iterator[Endpoints]:
    """Yield the site's endpoints, running embedded services for the unconfigured ones."""
    with ExitStack() as stack:
        db_url = site.database.url.get_secret_value() if site.database.url else None
        if db_url is None:
            pg = EmbeddedPostgres(site.site.data_dir / "postgres")
            db_url = pg.start()
            stack.callback(pg.stop)
        broker_url = site.mqtt.url.get_secret_value() if site.mqtt.url else None
        if broker_url is None:
            broker = EmbeddedBroker(site.mqtt.embedded_port)
            broker_url = broker.start()
            stack.callback(broker.stop)
        endpoints = Endpoints(
            database_url=db_url,
            database_embedded=site.database.url is None,
            broker_url=broker_url,
            broker_embedded=site.mqtt.url is None,
        )
        where = endpoints.describe()
        log.info(
            "database: %s (%s); MQTT broker: %s (%s)",
            where["database"],
            "embedded" if endpoints.database_embedded else "configured",
            where["broker"],
            "embedded" if endpoints.broker_embedded else "configured",
        )
        yield endpoints

"""Running the hub: services, migrations and the HTTP server.

`serve()` is what `gridhub run` and `gridhub demo` do: fail early on a taken
port, start embedded services where none are configured, wait for the database
and broker, migrate, open the hub and serve the API until interrupted. A caller
may attach more to the running hub (`Attach`): the demo adds its simulated world
that way (demo/world.py).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from hub.config import SiteConfig
from hub.errors import HubError
from hub.hub import Hub, open_hub
from hub.infra.mqtt import BrokerAddress
from hub.services import Endpoints, service_endpoints
from hub.storage.db import connect
from hub.storage.migrate import MigrationReport, migrate
from hub.storage.timescale import TimeseriesPolicy

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

log = logging.getLogger("gridhub")


def run_migrations(url: str, policy: TimeseriesPolicy) -> MigrationReport:
    with connect(url, autocommit=True) as conn:
        return migrate(conn, policy)


def timeseries_policy(site: SiteConfig) -> TimeseriesPolicy:
    return TimeseriesPolicy(
        retention_days=dict(site.database.retention_days),
        compress_after_days=site.database.compress_after_days,
    )


# Starts something beside a running hub, stopped through the ExitStack before the hub.
Attach = Callable[[Hub, Endpoints, ExitStack], None]


def serve(
    site: SiteConfig, host: str, port: int, wait_s: float = 0.0, attach: Attach | None = None
) -> None:
    """Start services, migrate, and serve the API until interrupted."""
    import uvicorn

    from hub.api.app import create_app

    ensure_port_free(host, port)
    with service_endpoints(site) as endpoints:
        wait_for_services(endpoints, wait_s)
        report = run_migrations(endpoints.database_url, timeseries_policy(site))
        log.info("database schema at version %04d", report.current_version)
        with open_hub(site, endpoints) as hub, ExitStack() as extras:
            _announce(site, endpoints, host, port)
            if attach is not None:
                attach(hub, endpoints, extras)
            try:  # as uvicorn.run does: Ctrl-C (re-raised once the server stopped) ends it
                uvicorn.Server(server_config(create_app(hub), host, port)).run()
            except KeyboardInterrupt:
                log.info("interrupted: stopping")


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """How the hub's HTTP server runs. uvicorn's own proxy handling is off (it believes
    `X-Forwarded-For` from loopback): `hub.api.proxies` reads the headers, and only from
    `api.trusted_proxies`."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)


def wait_for_services(endpoints: Endpoints, wait_s: float) -> None:
    """Retry the database and broker until they answer or `wait_s` has passed."""
    deadline = time.monotonic() + wait_s
    checks: list[Callable[[], None]] = [
        lambda: connect(endpoints.database_url).close(),
        lambda: probe_broker(endpoints.broker_url),
    ]
    for check in checks:
        while True:
            try:
                check()
                break
            except HubError as exc:
                if time.monotonic() >= deadline:
                    raise
                log.info("waiting for dependencies: %s", exc)
                time.sleep(2)


def probe_broker(url: str) -> None:
    address = BrokerAddress.parse(url)
    try:
        socket.create_connection((address.host, address.port), timeout=3).close()
    except OSError as exc:
        raise HubError(f"cannot reach MQTT broker {address.describe()}: {exc}") from exc


def _announce(site: SiteConfig, endpoints: Endpoints, host: str, port: int) -> None:
    where = endpoints.describe()
    log.info(
        "%s: serving http://%s:%d/ (API docs at /docs); database %s, MQTT %s",
        site.site.name,
        host,
        port,
        where["database"],
        where["broker"],
    )


def ensure_port_free(host: str, port: int) -> None:
    """Fail early, and clearly, when the HTTP port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise HubError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc

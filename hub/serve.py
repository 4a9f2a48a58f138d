"""Running the hub: services, migrations, the HTTP server, and the demo's simulated world.

`serve()` is what `gridhub run` and `gridhub demo` do: fail early on a taken
port, start embedded services where none are configured, wait for the database
and broker, migrate, open the hub and serve the API until interrupted. The demo
adds simulated patrols, rendered camera scenes and a simulated duty operator.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from hub.auth import add_user
from hub.config import SiteConfig
from hub.demo_operator import DutyOperator
from hub.demo_scenes import DemoScenes
from hub.errors import HubError
from hub.hub import Hub, open_hub
from hub.mqtt import BrokerAddress
from hub.patrols.simulator import PatrolSimulator
from hub.runtime import Endpoints, service_endpoints
from hub.storage.db import connect
from hub.storage.migrate import MigrationReport, migrate
from hub.storage.timescale import TimeseriesPolicy

log = logging.getLogger("gridhub")


def run_migrations(url: str, policy: TimeseriesPolicy) -> MigrationReport:
    with connect(url, autocommit=True) as conn:
        return migrate(conn, policy)


def timeseries_policy(site: SiteConfig) -> TimeseriesPolicy:
    return TimeseriesPolicy(
        retention_days=dict(site.database.retention_days),
        compress_after_days=site.database.compress_after_days,
    )


def serve(site: SiteConfig, host: str, port: int, wait_s: float = 0.0, demo: bool = False) -> None:
    """Start services, migrate, and serve the API until interrupted."""
    import uvicorn

    from hub.api.app import create_app

    ensure_port_free(host, port)
    with service_endpoints(site) as endpoints:
        wait_for_services(endpoints, wait_s)
        report = run_migrations(endpoints.database_url, timeseries_policy(site))
        log.info("database schema at version %04d", report.current_version)
        with open_hub(site, endpoints) as hub, ExitStack() as extras:
            if demo:
                start_demo(hub, endpoints, extras)
            _announce(site, endpoints, host, port)
            if demo:
                log.info("demo login: %s / %s (operator), %s / %s (admin)",
                         *DEMO_USERS["operator"], *DEMO_USERS["admin"])  # fmt: skip
            uvicorn.run(create_app(hub), host=host, port=port, log_level="warning")


# Local demo accounts (the demo listens on loopback only): role -> (name, password).
DEMO_USERS = {"operator": ("operator", "gridhub-demo"), "admin": ("admin", "gridhub-demo")}


def start_demo(hub: Hub, endpoints: Endpoints, extras: ExitStack) -> None:
    """The demo's simulated world: patrols, logins, camera scenes and a duty operator
    (stopped through `extras`, before the hub)."""
    extras.enter_context(simulated_patrols(hub, endpoints.broker_url))
    ensure_demo_users(hub)
    for part in (DemoScenes(hub), DutyOperator(hub)):
        part.start()
        extras.callback(part.stop)


def ensure_demo_users(hub: Hub) -> None:
    """The demo's operator and admin logins, created once."""
    with hub.pool.connection() as conn:
        for role, (name, password) in DEMO_USERS.items():
            if conn.execute("SELECT 1 FROM users WHERE name = %s", (name,)).fetchone() is None:
                add_user(conn, name, role, password=password)


@contextmanager
def simulated_patrols(hub: Hub, broker_url: str) -> Iterator[PatrolSimulator]:
    """Run the site's patrols as simulated devices in a thread, for the demo; they take up
    the dispatches they had accepted when the demo last stopped."""
    simulator = PatrolSimulator(hub.site)
    with hub.pool.connection() as conn:
        held = conn.execute(
            "SELECT patrol_id, payload, state FROM dispatches"
            " WHERE state IN ('accepted', 'arrived') ORDER BY id"
        ).fetchall()
    for patrol_id, payload, state in held:
        simulator.resume(str(patrol_id), dict(payload), str(state), time.monotonic())
    thread = threading.Thread(
        target=simulator.run, args=(broker_url,), name="patrol-simulator", daemon=True
    )
    thread.start()
    log.info("simulating %d patrols (%d resume a dispatch)", len(simulator.patrols), len(held))
    try:
        yield simulator
    finally:
        simulator.stop()
        thread.join(timeout=5)


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

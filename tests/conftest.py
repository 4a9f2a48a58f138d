"""Shared fixtures: real PostgreSQL and MQTT servers, fresh databases, site files.

Tests that need a server take its fixture. When the server is down, the test is
skipped with the reason on a developer's machine and fails under CI (CI=true),
where the servers are part of the contract.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from psycopg import sql

from hub.auth import add_user, issue_token
from hub.clock import Clock
from hub.config import SiteConfig, load_site
from hub.hub import Hub, open_hub
from hub.infra.mqtt import BrokerAddress, close_client
from hub.services import Endpoints
from hub.storage.migrate import migrate
from hub.storage.timescale import TimeseriesPolicy

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config" / "demo.yaml"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the real PostgreSQL server's maintenance database."""
    url = os.environ.get("GRIDHUB_TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        _unavailable(f"PostgreSQL at {url} is not reachable: {exc}")
    return url


@contextmanager
def _database(pg_url: str) -> Iterator[str]:
    name = f"gridhub_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(pg_url, dbname=name)
    yield url
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def fresh_db(pg_url: str) -> Iterator[str]:
    """URL of a new, empty database, dropped after the test."""
    with _database(pg_url) as url:
        yield url


@pytest.fixture(scope="module")
def module_db(pg_url: str) -> Iterator[str]:
    """A migrated database shared by one test module (tests must not depend on its rows)."""
    with _database(pg_url) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn, TimeseriesPolicy())
        yield url


@pytest.fixture
def migrated_db(fresh_db: str) -> str:
    """URL of a new database with the whole schema applied."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        migrate(conn, TimeseriesPolicy())
    return fresh_db


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """URL of the real MQTT broker (Mosquitto)."""
    url = os.environ.get("GRIDHUB_TEST_MQTT_URL", DEFAULT_MQTT_URL)
    address = BrokerAddress.parse(url)
    try:
        socket.create_connection((address.host, address.port), timeout=3).close()
    except OSError as exc:
        _unavailable(f"MQTT broker at {address.describe()} is not reachable: {exc}")
    return url


@pytest.fixture
def demo_raw() -> dict[str, Any]:
    """The demo site file as plain data, to edit in a test."""
    raw: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    return raw


def write_site(tmp_path: Path, raw: dict[str, Any], name: str = "site.yaml") -> Path:
    """Write a site file into the test's directory and return its path."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.05) -> None:
    """Poll `predicate` until it is truthy, or fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


class Device:
    """A patrol device (or any MQTT client) talking raw payloads to a real broker."""

    def __init__(self, url: str, client_id: str, subscribe: str | None = None) -> None:
        address = BrokerAddress.parse(url)
        self.received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_message = lambda _c, _u, msg: self.received.put(msg)
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        if subscribe:
            self.client.subscribe(subscribe, qos=1)
        time.sleep(0.2)

    def publish(self, topic: str, payload: bytes | str) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self.client.publish(topic, data, qos=1).wait_for_publish(5)

    def next_json(self, timeout: float = 5.0) -> dict[str, Any]:
        message = self.received.get(timeout=timeout)
        value: dict[str, Any] = json.loads(message.payload)
        return value

    def close(self) -> None:
        close_client(self.client)


HubFactory = Callable[..., Hub]


@pytest.fixture
def hub_factory(migrated_db: str, mqtt_url: str) -> Iterator[HubFactory]:
    """Open hubs on a fresh database and the real broker; all closed after the test."""

    with ExitStack() as stack:

        def make(clock: Clock | None = None, raw: dict[str, Any] | None = None) -> Hub:
            site = load_site(DEMO_CONFIG) if raw is None else _site_from(raw)
            endpoints = Endpoints(migrated_db, False, mqtt_url, False)
            return stack.enter_context(open_hub(site, endpoints, clock))

        yield make


def _site_from(raw: dict[str, Any]) -> SiteConfig:
    return SiteConfig.model_validate(raw)


def metric(hub: Hub, name: str, **labels: str) -> float:
    """Current value of a hub metric sample (0 when never incremented)."""
    value = hub.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


# Where the test patrols stand: P01 and P07 patrol 清河一网格, P02 the grid north of it.
PATROL_POSITIONS = {
    "P01": (30.2726, 120.1427),
    "P07": (30.2740, 120.1450),
    "P02": (30.2790, 120.1450),
}


def auth_headers(hub: Hub, role: str, patrol_id: str | None = None) -> dict[str, str]:
    """Bearer headers of a new user with `role` (a patrol user acts for `patrol_id`)."""
    with hub.pool.connection() as conn:
        name = f"{role}-{uuid.uuid4().hex[:6]}"
        token = issue_token(conn, add_user(conn, name, role, patrol_id))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def devices(mqtt_url: str) -> Iterator[dict[str, Device]]:
    """A device per patrol, subscribed to its dispatch topic, plus a 'tx' publisher."""
    devs = {pid: Device(mqtt_url, f"dev-{pid}", f"gridhub/patrols/{pid}/dispatch")
            for pid in PATROL_POSITIONS}  # fmt: skip
    devs["tx"] = Device(mqtt_url, "dev-tx")
    yield devs
    for dev in devs.values():
        dev.close()


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A fresh directory every user can enter: the embedded PostgreSQL runs as its own
    system user when the tests run as root, and pytest's tmp_path is private (0700)."""
    path = Path(tempfile.mkdtemp(prefix="gridhub-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)

"""Embedded PostgreSQL and MQTT broker, started by the tests themselves."""

from __future__ import annotations

import queue
import socket
from pathlib import Path

import psycopg
import pytest

from hub.config import load_site
from hub.errors import EmbeddedServiceError
from hub.infra.embedded import EmbeddedBroker, EmbeddedPostgres
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.storage.migrate import migrate
from hub.storage.site_repo import grid_index, list_grids, sync_site
from hub.storage.timescale import TimeseriesPolicy
from tests.conftest import DEMO_CONFIG

pytestmark = pytest.mark.slow


def test_embedded_postgres_runs_migrations_and_lookups(open_dir: Path) -> None:
    server = EmbeddedPostgres(open_dir / "pg")
    url = server.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            report = migrate(conn, TimeseriesPolicy())
            assert report.applied
            assert migrate(conn, TimeseriesPolicy()).applied == ()
        with psycopg.connect(url) as conn:
            sync_site(conn, load_site(DEMO_CONFIG))
            assert grid_index(list_grids(conn)).locate(30.2725, 120.1425) == "WT-QH-01-A"
    finally:
        server.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_embedded_broker_carries_messages() -> None:
    broker = EmbeddedBroker(port=0)
    url = broker.start()
    received: queue.Queue[ReceivedMessage] = queue.Queue()
    link = MqttLink(url, "gridhub-test-embedded")
    link.subscribe("gridhub/patrols/+/location", received.put)
    try:
        link.start()
        link.publish("gridhub/patrols/P01/location", b'{"lat": 30.27, "lon": 120.14}')
        message = received.get(timeout=5)
        assert message.topic == "gridhub/patrols/P01/location"
    finally:
        link.stop()
        broker.stop()


def test_embedded_broker_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EmbeddedServiceError, match=f"port {port} is in use"):
            EmbeddedBroker(port).start()

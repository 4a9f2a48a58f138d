"""Shared fixtures: real PostgreSQL and MQTT servers, fresh databases, site files.

Tests that need a server take its fixture. When the server is down, the test is
skipped with the reason on a developer's machine and fails under CI (CI=true),
where the servers are part of the contract.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql

from hub.mqtt import BrokerAddress
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


@pytest.fixture
def fresh_db(pg_url: str) -> Iterator[str]:
    """URL of a new, empty database, dropped after the test."""
    name = f"gridhub_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(pg_url, dbname=name)
    yield url
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


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

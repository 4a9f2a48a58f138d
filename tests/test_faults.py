"""Faults the hub must ride out: the broker or the database going away and coming back.

Each test counts what went in and what came out. The broker is a private
Mosquitto (tests/fault_support.py) and the database that goes down is an
embedded PostgreSQL of the test's own, so the shared servers are never touched.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.cases.store import NewCase, open_case
from hub.cases.workflow import CaseAction, apply
from hub.config import SiteConfig, load_site
from hub.hub import Hub, open_hub
from hub.infra.embedded import EmbeddedPostgres
from hub.services import Endpoints
from hub.storage.migrate import migrate
from hub.storage.timescale import TimeseriesPolicy
from tests.conftest import DEMO_CONFIG, Device, auth_headers, metric, wait_until
from tests.fault_support import Broker, broker  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

OUTAGE_S = 30.0
DOOR_SENSORS = [f"DOOR-{i:02d}" for i in range(20)]
FIX_PATROLS = ["P01", "P02", "P03", "P04", "P05"]


@pytest.mark.postgres
def test_broker_restart_loses_no_dispatch_and_no_subscription(
    broker: Broker,  # noqa: F811
    migrated_db: str,
) -> None:
    site = load_site(DEMO_CONFIG)
    with open_hub(site, Endpoints(migrated_db, False, broker.url, False)) as hub:
        tx = Device(broker.url, "fault-tx")
        tx.publish("gridhub/patrols/P01/status", "on_duty")
        fix = {"lat": 30.2726, "lon": 120.1427, "ts": datetime.now(UTC).timestamp()}
        tx.publish("gridhub/patrols/P01/location", json.dumps(fix))
        wait_until(lambda: hub.patrols.available("P01"))
        tx.close()

        broker.stop()
        wait_until(lambda: not hub.mqtt.connected)
        with hub.pool.connection() as conn, conn.transaction():
            new = NewCase("manual", "断网中报案", 2, "WT-QH-01-A", 30.2725, 120.1425)
            case_id = open_case(conn, new, hub.clock.now(), "resident", 300)
            apply(conn, CaseAction(case_id, "accept", "op", "operator"), hub.clock.now())
        outcome = hub.dispatcher.dispatch(case_id)  # committed while the broker is down
        assert outcome.patrol_id == "P01"
        time.sleep(1.5)
        assert [d.state for d in hub.dispatcher.dispatches_for(case_id)] == ["pending"]

        broker.start()
        device = Device(broker.url, "fault-p01", "gridhub/patrols/P01/dispatch")
        try:
            wait_until(lambda: hub.mqtt.connected, timeout=20)
            message = device.next_json(timeout=15)  # the relay re-sent it after reconnecting
            assert message["dispatch_id"] == outcome.dispatch_id
            later = {"lat": 30.2730, "lon": 120.1430, "ts": datetime.now(UTC).timestamp()}
            device.publish("gridhub/patrols/P02/status", "on_duty")
            device.publish("gridhub/patrols/P02/location", json.dumps(later))
            wait_until(lambda: hub.patrols.available("P02"))  # subscriptions came back too
            wait_until(
                lambda: [d.state for d in hub.dispatcher.dispatches_for(case_id)] == ["sent"]
            )
        finally:
            device.close()


@dataclass
class OwnDatabase:
    """An embedded PostgreSQL of the test's own, migrated, that the test stops and starts."""

    server: EmbeddedPostgres
    url: str


@pytest.fixture
def own_database(open_dir: Path) -> Iterator[OwnDatabase]:
    server = EmbeddedPostgres(open_dir / "pg")
    url = server.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn, TimeseriesPolicy())
        yield OwnDatabase(server, url)
    finally:
        server.stop()


def outage_site(raw: dict[str, Any], data_dir: Path) -> SiteConfig:
    """The demo site with twenty door sensors (one alert, one case each)."""
    raw["site"]["data_dir"] = str(data_dir)
    raw["sensors"] = [
        {
            "id": s,
            "name": f"门磁 {s}",
            "type": "door",
            "location": {"lat": 30.2726, "lon": 120.1427},
        }
        for s in DOOR_SENSORS
    ]
    return SiteConfig.model_validate(raw)


class FixSender(threading.Thread):
    """Five patrols reporting a fix each per second over MQTT until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(name="fix-sender", daemon=True)
        self.device = Device(url, "fault-fixes")
        self.sent = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            for n, patrol_id in enumerate(FIX_PATROLS):
                fix = {"lat": 30.272 + n * 0.001, "lon": 120.1427, "ts": time.time()}
                self.device.publish(f"gridhub/patrols/{patrol_id}/location", json.dumps(fix))
                self.sent += 1

    def finish(self) -> int:
        self.stopping.set()
        self.join(5)
        self.device.close()
        return self.sent


def _rows(hub: Hub, table: str) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _dispatch_to_p01(
    client: TestClient, headers: dict[str, str], hub: Hub, case_id: int, device: Device
) -> int:
    """Put P01 on duty and dispatch the case to it; return the dispatch id."""
    device.publish("gridhub/patrols/P01/status", "on_duty")
    wait_until(lambda: hub.patrols.available("P01"))
    for action in ("accept", "dispatch"):
        done = client.post(f"/api/cases/{case_id}/transitions", json={"action": action},
                           headers=headers)  # fmt: skip
        assert done.status_code == 200, done.text
    (dispatch,) = hub.dispatcher.dispatches_for(case_id)
    assert dispatch.patrol_id == "P01"
    return dispatch.id


def _dispatch_state(hub: Hub, case_id: int) -> str:
    (dispatch,) = hub.dispatcher.dispatches_for(case_id)
    return dispatch.state


def _fixes_in(hub: Hub) -> float:
    """Fixes the hub has taken from MQTT (stored, whether or not they moved the patrol)."""
    return sum(metric(hub, "gridhub_patrol_fixes_total", source="native", outcome=outcome)
               for outcome in ("accepted", "out_of_order"))  # fmt: skip


def _calls_during_outage(client: TestClient, headers: dict[str, str], case_id: int) -> list[Any]:
    """Reads and writes while the database is down: each must be a 503 with Retry-After."""
    report = {"title": "停库中报案", "lat": 30.2725, "lon": 120.1425}
    return [
        client.get("/api/cases", headers=headers),
        client.get(f"/api/cases/{case_id}", headers=headers),
        client.post("/api/cases", json=report, headers=headers),
        client.post(
            f"/api/cases/{case_id}/transitions", json={"action": "accept"}, headers=headers
        ),  # fmt: skip
    ]


def test_thirty_second_database_outage_loses_no_alert_and_no_fix(
    own_database: OwnDatabase,
    broker: Broker,  # noqa: F811
    demo_raw: dict[str, Any],
    open_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Sensor alarms, patrol fixes and a patrol's reply arriving over MQTT while
    PostgreSQL is stopped for 30 s are held in memory and written afterwards: every
    alarm becomes a case, every fix a row, the reply accepts its dispatch; meanwhile
    the API answers 503 with Retry-After, never a 500."""
    caplog.set_level(logging.WARNING)
    site = outage_site(demo_raw, open_dir / "data")
    endpoints = Endpoints(own_database.url, True, broker.url, False)
    with open_hub(site, endpoints) as hub, TestClient(create_app(hub)) as client:
        headers = auth_headers(hub, "admin")
        before = client.post("/api/cases", json={"title": "停库前报案", "lat": 30.2725,
                                                  "lon": 120.1425}, headers=headers)  # fmt: skip
        assert before.status_code == 201
        fixes = FixSender(broker.url)
        fixes.start()
        sensors = Device(broker.url, "fault-sensors")
        wait_until(lambda: hub.positions.written >= len(FIX_PATROLS))
        dispatch_id = _dispatch_to_p01(client, headers, hub, before.json()["id"], sensors)

        own_database.server.stop()
        down_at = time.monotonic()
        accept = {"dispatch_id": dispatch_id, "action": "accept"}
        sensors.publish("gridhub/patrols/P01/reply", json.dumps(accept))  # P01 answers now
        answers = _calls_during_outage(client, headers, before.json()["id"])
        health = client.get("/api/health")
        for sensor_id in DOOR_SENSORS:
            reading = {"type": "door", "value": 1, "ts": time.time()}
            sensors.publish(f"gridhub/sensors/{sensor_id}/event", json.dumps(reading))
            time.sleep(0.2)
        wait_until(lambda: hub.alerts.pending == len(DOOR_SENSORS))
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        held_alerts, held_fixes = hub.alerts.pending, hub.positions.pending
        assert own_database.server.start() == own_database.url
        sent = fixes.finish()
        sensors.close()

        wait_until(lambda: _fixes_in(hub) == sent)
        wait_until(lambda: hub.alerts.pending == 0 and hub.positions.pending == 0, timeout=40)
        wait_until(lambda: _dispatch_state(hub, before.json()["id"]) == "accepted")
        after = client.post("/api/cases", json={"title": "恢复后报案", "lat": 30.2725,
                                                 "lon": 120.1425}, headers=headers)  # fmt: skip
        positions, alerts, cases = (_rows(hub, t) for t in ("patrol_positions", "alerts", "cases"))
        opened = metric(hub, "gridhub_alerts_total", kind="door", outcome="opened")
        dropped = metric(hub, "gridhub_patrol_positions_dropped_total", reason="buffer_full")

    assert [(a.status_code, a.headers.get("Retry-After")) for a in answers] == [(503, "5")] * 4
    assert health.status_code == 503 and health.json() == {"status": "degraded"}
    assert held_alerts == len(DOOR_SENSORS) and held_fixes >= len(FIX_PATROLS) * (OUTAGE_S - 2)
    assert after.status_code == 201
    assert positions == sent and dropped == 0  # every fix sent is a row
    assert alerts == len(DOOR_SENSORS) and opened == len(DOOR_SENSORS)
    assert cases == len(DOOR_SENSORS) + 2  # one per alarm, and the two reported by hand
    assert "database unavailable, holding" in caplog.text
    assert "could not write" in caplog.text and "patrol positions (will retry)" in caplog.text

"""Faults the hub must ride out: the broker or the database going away and coming back.

A private Mosquitto is started and stopped by the test (the shared one is not
touched), on a fixed port so the hub reconnects to the same address.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.cases.store import NewCase, open_case
from hub.cases.workflow import CaseAction, apply
from hub.config import load_site
from hub.embedded import EmbeddedPostgres
from hub.hub import Hub, open_hub
from hub.model import Alert
from hub.runtime import Endpoints
from hub.storage.migrate import migrate
from hub.storage.timescale import TimeseriesPolicy
from tests.conftest import DEMO_CONFIG, Device, free_port, wait_until

pytestmark = pytest.mark.slow


class Broker:
    """A Mosquitto of the test's own that can be stopped and started again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._conf = workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if os.geteuid() == 0:
            lines.append("user root")
        self._conf.write_text("\n".join(lines) + "\n")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        quiet = subprocess.DEVNULL
        self._process = subprocess.Popen(["mosquitto", "-c", str(self._conf)], stdout=quiet,
                                         stderr=quiet)  # fmt: skip
        wait_until(lambda: _listening(self.port))

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto is not installed")
    own = Broker(tmp_path)
    own.start()
    yield own
    own.stop()


def test_broker_restart_loses_no_dispatch_and_no_subscription(
    broker: Broker, migrated_db: str
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


def test_alerts_wait_out_a_database_outage(open_dir: Path, mqtt_url: str) -> None:
    server = EmbeddedPostgres(open_dir / "pg")
    url = server.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn, TimeseriesPolicy())
        with open_hub(load_site(DEMO_CONFIG), Endpoints(url, True, mqtt_url, False)) as hub:
            hub.alerts.max_backoff_s = 0.5
            server.stop()
            with TestClient(create_app(hub)) as client:
                down = client.post("/api/cases", json={"title": "x", "lat": 30.27, "lon": 120.15},
                                   headers={"Authorization": "Bearer gh_any"})  # fmt: skip
                assert down.status_code == 503 and down.headers["Retry-After"] == "5"
            sent = [_lane_alert(hub, f"zone-{i}") for i in range(20)]
            for alert in sent:
                hub.alerts.submit(alert)  # returns at once, database or not
            time.sleep(2)
            assert hub.alerts.pending == 20
            assert server.start() == url
            wait_until(lambda: hub.alerts.pending == 0, timeout=30)
            with hub.pool.connection() as conn:
                alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
                cases = conn.execute("SELECT count(*) FROM cases").fetchone()
            assert alerts == (20,) and cases == (20,)
    finally:
        server.stop()


def _lane_alert(hub: Hub, region: str) -> Alert:
    now = hub.clock.now()
    return Alert(kind="fire_lane", started_at=now, confirmed_at=now, confidence=0.8,
                 camera_id="CAM-QH-L01", region=region)  # fmt: skip

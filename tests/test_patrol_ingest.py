"""Patrol location ingest against the real Mosquitto and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.hub import Hub
from hub.infra.mqtt import ReceivedMessage
from tests.conftest import Device, HubFactory, auth_headers, metric, wait_until


@pytest.fixture
def device(mqtt_url: str) -> Iterator[Device]:
    dev = Device(mqtt_url, "test-patrol-device")
    yield dev
    dev.close()


def _rows(hub: Hub, patrol_id: str) -> list[tuple[Any, ...]]:
    with hub.pool.connection() as conn:
        return conn.execute(
            "SELECT lat, lon, ts, source FROM patrol_positions WHERE patrol_id = %s ORDER BY ts",
            (patrol_id,),
        ).fetchall()


def _native(lat: float, lon: float, ts: datetime, **extra: Any) -> str:
    return json.dumps({"lat": lat, "lon": lon, "ts": ts.timestamp(), **extra})


def test_native_and_owntracks_fixes_land_in_index_and_table(
    hub_factory: HubFactory, device: Device
) -> None:
    hub = hub_factory()
    now = datetime.now(UTC)
    device.publish("gridhub/patrols/P01/location", _native(30.2721, 120.1431, now, battery=80))
    owntracks = {"_type": "location", "lat": 30.2781, "lon": 120.1461, "tst": int(now.timestamp()),
                 "acc": 12, "vel": 18, "batt": 64, "tid": "wg"}  # fmt: skip
    device.publish("owntracks/wg07/phone", json.dumps(owntracks))
    wait_until(lambda: len(_rows(hub, "P01")) == 1 and len(_rows(hub, "P07")) == 1)
    p01, p07 = hub.patrols.get("P01"), hub.patrols.get("P07")
    assert p01 is not None and p01.fix is not None and p01.fix.battery_pct == 80
    assert p07 is not None and p07.fix is not None and p07.fix.source == "owntracks"
    assert _rows(hub, "P07")[0][3] == "owntracks"
    assert metric(hub, "gridhub_patrol_fixes_total", source="native", outcome="accepted") == 1


MALFORMED = [
    ("gridhub/patrols/P01/location", b"{not json", "location", "not_json"),
    ("gridhub/patrols/P01/location", b'{"lat": 30.2}', "location", "missing_field"),
    ("gridhub/patrols/P01/location", b'{"lat": 300, "lon": 1, "ts": 1}', "location", "bad_value"),
    ("gridhub/patrols/P01/location", b'{"lat": 3, "lon": 1, "ts": 9999999999}', "location",
     "future_timestamp"),
    ("gridhub/patrols/P01/location", b"x" * 5000, "location", "oversized"),
    ("gridhub/patrols/NOBODY/location", b'{"lat": 3, "lon": 1, "ts": 1}', "location",
     "unknown_patrol"),
    ("gridhub/patrols/P10/location", b'{"lat": 3, "lon": 1, "ts": 1}', "location",
     "disabled_patrol"),
    ("owntracks/stranger/phone", b'{"_type":"location","lat":3,"lon":1,"tst":1}', "owntracks",
     "unknown_patrol"),
    ("owntracks/wg07/phone", b'{"_type":"location","lat":3,"lon":1}', "owntracks",
     "missing_field"),
    ("gridhub/patrols/P01/status", b"sleeping", "status", "bad_value"),
    ("gridhub/patrols/P01/reply", b'{"dispatch_id": 424242, "action": "accept"}', "reply",
     "unknown_dispatch"),
    ("gridhub/patrols/P01/reply", b'{"action": "accept"}', "reply", "missing_field"),
]  # fmt: skip


def test_malformed_payloads_are_rejected_and_counted(
    hub_factory: HubFactory, device: Device, demo_raw: dict[str, Any]
) -> None:
    demo_raw["patrols"][9]["enabled"] = False  # P10
    hub = hub_factory(raw=demo_raw)
    for topic, payload, _channel, _reason in MALFORMED:
        device.publish(topic, payload)
    expected: dict[tuple[str, str], int] = {}
    for _topic, _payload, channel, reason in MALFORMED:
        expected[(channel, reason)] = expected.get((channel, reason), 0) + 1
    wait_until(
        lambda: all(
            metric(hub, "gridhub_mqtt_rejected_total", channel=c, reason=r) == n
            for (c, r), n in expected.items()
        )
    )
    # The client survived all of it: a good fix still gets through.
    device.publish("gridhub/patrols/P01/location", _native(30.27, 120.14, datetime.now(UTC)))
    wait_until(lambda: len(_rows(hub, "P01")) == 1)
    assert hub.mqtt.connected


def test_older_fix_is_stored_but_does_not_move_the_patrol(
    hub_factory: HubFactory, device: Device
) -> None:
    hub = hub_factory()
    now = datetime.now(UTC)
    device.publish("gridhub/patrols/P02/location", _native(30.2771, 120.1441, now))
    device.publish("gridhub/patrols/P02/location", _native(30.2700, 120.1400, now - timedelta(60)))
    wait_until(lambda: len(_rows(hub, "P02")) == 2)
    state = hub.patrols.get("P02")
    assert state is not None and state.fix is not None
    assert (state.fix.lat, state.fix.lon) == (30.2771, 120.1441)
    assert metric(hub, "gridhub_patrol_fixes_total", source="native", outcome="out_of_order") == 1


def test_status_topic_sets_duty_in_index_and_database(
    hub_factory: HubFactory, device: Device
) -> None:
    hub = hub_factory()
    device.publish("gridhub/patrols/P03/status", "on_duty")
    wait_until(lambda: (s := hub.patrols.get("P03")) is not None and s.duty_status == "on_duty")
    device.publish("gridhub/patrols/P03/location",
                   _native(30.2821, 120.1441, datetime.now(UTC), status="busy"))  # fmt: skip
    wait_until(lambda: (s := hub.patrols.get("P03")) is not None and s.duty_status == "busy")

    def stored() -> object:
        with psycopg.connect(hub.endpoints.database_url) as conn:
            row = conn.execute("SELECT duty_status FROM patrols WHERE id = 'P03'").fetchone()
        return row == ("busy",)

    wait_until(stored)


def test_patrol_api_shows_live_state_and_track(hub_factory: HubFactory, device: Device) -> None:
    hub = hub_factory()
    start = datetime.now(UTC) - timedelta(seconds=30)
    device.publish("gridhub/patrols/P04/status", "on_duty")
    for i in range(3):
        ts = start + timedelta(seconds=10 * i)
        device.publish("gridhub/patrols/P04/location", _native(30.271 + i / 1000, 120.151, ts))
    wait_until(lambda: len(_rows(hub, "P04")) == 3)
    with TestClient(create_app(hub)) as client:
        client.headers.update(auth_headers(hub, "operator"))
        patrols = {p["id"]: p for p in client.get("/api/patrols").json()}
        p04 = patrols["P04"]
        assert p04["duty_status"] == "on_duty" and p04["available"] is True
        assert p04["last_fix"]["lat"] == pytest.approx(30.273)
        assert 0 <= p04["fix_age_s"] < 60
        assert patrols["P05"]["last_fix"] is None and patrols["P05"]["available"] is False
        track = client.get("/api/patrols/P04/track").json()
        assert [p["lat"] for p in track["points"]] == pytest.approx([30.271, 30.272, 30.273])
        since = (start + timedelta(seconds=5)).isoformat()
        part = client.get("/api/patrols/P04/track", params={"since": since}).json()
        assert len(part["points"]) == 2
        assert client.get("/api/patrols/NOBODY/track").status_code == 404
        assert client.get("/api/patrols/NOBODY").status_code == 404
        bad = client.get("/api/patrols/P04/track", params={"since": "yesterday"})
        assert bad.status_code == 422
        naive = client.get("/api/patrols/P04/track", params={"since": "2026-01-01T00:00:00"})
        assert naive.status_code == 422
        backwards = client.get(
            "/api/patrols/P04/track",
            params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        )
        assert backwards.status_code == 422


def test_burst_is_stored_without_loss(hub_factory: HubFactory, device: Device) -> None:
    hub = hub_factory()
    start = datetime.now(UTC) - timedelta(minutes=10)
    for i in range(2000):
        ts = start + timedelta(milliseconds=250 * i)
        device.client.publish("gridhub/patrols/P06/location",
                              _native(30.28, 120.15 + i / 1e6, ts).encode(), qos=1)  # fmt: skip
    wait_until(lambda: len(_rows(hub, "P06")) == 2000, timeout=30)
    time.sleep(0.2)
    assert len(_rows(hub, "P06")) == 2000


def test_a_duty_change_never_waits_for_the_database_and_is_acknowledged_after_its_row(
    hub_factory: HubFactory, migrated_db: str
) -> None:
    """With the `patrols` table locked (a stuck database), the MQTT handler returns at
    once and the live index has the change; the row, then the ack, follow the unlock."""
    hub = hub_factory()
    acked: list[float] = []
    message = ReceivedMessage.build("gridhub/patrols/P03/status", b"on_duty",
                                    datetime.now(UTC), qos=1,
                                    ack=lambda: acked.append(time.monotonic()))  # fmt: skip
    with psycopg.connect(migrated_db) as blocker:
        blocker.execute("LOCK TABLE patrols IN ACCESS EXCLUSIVE MODE")
        began = time.monotonic()
        hub.ingest.on_status(message)
        took = time.monotonic() - began
        time.sleep(0.5)
        assert acked == []  # the row is not written yet: the broker must keep the message
        unlocked = time.monotonic()
    wait_until(lambda: acked)
    assert took < 0.1 and acked[0] >= unlocked
    state = hub.patrols.get("P03")
    assert state is not None and state.duty_status == "on_duty"
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT duty_status FROM patrols WHERE id = 'P03'").fetchone()
    assert row == ("on_duty",)

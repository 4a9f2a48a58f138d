"""Sensor alarms: payloads, thresholds and debounce, end to end over MQTT."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hub.alerts.sensors import Reading, SensorIngest, parse_reading
from hub.clock import FakeClock
from hub.config import Location, Sensor, load_site
from hub.errors import PayloadError
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import ReceivedMessage
from hub.model import Alert
from tests.conftest import DEMO_CONFIG, Device, HubFactory, metric, wait_until

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
HERE = Location(lat=30.27, lon=120.15)
WATER = Sensor(id="WL-1", name="地下车库水位", type="water_level", location=HERE, threshold=0.3,
               debounce_s=30)  # fmt: skip
DOOR = Sensor(id="D-1", name="单元门", type="door", location=HERE)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", "not_json"),
        (b'{"type": "smoke", "value": 1, "ts": 1}', "bad_value"),
        (b'{"type": "water_level", "ts": 1}', "missing_field"),
        (b'{"type": "water_level", "value": "high", "ts": 1}', "bad_value"),
        (b'{"type": "water_level", "value": 1}', "missing_field"),
        (b'{"type": "water_level", "value": 1, "ts": 1, "severity": 9}', "bad_value"),
        (b'{"type": "water_level", "value": 1, "ts": 9999999999}', "future_timestamp"),
    ],
)
def test_bad_sensor_payloads(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_reading(WATER, payload, NOW)
    assert caught.value.reason == reason


class Collect:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def submit(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def submit_acked(self, alert: Alert, ack: Callable[[], None]) -> None:
        self.alerts.append(alert)
        ack()


def _reading(sensor: Sensor, value: float, after_s: float) -> Reading:
    return Reading(sensor.id, sensor.type, value, NOW + timedelta(seconds=after_s), None)


def test_threshold_and_debounce_make_one_alert_per_episode() -> None:
    ingest = SensorIngest([WATER], Collect(), HubMetrics(), FakeClock())
    readings = [(0.1, 0), (0.4, 10), (0.5, 25), (0.2, 30), (0.4, 40), (0.6, 60), (0.7, 80),
                (0.35, 100), (0.1, 120), (0.1, 130)]  # fmt: skip
    out = [ingest.apply(WATER, _reading(WATER, v, t)) for v, t in readings]
    kinds = [(t, a.kind, a.cleared) for (v, t), a in zip(readings, out, strict=True) if a]
    # 10–25 s: too short (debounce 30 s). 40 s on: alarm at 80 s (40 s in), cleared at 120 s.
    assert kinds == [(80, "water_level", False), (120, "water_level", True)]
    alert = next(a for a in out if a is not None)
    assert alert.started_at == NOW + timedelta(seconds=40)
    assert alert.sensor_id == "WL-1" and alert.details["value"] == 0.7


def test_sensor_without_threshold_alarms_on_any_event() -> None:
    ingest = SensorIngest([DOOR], Collect(), HubMetrics(), FakeClock())
    alert = ingest.apply(DOOR, _reading(DOOR, 1, 0))
    assert alert is not None and alert.kind == "door"
    assert ingest.apply(DOOR, _reading(DOOR, 1, 5)) is None  # same episode


def test_sensor_events_over_mqtt_open_a_case(hub_factory: HubFactory, mqtt_url: str) -> None:
    hub = hub_factory()
    device = Device(mqtt_url, "test-smoke-sensor")
    try:
        device.publish("gridhub/sensors/NOPE/event", b'{"type": "smoke", "value": 1, "ts": 1}')
        device.publish("gridhub/sensors/SMK-QH-3-12/event", b"{broken")
        ts = datetime.now(UTC).timestamp()
        body = {"type": "smoke", "value": 1, "ts": ts}
        device.publish("gridhub/sensors/SMK-QH-3-12/event", json.dumps(body))

        def opened() -> bool:
            with hub.pool.connection() as conn:
                row = conn.execute("SELECT kind, grid_id, severity FROM cases").fetchone()
            return row == ("smoke", "WT-QH-01-A", 4)

        wait_until(opened)
        assert metric(hub, "gridhub_mqtt_rejected_total", channel="sensor",
                      reason="unknown_sensor") == 1  # fmt: skip
        assert metric(hub, "gridhub_mqtt_rejected_total", channel="sensor", reason="not_json") == 1
    finally:
        device.close()


def test_a_reading_delivered_twice_is_one_alert(hub_factory: HubFactory) -> None:
    """The broker redelivers what a hub killed before its commit had not acknowledged; the
    new hub has no episode for the sensor, so the reading alarms again: stored once."""
    hub = hub_factory()
    reading = {"type": "smoke", "value": 1, "ts": datetime.now(UTC).timestamp()}
    topic = "gridhub/sensors/SMK-QH-3-12/event"
    site_sensors = load_site(DEMO_CONFIG).sensors
    for _ in range(2):  # a fresh ingest each time: the restarted hub's
        ingest = SensorIngest(site_sensors, hub.alerts, hub.metrics, hub.clock)
        body = json.dumps(reading).encode()
        ingest.on_event(ReceivedMessage.build(topic, body, datetime.now(UTC)))
    wait_until(lambda: metric(hub, "gridhub_alerts_total", kind="smoke", outcome="duplicate") == 1)
    with hub.pool.connection() as conn:
        alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()
    assert (alerts, cases) == ((1,), (1,))

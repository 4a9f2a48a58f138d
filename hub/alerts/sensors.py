"""IoT sensor alarms over MQTT: `gridhub/sensors/{sensor_id}/event`.

Payload: ``{"type": "smoke", "value": 1, "ts": 1763800000, "severity": 4}`` —
`type` must be the sensor's registered type; `value` a number; `ts` Unix seconds
or ISO 8601 with a zone; `severity` optional (1–4). Each sensor's rule comes from
the site file: a reading at or above `threshold` (any reading, for sensors with
no threshold) starts an alarm episode; once it has lasted `debounce_s` it becomes
one alert; a reading below the threshold ends the episode with a cleared alert
(`Alert.cleared`, shown as `<type>_cleared`). Unknown sensors and malformed
payloads are rejected and counted like patrol fixes; the client keeps running.

A reading's MQTT message is acknowledged once the alert it made is committed, or
at once when it made none (it moved the episode on, in memory) or was rejected.
The alert's `ref` (sensor, alarm or clearing) and time make a redelivered reading
one stored alert; an episode in progress when the hub stops starts again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from hub.clock import Clock
from hub.config import Sensor
from hub.errors import PayloadError
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.infra.throttle import ThrottledLog
from hub.model import Alert
from hub.patrols.payloads import decode_object, number, timestamp
from hub.seams import AckingAlertSink

log = logging.getLogger(__name__)

EVENT_TOPIC = "gridhub/sensors/+/event"


@dataclass(frozen=True, slots=True)
class Reading:
    """One sensor event."""

    sensor_id: str
    type: str
    value: float
    ts: datetime
    severity: int | None


def parse_reading(sensor: Sensor, payload: bytes | bytearray, now: datetime) -> Reading:
    data = decode_object(payload)
    kind = data.get("type")
    if kind != sensor.type:
        raise PayloadError("bad_value", f"type {kind!r} does not match sensor type {sensor.type!r}")
    severity = data.get("severity")
    if severity is not None and (
        not isinstance(severity, int) or isinstance(severity, bool) or not 1 <= severity <= 4
    ):
        raise PayloadError("bad_value", "severity must be an integer 1..4")
    value = number(data, "value", -1e12, 1e12)
    return Reading(sensor.id, sensor.type, value, timestamp(data, "ts", now), severity)


@dataclass
class _Episode:
    started: datetime
    alerted: bool = False


class SensorIngest:
    """Applies each sensor's threshold and debounce and hands alarms to the alert sink."""

    def __init__(
        self, sensors: list[Sensor], sink: AckingAlertSink, metrics: HubMetrics, clock: Clock
    ) -> None:
        self._sensors = {s.id: s for s in sensors}
        self._sink = sink
        self._metrics = metrics
        self._episodes: dict[str, _Episode] = {}
        self._lock = threading.Lock()
        self._throttle = ThrottledLog(log, clock)

    def subscribe(self, link: MqttLink) -> None:
        link.subscribe(EVENT_TOPIC, self.on_event, qos=1, acks=True)

    def on_event(self, message: ReceivedMessage) -> None:
        try:
            sensor_id = message.topic_levels(4)[2]
            sensor = self._sensors.get(sensor_id)
            if sensor is None:
                raise PayloadError("unknown_sensor", f"no sensor {sensor_id!r} in the registry")
            reading = parse_reading(sensor, message.payload, message.received_at)
        except PayloadError as exc:
            self._metrics.mqtt_rejected.labels("sensor", exc.reason).inc()
            topic = message.topic
            self._throttle.warning(f"sensor:{topic}:{exc.reason}",
                                   "rejected sensor event on %s: %s", topic, exc)  # fmt: skip
            message.ack()
            return
        alert = self.apply(sensor, reading)
        if alert is None:
            message.ack()
        else:
            self._sink.submit_acked(alert, message.ack)

    def apply(self, sensor: Sensor, reading: Reading) -> Alert | None:
        """Advance the sensor's episode; return an alert when one starts or clears."""
        alarming = sensor.threshold is None or reading.value >= sensor.threshold
        with self._lock:
            episode = self._episodes.get(sensor.id)
            if not alarming:
                self._episodes.pop(sensor.id, None)
                if episode is not None and episode.alerted:
                    return self._alert(sensor, reading, episode.started, cleared=True)
                return None
            if episode is None:
                episode = self._episodes[sensor.id] = _Episode(reading.ts)
            lasted = (reading.ts - episode.started).total_seconds()
            if episode.alerted or lasted < sensor.debounce_s:
                return None
            episode.alerted = True
            return self._alert(sensor, reading, episode.started, cleared=False)

    @staticmethod
    def _alert(sensor: Sensor, reading: Reading, started: datetime, cleared: bool) -> Alert:
        what = "恢复正常" if cleared else "报警"
        return Alert(
            kind=sensor.type, started_at=started, confirmed_at=reading.ts, confidence=1.0,
            sensor_id=sensor.id, summary=f"{sensor.name} {what} ({reading.value:g})",
            details={"value": reading.value, "threshold": sensor.threshold,
                     "severity": reading.severity}, cleared=cleared,
            ref=f"sensor:{sensor.id}:{'cleared' if cleared else 'alarm'}",
        )  # fmt: skip

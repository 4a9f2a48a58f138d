"""Acknowledgement after commit: the broker keeps what the hub had not acknowledged.

A private Mosquitto (tests/fault_support.py), since a persistent session and its
queued messages must not leak into the shared broker. The link is the hub's own
(`MqttLink`), persistent and MQTT 5, as `open_hub` builds it for a named instance.
"""

from __future__ import annotations

import json
import queue
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.config import SiteConfig
from hub.errors import BrokerError
from hub.hub import Hub, open_hub
from hub.infra.mqtt import MqttLink, ReceivedMessage, close_client
from hub.services import Endpoints
from tests.conftest import Device, metric, wait_until
from tests.fault_support import Broker, broker, persistent_broker  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.mqtt]

TOPIC = "gridhub/sensors/ACK-1/event"


def _session(url: str, client_id: str, got: queue.Queue[ReceivedMessage]) -> MqttLink:
    link = MqttLink(url, client_id, persistent=True, mqtt5=True)
    link.subscribe(TOPIC, got.put, qos=1, acks=True)
    link.start()
    return link


def _drain(got: queue.Queue[ReceivedMessage], within_s: float) -> list[bytes]:
    out = []
    try:
        while True:
            out.append(got.get(timeout=within_s).payload)
    except queue.Empty:
        return out


def test_unacknowledged_messages_come_back_and_acknowledged_ones_do_not(
    broker: Broker,  # noqa: F811
) -> None:
    client_id = f"gridhub-ack-{uuid.uuid4().hex[:6]}"
    got: queue.Queue[ReceivedMessage] = queue.Queue()
    link = _session(broker.url, client_id, got)
    device = Device(broker.url, f"ack-dev-{uuid.uuid4().hex[:6]}")
    try:
        for n in range(4):
            device.publish(TOPIC, f"m{n}")
        first = [got.get(timeout=5) for _ in range(4)]
        first[0].ack()  # "committed"; the other three are not
        first[1].ack()
        wait_until(lambda: link.connected)
        link.stop()  # the hub dies holding m2 and m3
        device.publish(TOPIC, "m4")  # sent while it is away
        link = _session(broker.url, client_id, got)
        again = [got.get(timeout=5) for _ in range(3)]
        assert sorted(m.payload for m in again) == [b"m2", b"m3", b"m4"]
        for message in again:
            message.ack()
        assert link.redelivered >= 2  # m2 and m3 came with the DUP flag
        link.stop()
        link = _session(broker.url, client_id, got)
        assert _drain(got, 1.0) == []  # everything was acknowledged
    finally:
        link.stop()
        device.close()


def test_an_ack_from_before_a_reconnect_is_not_sent_on_the_new_connection(
    persistent_broker: Broker,  # noqa: F811
) -> None:
    """Packet ids are per connection: the stale ack is dropped, the message redelivered.
    The broker restarts with persistence, so the session (and the message) survive it."""
    own = persistent_broker
    client_id = f"gridhub-ack-{uuid.uuid4().hex[:6]}"
    got: queue.Queue[ReceivedMessage] = queue.Queue()
    link = _session(own.url, client_id, got)
    device = Device(own.url, f"ack-dev-{uuid.uuid4().hex[:6]}")
    try:
        device.publish(TOPIC, "late")
        stale = got.get(timeout=5)
        own.stop()
        own.start()
        again = got.get(timeout=20)  # the link reconnects; the resumed session redelivers
        assert again.payload == b"late"
        stale.ack()  # dropped: another connection
        link.stop()
        link = _session(own.url, client_id, got)
        assert _drain(got, 2.0) == [b"late"]
    finally:
        link.stop()
        device.close()


def test_confirmed_publishes_tried_during_an_outage_are_not_sent_at_the_reconnect(
    persistent_broker: Broker,  # noqa: F811
) -> None:
    """The outbox retries a dispatch while the broker is down; each try must not leave a
    copy in paho's queue to be sent when the link reconnects."""
    own = persistent_broker
    topic = f"gridhub/patrols/P01/dispatch-{uuid.uuid4().hex[:6]}"
    got: queue.Queue[bytes] = queue.Queue()
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"once-{uuid.uuid4().hex[:6]}",
                         clean_session=False)  # fmt: skip
    device.on_message = lambda _c, _u, msg: got.put(bytes(msg.payload))
    device.connect("127.0.0.1", own.port)
    device.subscribe(topic, qos=1)
    device.loop_start()
    link = MqttLink(own.url, f"gridhub-once-{uuid.uuid4().hex[:6]}")
    link.start()
    try:
        own.stop()
        wait_until(lambda: not link.connected)
        for _ in range(5):
            with pytest.raises(BrokerError, match="failed"):
                link.publish_confirmed(topic, b"retry", timeout_s=0.2)
        own.start()
        wait_until(lambda: link.connected, timeout=20)
        link.publish_confirmed(topic, b"sent")
        received = [got.get(timeout=10)]
        received += _drain_bytes(got, 1.5)
    finally:
        link.stop()
        close_client(device)
    assert received == [b"sent"]


def _drain_bytes(got: queue.Queue[bytes], within_s: float) -> list[bytes]:
    out = []
    try:
        while True:
            out.append(got.get(timeout=within_s))
    except queue.Empty:
        return out


@pytest.mark.postgres
def test_a_retained_owntracks_fix_is_stored_once_across_reconnects(
    persistent_broker: Broker,  # noqa: F811
    migrated_db: str,
    demo_raw: dict[str, Any],
    tmp_path: Path,
) -> None:
    """The broker sends a retained message again at every subscription, so at every
    reconnect of the hub: the fix it holds is one row however often it comes."""
    own = persistent_broker
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    demo_raw["cameras"] = []
    site = SiteConfig.model_validate(demo_raw)
    fix = {"_type": "location", "lat": 30.2741, "lon": 120.1561, "tst": int(time.time())}
    device = Device(own.url, f"ot-{uuid.uuid4().hex[:6]}")
    device.client.publish("owntracks/wg07/phone", json.dumps(fix), qos=1,
                          retain=True).wait_for_publish(5)  # fmt: skip
    device.close()
    with open_hub(site, Endpoints(migrated_db, False, own.url, False)) as hub:
        wait_until(lambda: _positions(hub) == 1)
        for _ in range(2):
            own.stop()
            wait_until(lambda: not hub.mqtt.connected)
            own.start()
            wait_until(lambda: hub.mqtt.connected, timeout=20)
        wait_until(lambda: _owntracks_fixes(hub) == 3)  # the first, and once per reconnect
        wait_until(lambda: hub.positions.pending == 0)
        assert _positions(hub) == 1


def _positions(hub: Hub) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM patrol_positions").fetchone()
    return int(row[0]) if row else 0


def _owntracks_fixes(hub: Hub) -> float:
    return sum(metric(hub, "gridhub_patrol_fixes_total", source="owntracks", outcome=outcome)
               for outcome in ("accepted", "out_of_order"))  # fmt: skip

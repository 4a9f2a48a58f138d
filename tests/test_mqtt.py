"""The hub's MQTT link against the real Mosquitto broker."""

from __future__ import annotations

import queue
import uuid
from datetime import UTC, datetime

import pytest

from hub.clock import FakeClock
from hub.errors import BrokerError, PayloadError
from hub.infra.mqtt import BrokerAddress, MqttLink, ReceivedMessage
from tests.conftest import free_port, wait_until


def test_publish_and_subscribe_round_trip(mqtt_url: str) -> None:
    received: queue.Queue[ReceivedMessage] = queue.Queue()
    link = MqttLink(mqtt_url, "gridhub-test-link")
    link.subscribe("gridhub/test/roundtrip/#", received.put)
    link.start()
    try:
        assert link.connected
        link.publish("gridhub/test/roundtrip/a", b'{"ok": true}')
        message = received.get(timeout=5)
    finally:
        link.stop()
    assert message.topic == "gridhub/test/roundtrip/a"
    assert message.payload == b'{"ok": true}'
    assert not link.connected


def test_a_handler_gets_a_record_of_the_message(mqtt_url: str) -> None:
    """Levels, QoS, the retain flag and the receive time from the link's clock."""
    topic = f"gridhub/test/record-{uuid.uuid4().hex[:8]}/a"
    clock = FakeClock(datetime(2026, 11, 22, 8, 0, tzinfo=UTC))
    received: queue.Queue[ReceivedMessage] = queue.Queue()
    link = MqttLink(mqtt_url, "gridhub-test-record", clock=clock)
    link.subscribe(topic, received.put, qos=1)
    link.start()
    try:
        link.publish_confirmed(topic, b"{}")
        message = received.get(timeout=5)
    finally:
        link.stop()
    assert message == ReceivedMessage(topic, tuple(topic.split("/")), b"{}", 1, False, clock.now())
    assert message.topic_levels(4)[2] == topic.split("/")[2]
    with pytest.raises(PayloadError, match="expected 3 topic levels, got 4"):
        message.topic_levels(3)


def test_a_topic_that_is_not_utf8_has_no_levels() -> None:
    message = ReceivedMessage.build(b"gridhub/\xff/x", b"", datetime.now(UTC))
    assert message.levels == ()
    with pytest.raises(PayloadError, match="not UTF-8") as caught:
        message.topic_levels(3)
    assert caught.value.reason == "bad_topic"


def test_a_confirmed_publish_without_a_broker_is_a_broker_error() -> None:
    link = MqttLink(f"mqtt://127.0.0.1:{free_port()}", "gridhub-test-unconfirmed")
    with pytest.raises(BrokerError, match="publish to gridhub/test/x failed"):
        link.publish_confirmed("gridhub/test/x", b"{}", timeout_s=0.5)


def test_a_failing_handler_is_reported_and_the_link_carries_on(mqtt_url: str) -> None:
    failures: list[str] = []
    received: queue.Queue[ReceivedMessage] = queue.Queue()
    link = MqttLink(mqtt_url, "gridhub-test-failing-handler", failures.append)

    def broken(_message: ReceivedMessage) -> None:
        raise RuntimeError("a bug in a handler")

    link.subscribe("gridhub/test/failing/broken", broken)
    link.subscribe("gridhub/test/failing/fine", received.put)
    link.start()
    try:
        link.publish("gridhub/test/failing/broken", b"{}")
        wait_until(lambda: failures == ["gridhub/test/failing/broken"])
        link.publish("gridhub/test/failing/fine", b"{}")
        assert received.get(timeout=5).topic == "gridhub/test/failing/fine"
    finally:
        link.stop()


def test_unreachable_broker_is_a_clear_error() -> None:
    link = MqttLink(f"mqtt://127.0.0.1:{free_port()}", "gridhub-test-nobody")
    with pytest.raises(BrokerError, match=r"cannot reach MQTT broker mqtt://127.0.0.1:\d+"):
        link.start()


@pytest.mark.parametrize(
    ("url", "described"),
    [
        ("mqtt://broker:1883", "mqtt://broker:1883"),
        ("mqtt://hub:s%40cret@broker", "mqtt://hub@broker:1883"),
        ("mqtts://broker", "mqtts://broker:8883"),
    ],
)
def test_broker_address_never_shows_the_password(url: str, described: str) -> None:
    address = BrokerAddress.parse(url)
    assert address.describe() == described
    if address.username:
        assert address.password == "s@cret"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://broker", "must start with mqtt://"),
        ("mqtt://", "has no host"),
        ("mqtt://broker:notaport", "invalid port"),
    ],
)
def test_bad_broker_url(url: str, message: str) -> None:
    with pytest.raises(BrokerError, match=message):
        BrokerAddress.parse(url)

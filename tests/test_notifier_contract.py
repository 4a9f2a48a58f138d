"""The contract every registered `gridhub.notifiers` plugin keeps (hub.testing.contracts):
each delivers a case event to a real receiver (the MQTT broker, a local HTTP server)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from hub.cases.feed import CaseEvent
from hub.clock import SystemClock
from hub.config import load_site
from hub.infra.mqtt import MqttLink
from hub.plugins import NOTIFIERS, load_registry
from hub.seams import NotifierContext
from hub.testing.contracts import check_notifier_plugin
from tests.conftest import DEMO_CONFIG, Device
from tests.robot_receiver import robot_receiver, robot_specs
from tests.test_notify import Receiver

PLUGINS = load_registry([NOTIFIERS]).all(NOTIFIERS)


@dataclass
class Delivery:
    """A notifier's settings and how to tell that its event arrived."""

    spec: dict[str, Any]
    arrived: Callable[[CaseEvent], bool]


@pytest.fixture
def link(mqtt_url: str) -> Iterator[MqttLink]:
    link = MqttLink(mqtt_url, f"contract-notify-{uuid.uuid4().hex[:8]}")
    link.start()
    yield link
    link.stop()


def _mqtt(mqtt_url: str) -> Generator[Delivery, None, None]:
    prefix = f"gridhub/contract-{uuid.uuid4().hex[:8]}"
    watcher = Device(mqtt_url, f"contract-watch-{uuid.uuid4().hex[:8]}", f"{prefix}/#")

    def arrived(event: CaseEvent) -> bool:
        message = watcher.received.get(timeout=10)
        return bool(json.loads(message.payload)["case_id"] == event.case_id)

    try:
        yield Delivery({"kind": "mqtt", "topic_prefix": prefix}, arrived)
    finally:
        watcher.close()


def _webhook(_mqtt_url: str) -> Generator[Delivery, None, None]:
    server = Receiver(fail_first=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    def arrived(event: CaseEvent) -> bool:
        return any(json.loads(body)["id"] == event.id for _, body, _ in server.requests)

    try:
        yield Delivery({"kind": "webhook", "url": url, "secret": "contract"}, arrived)
    finally:
        server.shutdown()
        server.server_close()


def _robot(platform: str) -> Callable[[str], Generator[Delivery, None, None]]:
    """A chat robot against the local receiver that checks its platform's signature."""

    def receiver(_mqtt_url: str) -> Generator[Delivery, None, None]:
        with robot_receiver(SystemClock()) as server:
            spec = next(s for s in robot_specs(server.base) if s["kind"] == platform)

            def arrived(event: CaseEvent) -> bool:
                # A fresh receiver: the one message it accepted is this event's.
                return f"#{event.case_id}" in json.dumps(server.delivered(platform))

            yield Delivery(spec, arrived)

    return receiver


RECEIVERS = {
    "mqtt": _mqtt,
    "webhook": _webhook,
    "wecom": _robot("wecom"),
    "dingtalk": _robot("dingtalk"),
    "feishu": _robot("feishu"),
}


def test_every_notifier_has_a_receiver_here() -> None:
    assert set(PLUGINS) <= set(RECEIVERS), "add a real receiver for the new notifier"


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_notifier_keeps_the_contract(name: str, mqtt_url: str, link: MqttLink) -> None:
    context = NotifierContext(load_site(DEMO_CONFIG), link)
    receiver = RECEIVERS[name](mqtt_url)
    delivery = next(receiver)
    try:
        check_notifier_plugin(PLUGINS[name], name, delivery.spec, context, delivery.arrived)
    finally:
        receiver.close()

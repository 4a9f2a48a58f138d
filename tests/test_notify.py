"""Notifiers: signed webhooks with retries against a local HTTP server, and MQTT."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hub.config import NotifierSpec, load_site
from hub.errors import ConfigError
from hub.infra.mqtt import MqttLink
from hub.seams import NotifierContext
from tests.conftest import DEMO_CONFIG, Device, HubFactory, metric, wait_until
from tests.test_alerts import _alert

SECRET = "s3cret-webhook-key"


class Receiver(ThreadingHTTPServer):
    """A webhook receiver that fails the first `fail_first` requests with 500."""

    def __init__(self, fail_first: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes, int]] = []


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 500 if len(self.server.requests) < self.server.fail_first else 200
        self.server.requests.append((dict(self.headers), body, status))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(fail_first=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_retries_and_signs(
    hub_factory: HubFactory, demo_raw: dict[str, Any], receiver: Receiver
) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/gridhub"
    demo_raw["notifiers"] = [{"kind": "webhook", "name": "city-platform", "url": url,
                              "secret": SECRET}]  # fmt: skip
    hub = hub_factory(raw=demo_raw)
    hub.notifiers[0].backoff_s = 0.05
    outcome = hub.cases.record(_alert(hub))
    wait_until(lambda: sum(1 for *_, s in receiver.requests if s == 200) == 1)
    headers, body, _ = receiver.requests[-1]
    assert [s for *_, s in receiver.requests] == [500, 500, 200]  # the same event, retried
    assert len({h["X-Gridhub-Delivery"] for h, *_ in receiver.requests}) == 1
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Gridhub-Signature"] == f"sha256={expected}"
    event = json.loads(body)
    assert (event["case_id"], event["action"], event["to_state"]) == (
        outcome.case_id, "report", "reported")  # fmt: skip
    wait_until(
        lambda: (
            metric(
                hub, "gridhub_notifications_total", notifier="city-platform", outcome="delivered"
            )
            == 1
        )
    )  # counted just after the answer


def test_mqtt_notifier_publishes_case_events(
    hub_factory: HubFactory, demo_raw: dict[str, Any], mqtt_url: str
) -> None:
    demo_raw["notifiers"] = [{"kind": "mqtt"}]
    hub = hub_factory(raw=demo_raw)
    watcher = Device(mqtt_url, "test-case-watcher", "gridhub/cases/#")
    try:
        outcome = hub.cases.record(_alert(hub))
        message = watcher.received.get(timeout=10)
        assert message.topic == f"gridhub/cases/WT-QH-02/{outcome.case_id}"
        assert json.loads(message.payload)["action"] == "report"
    finally:
        watcher.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "webhook", "url": "ftp://x", "secret": "k"}, "url: must start with http"),
        ({"kind": "webhook", "url": "http://x"}, "secret: Field required"),
        (
            {"kind": "webhook", "url": "http://x", "secret": "k", "retry": 3},
            "retry: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_notifier_settings(spec: dict[str, Any], message: str, mqtt_url: str) -> None:
    from adapters.notify_webhook import plugin

    context = NotifierContext(load_site(DEMO_CONFIG), MqttLink(mqtt_url, "unused"))
    with pytest.raises(ConfigError, match=message):
        plugin.build(NotifierSpec.model_validate(spec), context)

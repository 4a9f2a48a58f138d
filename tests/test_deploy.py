"""The production Mosquitto files (deploy/mosquitto) run on a real Mosquitto binary.

The broker is started from the committed config and ACL (paths rewritten to the
test's directory), with a password file made by mosquitto_passwd, and the test
checks that a patrol device can publish only its own topics.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.infra.mqtt import close_client
from tests.conftest import REPO, free_port

DEPLOY = REPO / "deploy" / "mosquitto"


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[int]:
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto is not installed")
    port = free_port()
    passwd = tmp_path / "passwd"
    passwd.touch(mode=0o600)
    for user, password in (("gridhub", "hub-secret"), ("P01", "p01-secret")):
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    config = (DEPLOY / "mosquitto.conf").read_text()
    config = config.replace("listener 1883", f"listener {port} 127.0.0.1")
    config = config.replace("/mosquitto/data/passwd", str(passwd))
    config = config.replace("/mosquitto/config/acl", str(DEPLOY / "acl"))
    config = config.replace("/mosquitto/data/", f"{tmp_path}/")
    if os.geteuid() == 0:  # keep the files readable: Mosquitto drops root for its own user
        config += "user root\n"
    (tmp_path / "mosquitto.conf").write_text(config)
    broker = subprocess.Popen(
        ["mosquitto", "-c", str(tmp_path / "mosquitto.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for_port(port)
    yield port
    broker.terminate()
    broker.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"mosquitto did not listen on {port}")


def _client(port: int, user: str, password: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}")
    client.username_pw_set(user, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def test_devices_publish_only_their_own_topics(secured_broker: int) -> None:
    received: queue.Queue[str] = queue.Queue()
    hub = _client(secured_broker, "gridhub", "hub-secret")
    hub.on_message = lambda _c, _u, msg: received.put(msg.topic)
    hub.subscribe("gridhub/#", qos=1)
    patrol = _client(secured_broker, "P01", "p01-secret")
    time.sleep(0.5)
    try:
        patrol.publish("gridhub/patrols/P02/location", b"{}", qos=1).wait_for_publish(5)
        patrol.publish("gridhub/patrols/P01/dispatch", b"{}", qos=1).wait_for_publish(5)
        patrol.publish("gridhub/patrols/P01/location", b"{}", qos=1).wait_for_publish(5)
        assert received.get(timeout=5) == "gridhub/patrols/P01/location"
        time.sleep(0.5)
        assert received.empty(), "a device published on a topic that is not its own"
    finally:
        for client in (hub, patrol):
            close_client(client)


def test_anonymous_and_wrong_password_are_refused(secured_broker: int) -> None:
    for user, password in (("P01", "wrong"), ("", "")):
        answers: queue.Queue[bool] = queue.Queue()
        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.user_data_set(answers)
        client.on_connect = lambda _c, out, _f, reason, _p: out.put(reason.is_failure)
        if user:
            client.username_pw_set(user, password)
        client.connect("127.0.0.1", secured_broker)
        client.loop_start()
        try:
            assert answers.get(timeout=5), f"{user or 'anonymous'} was let in"
        finally:
            close_client(client)


def test_an_oversized_packet_disconnects_its_sender(secured_broker: int) -> None:
    received: queue.Queue[int] = queue.Queue()
    hub = _client(secured_broker, "gridhub", "hub-secret")
    hub.on_message = lambda _c, _u, msg: received.put(len(msg.payload))
    hub.subscribe("gridhub/patrols/+/location", qos=1)
    patrol = _client(secured_broker, "P01", "p01-secret")
    gone: queue.Queue[bool] = queue.Queue()
    patrol.on_disconnect = lambda *_args: gone.put(True)
    time.sleep(0.5)
    try:
        patrol.publish("gridhub/patrols/P01/location", b"x" * 100_000, qos=1)
        assert gone.get(timeout=5), "Mosquitto kept a client that sent 100 kB"
        close_client(patrol)
        patrol = _client(secured_broker, "P01", "p01-secret")
        time.sleep(0.3)
        patrol.publish("gridhub/patrols/P01/location", b"{}", qos=1).wait_for_publish(5)
        assert received.get(timeout=5) == 2  # the small one, and only that, got through
        assert received.empty()
    finally:
        for client in (hub, patrol):
            close_client(client)

"""The production files (docker-compose.yml, Dockerfile, deploy/mosquitto) hold together.

Two kinds of check, neither needing a Docker engine:

- The files are read and checked against each other and the code: every path
  the compose file mounts exists, the image copies every package the `gridhub`
  command loads, the image's command is one the CLI accepts, and the paths,
  ports and environment the compose file gives the hub are the ones the image
  and the hub use.
- The Mosquitto files run on a real Mosquitto binary: `entrypoint.sh` builds the
  password file from the environment and starts the broker from the committed
  config and ACL (container paths rewritten to the test's directory); the tests
  check that a device can publish only its own topics.

What is not checked anywhere: building the image and `docker compose up` (no
Docker engine on the development or CI machines).

Mosquitto is a service like PostgreSQL: missing, it skips these tests with the
reason outside CI and fails them under CI (CI=true). Debian installs it in
/usr/sbin, which is not on every user's PATH, so that is searched too.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from hub.cli import build_parser
from hub.infra.mqtt import BrokerAddress, close_client
from tests.conftest import REPO, _unavailable, free_port

DEPLOY = REPO / "deploy" / "mosquitto"
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"

# --- the files, read ----------------------------------------------------------


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return compose


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, continuations joined."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _instructions(name: str) -> list[str]:
    return [args for instruction, args in _dockerfile() if instruction == name]


def _image_env() -> dict[str, str]:
    return dict(
        pair.split("=", 1) for args in _instructions("ENV") for pair in shlex.split(args)
    )  # fmt: skip


def _substitute(value: str) -> str:
    """Compose's `${NAME:-default}`, `${NAME:?message}`, `${NAME}`, as with none of them set."""

    def default(match: re.Match[str]) -> str:
        return match.group(2) if match.group(1) == ":-" else ""

    return re.sub(r"\$\{\w+(?:(:-|:\?)([^}]*))?\}", default, value)


def _volumes(service: str) -> dict[str, str]:
    """Container path → host path (or named volume) of a service's mounts."""
    mounts = {}
    for volume in _compose()["services"][service].get("volumes", []):
        source, target = _substitute(volume).split(":")[:2]
        mounts[target] = source
    return mounts


# --- docker-compose.yml and Dockerfile ---------------------------------------


def test_compose_mounts_and_builds_files_that_exist() -> None:
    compose = _compose()
    named = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for target, source in _volumes(name).items():
            if source.startswith((".", "/")):
                assert (REPO / source).is_file(), f"{name} mounts {source} at {target}: missing"
            else:
                assert source in named, f"{name} mounts an undeclared volume {source}"
        if "build" in service:
            assert (REPO / service["build"] / "Dockerfile").is_file()
        for needed, condition in service.get("depends_on", {}).items():
            assert needed in compose["services"], f"{name} depends on unknown {needed}"
            if condition == {"condition": "service_healthy"}:
                assert "healthcheck" in compose["services"][needed], needed


def test_compose_passwords_are_required_not_defaulted() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    for secret in ("GRIDHUB_DB_PASSWORD", "GRIDHUB_MQTT_PASSWORD"):
        assert f"${{{secret}:?" in text, f"{secret} must be required (${{{secret}:?…}})"
        assert f"${{{secret}:-" not in text, f"{secret} must have no default"


def test_mosquitto_container_starts_from_the_mounted_files() -> None:
    service = _compose()["services"]["mosquitto"]
    mounts = _volumes("mosquitto")
    script = service["entrypoint"][-1]
    assert mounts[script] == "./deploy/mosquitto/entrypoint.sh"
    text = (DEPLOY / "entrypoint.sh").read_text()
    config = re.search(r"exec mosquitto -c (\S+)", text)
    assert config is not None and mounts[config.group(1)] == "./deploy/mosquitto/mosquitto.conf"
    conf = (DEPLOY / "mosquitto.conf").read_text()
    acl = re.search(r"^acl_file (\S+)", conf, re.M)
    assert acl is not None and mounts[acl.group(1)] == "./deploy/mosquitto/acl"
    passwd = re.search(r"^password_file (\S+)", conf, re.M)
    assert passwd is not None and f"passwd={passwd.group(1)}" in text  # written by the script
    data = re.search(r"^persistence_location (\S+)", conf, re.M)
    assert data is not None and data.group(1).rstrip("/") in mounts  # a volume, kept
    assert passwd.group(1).startswith(data.group(1))
    assert service["ports"] == ["1883:1883"] and re.search(r"^listener 1883$", conf, re.M)


def test_hub_container_reaches_the_other_services() -> None:
    compose = _compose()
    env = compose["services"]["hub"]["environment"]
    database = re.match(r"postgresql://(\w+):\$\{GRIDHUB_DB_PASSWORD\}@(\w+):5432/(\w+)$",
                        env["GRIDHUB_DATABASE_URL"])  # fmt: skip
    assert database is not None, env["GRIDHUB_DATABASE_URL"]
    db_env = compose["services"][database.group(2)]["environment"]
    assert (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"]) == database.group(1, 3)
    broker = BrokerAddress.parse(_substitute(env["GRIDHUB_MQTT_URL"]))
    assert broker.host in compose["services"] and broker.port == 1883
    assert broker.username == "gridhub"  # the ACL's hub identity, written by entrypoint.sh
    hub_code = "\n".join(path.read_text() for path in (REPO / "hub").rglob("*.py"))
    for name in env:
        assert f'"{name}"' in hub_code, f"the hub does not read {name}"


def test_image_installs_every_package_the_gridhub_command_loads() -> None:
    copied = {path for args in _instructions("COPY") for path in shlex.split(args)[:-1]}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = {project["project"]["readme"], "pyproject.toml"}
    needed |= {pattern.rstrip("*") for pattern in
               project["tool"]["setuptools"]["packages"]["find"]["include"]}  # fmt: skip
    for group in project["project"]["entry-points"].values():
        needed |= {target.split(".", 1)[0] for target in group.values()}
    needed |= {target.split(".", 1)[0] for target in project["project"]["scripts"].values()}
    assert needed <= copied, f"the image does not copy {sorted(needed - copied)}"
    install = next(args for args in _instructions("RUN") if "pip install" in args)
    extras = re.search(r'pip install "\.\[([\w,-]+)\]"', install)
    assert extras is not None, install
    assert set(extras.group(1).split(",")) <= set(project["project"]["optional-dependencies"])


def test_image_command_is_one_the_cli_accepts() -> None:
    (cmd,) = _instructions("CMD")
    argv = json.loads(cmd)
    assert argv[0] == "gridhub"
    args = build_parser().parse_args(argv[1:])
    assert args.command.__name__ == "cmd_run"
    hub_mounts = _volumes("hub")
    assert hub_mounts[str(args.config)] == "./config/demo.yaml"  # GRIDHUB_SITE by default
    assert args.host == "0.0.0.0" and args.wait > 0
    data_dir = _image_env()["GRIDHUB_DATA_DIR"]
    assert data_dir in hub_mounts, "the hub's data dir must be a volume"
    (exposed,) = _instructions("EXPOSE")
    assert _compose()["services"]["hub"]["ports"] == [f"8080:{exposed}"]
    assert yaml.safe_load((REPO / "config" / "demo.yaml").read_text())["api"]["port"] == int(
        exposed
    )


# --- deploy/mosquitto on a real Mosquitto -------------------------------------


def _mosquitto_tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=SBIN_PATH)
    if path is None:
        _unavailable(f"{name} is not installed (Debian package mosquitto)")
    assert path is not None
    return path


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[int]:
    """Mosquitto started by the committed entrypoint.sh, config and ACL."""
    mosquitto, mosquitto_passwd = _mosquitto_tool("mosquitto"), _mosquitto_tool("mosquitto_passwd")
    port = free_port()
    config = (DEPLOY / "mosquitto.conf").read_text()
    config = config.replace("listener 1883", f"listener {port} 127.0.0.1")
    config = config.replace("/mosquitto/config/acl", str(DEPLOY / "acl"))
    config = config.replace("/mosquitto/data/", f"{tmp_path}/")
    if os.geteuid() == 0:  # keep the files readable: Mosquitto drops root for its own user
        config += "user root\n"
    (tmp_path / "mosquitto.conf").write_text(config)
    script = (DEPLOY / "entrypoint.sh").read_text()
    script = script.replace("/mosquitto/config/mosquitto.conf", str(tmp_path / "mosquitto.conf"))
    script = script.replace("/mosquitto/data/", f"{tmp_path}/")
    script = script.replace("mosquitto_passwd ", f"{mosquitto_passwd} ")
    script = script.replace("exec mosquitto ", f"exec {mosquitto} ")
    (tmp_path / "entrypoint.sh").write_text(script)
    env = {**os.environ, "GRIDHUB_MQTT_PASSWORD": "hub-secret",
           "PATROL_DEVICE_PASSWORDS": "P01:p01-secret P02:p02:colon"}  # fmt: skip
    broker = subprocess.Popen(
        ["sh", str(tmp_path / "entrypoint.sh")], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, broker)
        yield port
    finally:
        broker.terminate()
        broker.wait(timeout=10)


def _wait_for_port(port: int, broker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert broker.poll() is None, f"entrypoint.sh exited with {broker.returncode}"
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


def test_every_device_in_the_environment_can_log_in(secured_broker: int) -> None:
    # PATROL_DEVICE_PASSWORDS splits each pair at its first colon: P02's password has one.
    received: queue.Queue[str] = queue.Queue()
    hub = _client(secured_broker, "gridhub", "hub-secret")
    hub.on_message = lambda _c, _u, msg: received.put(msg.topic)
    hub.subscribe("gridhub/patrols/+/location", qos=1)
    patrol = _client(secured_broker, "P02", "p02:colon")
    time.sleep(0.5)
    try:
        patrol.publish("gridhub/patrols/P02/location", b"{}", qos=1).wait_for_publish(5)
        assert received.get(timeout=5) == "gridhub/patrols/P02/location"
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

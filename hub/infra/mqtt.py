"""The hub's MQTT connection: URL parsing, a checked connect, and reconnection.

paho-mqtt runs its network loop in its own thread and reconnects by itself with
a capped backoff; `MqttLink` records whether it is connected (for /api/health)
and re-subscribes every topic after a reconnect, so a broker restart costs a gap
and not a silent loss of subscriptions. A handler that raises is logged and
reported through `on_handler_error` (the hub counts it in /metrics); the network
thread carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hub.errors import BrokerError, PayloadError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
MessageHandler = Callable[[mqtt.MQTTMessage], None]
HandlerErrorHook = Callable[[str], None]


def topic_of(message: mqtt.MQTTMessage) -> str:
    """The message's topic as text, for logs."""
    try:
        return message.topic
    except UnicodeDecodeError:
        return "(a topic that is not UTF-8)"


def topic_levels(message: mqtt.MQTTMessage, count: int) -> list[str]:
    """The topic's levels; `PayloadError("bad_topic")` unless UTF-8 with `count` levels."""
    try:
        levels = message.topic.split("/")
    except UnicodeDecodeError:
        raise PayloadError("bad_topic", "the topic is not UTF-8") from None
    if len(levels) != count:
        raise PayloadError("bad_topic", f"expected {count} topic levels, got {len(levels)}")
    return levels


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker is, parsed from mqtt://[user:password@]host[:port]."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise BrokerError(f"MQTT URL must start with mqtt:// or mqtts://, not '{parts.scheme}'")
        if not parts.hostname:
            raise BrokerError("MQTT URL has no host")
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise BrokerError("MQTT URL has an invalid port") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def describe(self) -> str:
        """Where the broker is, without the password."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def close_client(client: mqtt.Client) -> None:
    """Disconnect, stop the network thread, and close paho's wake-up socket pair.

    paho leaves that pair to its `__del__`, which a reference cycle can delay
    past the sockets' own finalisers (a ResourceWarning at exit).
    """
    client.disconnect()
    client.loop_stop()
    client._reset_sockets(sockpair_only=True)  # noqa: SLF001 (no public way to close them)


def _ignore_handler_error(_subscription: str) -> None:
    return None


class MqttLink:
    """One paho client with a known connection state and durable subscriptions."""

    def __init__(
        self, url: str, client_id: str, on_handler_error: HandlerErrorHook | None = None
    ) -> None:
        self.address = BrokerAddress.parse(url)
        self.client_id = client_id
        self._on_handler_error = on_handler_error or _ignore_handler_error
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if self.address.username:
            self._client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._connected = threading.Event()
        self._subscriptions: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def client(self) -> mqtt.Client:
        return self._client

    def start(self, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """Connect and start the network thread, or raise `BrokerError` saying why."""
        where = self.address.describe()
        try:
            self._client.connect(self.address.host, self.address.port, keepalive=30)
        except OSError as exc:
            raise BrokerError(f"cannot reach MQTT broker {where}: {exc.strerror or exc}") from exc
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise BrokerError(f"MQTT broker {where} did not accept the connection in {timeout_s}s")

    def stop(self) -> None:
        close_client(self._client)
        self._connected.clear()

    def subscribe(self, topic: str, handler: MessageHandler, qos: int = 1) -> None:
        """Route `topic` to `handler`, now and after every reconnect.

        A shared subscription (`$share/{group}/{filter}`) routes messages by its
        filter: they arrive with their own topic, which never starts with `$share`.
        """
        with self._lock:
            self._subscriptions[topic] = qos
        route = topic.split("/", 2)[2] if topic.startswith("$share/") else topic
        self._client.message_callback_add(
            route, lambda _c, _u, msg: self._guarded(topic, handler, msg)
        )
        if self.connected:
            self._client.subscribe(topic, qos)

    def _guarded(self, subscription: str, handler: MessageHandler, msg: mqtt.MQTTMessage) -> None:
        """Run a handler; a bug in one never kills paho's network thread, and is counted."""
        try:
            handler(msg)
        except Exception:
            log.exception("handler for %s failed", topic_of(msg))
            self._on_handler_error(subscription)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            log.error("MQTT broker %s refused the connection: %s", self.address.describe(), reason)
            return
        with self._lock:
            topics = list(self._subscriptions.items())
        for topic, qos in topics:
            client.subscribe(topic, qos)
        self._connected.set()
        log.info("connected to MQTT broker %s", self.address.describe())

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if self._connected.is_set():
            log.warning("lost MQTT broker %s: %s", self.address.describe(), reason)
        self._connected.clear()

"""The hub's MQTT connection, and the only module of the hub that imports paho.

paho-mqtt runs its network loop in its own thread and reconnects by itself with
a capped backoff; `MqttLink` records whether it is connected (for /api/health)
and re-subscribes every topic after a reconnect, so a broker restart costs a gap
and not a silent loss of subscriptions. Handlers receive a `ReceivedMessage`
(never paho's message). A handler that raises is logged and reported through
`on_handler_error` (the hub counts it in /metrics); the network thread carries
on. `publish_confirmed` is the one way to publish and wait for the broker's
PUBACK (the dispatch outbox and the MQTT notifier use it).

Acknowledgement after commit (docs/mqtt.md, docs/reliability.md): paho runs with
manual acknowledgement. A handler subscribed with `acks=True` owns the message's
`ack` and calls it once the row holding the message is committed (or once it has
rejected and counted it); for every other handler the link acknowledges when the
handler returns. A `persistent` link keeps its broker session (clean session off,
a stable client id), so what the hub had not acknowledged when it died, and what
was published while it was away, is delivered when it comes back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from hub.clock import Clock, SystemClock
from hub.errors import BrokerError, PayloadError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
PUBLISH_TIMEOUT_S = 5.0
NOT_UTF8_TOPIC = "(a topic that is not UTF-8)"
RECEIVE_MAXIMUM = 65535  # unacknowledged QoS 1 messages the broker may send (MQTT 5)
SESSION_EXPIRY_S = 7 * 86400  # how long the broker keeps a persistent session's messages


def _no_ack() -> None:
    return None


class Ack:
    """The acknowledgement of one received QoS 1 message: idempotent, any thread.

    An acknowledgement is only sent on the connection the message came on: after a
    reconnect the broker redelivers what was not acknowledged (with the same or a new
    packet id), so a late ack is dropped rather than risk acknowledging another message.
    """

    __slots__ = ("_client", "_done", "_generation", "_link_generation", "_mid", "_qos")

    def __init__(
        self, client: mqtt.Client, mid: int, qos: int, generation: int,
        link_generation: Callable[[], int],
    ) -> None:  # fmt: skip
        self._client, self._mid, self._qos = client, mid, qos
        self._generation, self._link_generation = generation, link_generation
        self._done = False

    def __call__(self) -> None:
        if self._done:
            return
        self._done = True
        if self._qos > 0 and self._link_generation() == self._generation:
            self._client.ack(self._mid, self._qos)


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One received message, as a handler sees it (Home Assistant's `ReceiveMessage`).

    MQTT topics are UTF-8, but a device may send anything: a topic that is not
    reads as `NOT_UTF8_TOPIC` and has no levels, so `topic_levels()` refuses it.
    """

    topic: str
    levels: tuple[str, ...]
    payload: bytes
    qos: int
    retain: bool
    received_at: datetime
    # Tell the broker the message is safe (see the module docs); not part of its value.
    ack: Callable[[], None] = field(default=_no_ack, compare=False, repr=False)

    @classmethod
    def build(
        cls, topic: bytes | str, payload: bytes, received_at: datetime,
        qos: int = 0, retain: bool = False, ack: Callable[[], None] = _no_ack,
    ) -> ReceivedMessage:  # fmt: skip
        """The record of a message on `topic` (raw bytes as they came, or text)."""
        if isinstance(topic, bytes):
            try:
                topic = topic.decode()
            except UnicodeDecodeError:
                return cls(NOT_UTF8_TOPIC, (), payload, qos, retain, received_at, ack)
        return cls(topic, tuple(topic.split("/")), payload, qos, retain, received_at, ack)

    def topic_levels(self, count: int) -> tuple[str, ...]:
        """The topic's levels; `PayloadError("bad_topic")` unless UTF-8 with `count` levels."""
        levels = self.levels
        if not levels:
            raise PayloadError("bad_topic", "the topic is not UTF-8")
        if len(levels) != count:
            raise PayloadError("bad_topic", f"expected {count} topic levels, got {len(levels)}")
        return levels


MessageHandler = Callable[[ReceivedMessage], None]
HandlerErrorHook = Callable[[str], None]


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
    """One paho client with a known connection state and durable subscriptions.

    `clock` stamps each message's `received_at`: pass the hub's, so a handler's
    "now" is the one the rest of the hub reads. `persistent` keeps the broker session
    of `client_id` across disconnects (which must then be this instance's alone).
    MQTT 5 (`mqtt5`; the hub uses it with a configured broker) lets the link raise the
    broker's in-flight window (Receive Maximum): acknowledging after commit holds each
    message for a batch, and Mosquitto's window for MQTT 3.1.1 clients (20 by default)
    would hold the ingest to 20 messages per commit. The embedded broker speaks 3.1.1.
    """

    def __init__(
        self, url: str, client_id: str, on_handler_error: HandlerErrorHook | None = None,
        clock: Clock | None = None, persistent: bool = False, mqtt5: bool = False,
    ) -> None:  # fmt: skip
        self.address = BrokerAddress.parse(url)
        self.client_id = client_id
        self.persistent = persistent
        self.redelivered = 0  # messages the broker marked as sent before (DUP)
        self._on_handler_error = on_handler_error or _ignore_handler_error
        self._clock = clock or SystemClock()
        self._generation = 0  # connections made: an ack is only sent on its own
        self._redelivery_logged = -1  # the connection whose redeliveries were logged
        self.mqtt5 = mqtt5
        protocol = mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
            clean_session=None if mqtt5 else not persistent, manual_ack=True,
        )  # fmt: skip
        if self.address.username:
            self._client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_message = self._unrouted
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._connected = threading.Event()
        self._subscriptions: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """Connect and start the network thread, or raise `BrokerError` saying why."""
        where = self.address.describe()
        try:
            self._connect()
        except OSError as exc:
            raise BrokerError(f"cannot reach MQTT broker {where}: {exc.strerror or exc}") from exc
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise BrokerError(f"MQTT broker {where} did not accept the connection in {timeout_s}s")

    def _connect(self) -> None:
        host, port = self.address.host, self.address.port
        if not self.mqtt5:
            self._client.connect(host, port, keepalive=30)
            return
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        props.SessionExpiryInterval = SESSION_EXPIRY_S if self.persistent else 0
        clean = not self.persistent
        self._client.connect(host, port, keepalive=30, clean_start=clean, properties=props)

    def stop(self) -> None:
        close_client(self._client)
        self._connected.clear()

    def subscribe(
        self, topic: str, handler: MessageHandler, qos: int = 1, acks: bool = False
    ) -> None:
        """Route `topic` to `handler`, now and after every reconnect.

        With `acks` the handler calls each message's `ack` itself, once what it
        carries is safe (committed, or rejected and counted); otherwise the link
        acknowledges it when the handler returns. A shared subscription
        (`$share/{group}/{filter}`) routes messages by its filter: they arrive
        with their own topic, which never starts with `$share`.
        """
        with self._lock:
            self._subscriptions[topic] = qos
        route = topic.split("/", 2)[2] if topic.startswith("$share/") else topic
        self._client.message_callback_add(
            route, lambda _c, _u, msg: self._guarded(topic, handler, msg, acks)
        )
        if self.connected:
            self._client.subscribe(topic, qos)

    def _guarded(
        self, subscription: str, handler: MessageHandler, msg: mqtt.MQTTMessage, acks: bool
    ) -> None:
        """Run a handler; a bug in one never kills paho's network thread, and is counted.

        A handler that raises has its message acknowledged: redelivered, it would
        fail the same way for ever.
        """
        if msg.dup:
            self._redelivery(msg)
        ack = Ack(self._client, msg.mid, msg.qos, self._generation, lambda: self._generation)
        message = ReceivedMessage.build(
            msg._topic,  # noqa: SLF001 (the raw topic: `msg.topic` raises unless it is UTF-8)
            bytes(msg.payload), self._clock.now(), msg.qos, msg.retain, ack,
        )  # fmt: skip
        try:
            handler(message)
        except Exception:
            log.exception("handler for %s failed", message.topic)
            self._on_handler_error(subscription)
            ack()
            return
        if not acks:
            ack()

    def _unrouted(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        """A message of the resumed session that no handler takes (yet): not acknowledged,
        so the broker sends it again on the next connection."""
        log.warning("no handler for a message on %r; left to the broker", msg._topic)  # noqa: SLF001

    def _redelivery(self, msg: mqtt.MQTTMessage) -> None:
        """Count a message the broker sends again; say so once per connection."""
        self.redelivered += 1
        if self._redelivery_logged != self._generation:
            self._redelivery_logged = self._generation
            log.info("the broker is redelivering messages not acknowledged before "
                     "(first on %r)", msg._topic)  # noqa: SLF001  # fmt: skip

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Hand a message to the network thread; nothing waits for the broker."""
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def publish_confirmed(
        self, topic: str, payload: bytes, timeout_s: float = PUBLISH_TIMEOUT_S
    ) -> None:
        """Publish with QoS 1 and wait for the broker's PUBACK, or raise `BrokerError`.

        Not retried here: a caller that must deliver (the dispatch outbox) keeps the
        message and tries again later. Refused while disconnected: paho would queue
        each try and send every copy at the reconnect (one dispatch reached a patrol
        30 times after a broker outage).
        """
        if not self.connected:
            raise BrokerError(f"publish to {topic} failed: not connected to the broker")
        info = self._client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError) as exc:  # not connected, or paho's queue is full
            raise BrokerError(f"publish to {topic} failed: {exc}") from exc
        if not info.is_published():
            raise BrokerError(f"no PUBACK for {topic} within {timeout_s}s")

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            log.error("MQTT broker %s refused the connection: %s", self.address.describe(), reason)
            return
        self._generation += 1
        if self.persistent:
            log.info("MQTT session %s %s", self.client_id,
                     "resumed" if flags.session_present else "started")  # fmt: skip
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

"""Position history when several hub instances share a broker: each fix stored once.

Every instance subscribes to every fix for its live index (any of them may have
to dispatch any patrol), so if each also stored what it receives, the history
would hold one copy per instance. With `cluster.shared_history` the instances
store fixes from an MQTT shared subscription instead (`$share/gridhub-history/…`
on a connection of their own): the broker hands each fix to one of them.

Fixes are parsed and checked as the ingest does; rejections are not counted
here, since the instance's ingest sees and counts the same message. Each fix is
acknowledged once written, like the ingest's (QoS 1).
"""

from __future__ import annotations

from hub.errors import PayloadError
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.patrols.ingest import LOCATION_TOPIC, OWNTRACKS_TOPIC, PatrolIngest
from hub.patrols.payloads import parse_native_location, parse_owntracks
from hub.patrols.writer import PositionWriter

SHARE_GROUP = "$share/gridhub-history/"


class SharedHistory:
    """Stores the fixes the broker hands this instance from the shared subscription."""

    def __init__(self, ingest: PatrolIngest, writer: PositionWriter) -> None:
        self._ingest, self._writer = ingest, writer

    def subscribe(self, link: MqttLink) -> None:
        link.subscribe(SHARE_GROUP + LOCATION_TOPIC, self.on_location, qos=1, acks=True)
        link.subscribe(SHARE_GROUP + OWNTRACKS_TOPIC, self.on_owntracks, qos=1, acks=True)

    def on_location(self, message: ReceivedMessage) -> None:
        try:
            patrol_id = self._ingest.topic_patrol(message)
            report = parse_native_location(patrol_id, message.payload, message.received_at)
        except PayloadError:
            message.ack()
            return
        self._writer.put(report.fix, message.ack)

    def on_owntracks(self, message: ReceivedMessage) -> None:
        try:
            _, user, device = message.topic_levels(3)
            patrol_id = self._ingest.owntracks_patrol(user, device)
            fix = parse_owntracks(patrol_id, message.payload, message.received_at)
        except PayloadError:
            message.ack()
            return
        if fix is None:
            message.ack()
        else:
            self._writer.put(fix, message.ack)

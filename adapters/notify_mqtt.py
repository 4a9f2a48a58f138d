"""MQTT notifier: every case event on `gridhub/cases/{grid_id}/{case_id}` (QoS 1).

Dashboards, wall screens and other systems on the site's broker subscribe to
``gridhub/cases/#`` (or one grid's ``gridhub/cases/{grid_id}/#``).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from hub.cases.feed import CaseEvent
from hub.config import NotifierSpec
from hub.errors import BrokerError, NotifyError
from hub.infra.mqtt import MqttLink
from hub.plugin_settings import plugin_settings
from hub.seams import NotifierContext

KIND = "mqtt"


class MqttNotifierConfig(BaseModel):
    """Settings of the MQTT notifier."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="mqtt")
    name: str | None = Field(default=None, description="Unique name; defaults to the kind.")
    topic_prefix: str = Field(default="gridhub/cases", description="Topic before /{grid}/{case}.")
    publish_timeout_s: float = Field(default=5.0, gt=0, description="Wait for the PUBACK.")


class MqttNotifier:
    """Publishes case events to the hub's own broker."""

    def __init__(self, config: MqttNotifierConfig, link: MqttLink) -> None:
        self._config = config
        self._link = link

    def notify(self, event: CaseEvent) -> None:
        topic = f"{self._config.topic_prefix}/{event.grid_id or 'none'}/{event.case_id}"
        payload = json.dumps(event.as_json(), ensure_ascii=False).encode()
        try:
            self._link.publish_confirmed(topic, payload, self._config.publish_timeout_s)
        except BrokerError as exc:
            raise NotifyError(str(exc)) from exc


class MqttNotifierPlugin:
    kind = KIND
    settings = MqttNotifierConfig

    def build(self, spec: NotifierSpec, context: NotifierContext) -> MqttNotifier:
        config = plugin_settings(MqttNotifierConfig, spec.model_dump(), where="")
        return MqttNotifier(config, context.mqtt)


plugin = MqttNotifierPlugin()

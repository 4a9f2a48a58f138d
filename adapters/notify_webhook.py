"""Webhook notifier: every case event POSTed as JSON, signed with HMAC-SHA256.

Headers: ``X-Gridhub-Event`` (the action), ``X-Gridhub-Delivery`` (the event id,
unique: receivers de-duplicate retries with it) and ``X-Gridhub-Signature:
sha256=<hex>``, the HMAC of the exact body with the shared secret. A non-2xx
answer or a network error raises `NotifyError`; the runner retries with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.cases.feed import CaseEvent
from hub.config import NotifierSpec
from hub.errors import ConfigError, NotifyError
from hub.plugin_settings import plugin_settings
from hub.seams import NotifierContext

KIND = "webhook"


class WebhookConfig(BaseModel):
    """Settings of a webhook notifier."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="webhook")
    name: str | None = Field(default=None, description="Unique name; defaults to the kind.")
    url: SecretStr = Field(description="http(s):// endpoint; may hold a token, so it is secret.")
    secret: SecretStr = Field(description="Shared secret for the X-Gridhub-Signature HMAC.")
    timeout_s: float = Field(default=5.0, gt=0, description="Per-request timeout.")
    actions: list[str] | None = Field(
        default=None, description="Only these event actions (default: all)."
    )


def signature(secret: str, body: bytes) -> str:
    """The value of X-Gridhub-Signature for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    """POSTs events to one URL."""

    def __init__(self, config: WebhookConfig) -> None:
        self._config = config

    def notify(self, event: CaseEvent) -> None:
        if self._config.actions is not None and event.action not in self._config.actions:
            return
        body = json.dumps(event.as_json(), ensure_ascii=False).encode()
        request = urllib.request.Request(
            self._config.url.get_secret_value(), data=body, method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Gridhub-Event": event.action,
                "X-Gridhub-Delivery": str(event.id),
                "X-Gridhub-Signature": signature(self._config.secret.get_secret_value(), body),
            },
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self._config.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"webhook answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NotifyError(f"webhook unreachable: {getattr(exc, 'reason', exc)}") from None
        if not 200 <= status < 300:
            raise NotifyError(f"webhook answered {status}")


class WebhookPlugin:
    kind = KIND
    settings = WebhookConfig

    def build(self, spec: NotifierSpec, context: NotifierContext) -> WebhookNotifier:
        config = plugin_settings(WebhookConfig, spec.model_dump(), where="")
        if not config.url.get_secret_value().startswith(("http://", "https://")):
            raise ConfigError("url: must start with http:// or https://")
        return WebhookNotifier(config)


plugin = WebhookPlugin()

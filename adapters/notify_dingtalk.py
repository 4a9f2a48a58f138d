"""钉钉 (DingTalk) robot with a signed URL: markdown messages, snapshot inline, @mentions.

Signing (加签): ``timestamp`` is the time in milliseconds and ``sign`` is the
URL-encoded base64 of HMAC-SHA256 over ``f"{timestamp}\\n{secret}"`` keyed with
the secret; both go on the webhook URL's query string. A robot may send 20
messages a minute; past that DingTalk answers errcode 130101 (send too fast) or
410100 and blocks the robot for 10 minutes, so the robot waits 10 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

from pydantic import Field, SecretStr

from adapters.robot import (
    Answer,
    RobotConfig,
    RobotNotifier,
    check_answer,
    markdown_lines,
    parse_config,
    refused,
)
from hub.config import NotifierSpec
from hub.seams import Message, NotifierContext

KIND = "dingtalk"
RATE_LIMITED = frozenset({130101, 410100})
BLOCK_S = 600.0


class DingTalkConfig(RobotConfig):
    """A DingTalk robot's settings: the 加签 secret besides the common ones."""

    secret: SecretStr = Field(description="The robot's signing secret (SEC…).")


def sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded `sign` query value for `timestamp_ms`."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return quote_plus(base64.b64encode(digest.digest()))


class DingTalkRobot(RobotNotifier):
    """One DingTalk group robot."""

    config: DingTalkConfig

    def target_url(self) -> str:
        url = self.config.url.get_secret_value()
        timestamp = int(self.clock.now().timestamp() * 1000)
        signature = sign(self.config.secret.get_secret_value(), timestamp)
        return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={signature}"

    def payload(self, message: Message) -> dict[str, Any]:
        mobiles = [m for m in message.mentions if m.lstrip("+").isdigit()]
        lines = markdown_lines(message)
        if message.image_url:
            lines.append(f"![snapshot]({message.image_url})")
        if message.mentions:
            lines.append(" ".join(f"@{m}" for m in message.mentions))
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": "\n\n".join(lines)},
            "at": {"atMobiles": mobiles,
                   "atUserIds": [m for m in message.mentions if m not in mobiles],
                   "isAtAll": False},
        }  # fmt: skip

    def result(self, answer: Answer) -> None:
        code = check_answer(answer, "errcode")
        if code in RATE_LIMITED:
            raise self.rate_limited(f"errcode {code}: send too fast, blocked 10 min", BLOCK_S)
        if code != 0:
            raise refused(f"errcode {code}: {answer.body and answer.body.get('errmsg')}")


class DingTalkPlugin:
    kind = KIND
    settings = DingTalkConfig

    def build(self, spec: NotifierSpec, context: NotifierContext) -> DingTalkRobot:
        return DingTalkRobot(parse_config(DingTalkConfig, spec), context.site, context.clock)


plugin = DingTalkPlugin()

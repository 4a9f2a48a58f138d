"""飞书 / Lark custom bot with the signature in the body: rich-text ``post`` messages.

Signing (签名校验): ``timestamp`` in seconds and ``sign``, the base64 of
HMAC-SHA256 keyed with ``f"{timestamp}\\n{secret}"`` over an empty message, are
fields of the JSON body. A custom bot may send 100 messages a minute and 5 a
second. Feishu answers code 11232 (or HTTP 429, with ``x-ogw-ratelimit-reset``)
when it limits a bot: the bot waits and tries again. Code 9499 (Bad Request) and
19021 (signature mismatch) are final. Custom bots cannot upload pictures, so the
evidence snapshot is a link in the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from pydantic import Field, SecretStr

from adapters.robot import Answer, RobotConfig, RobotNotifier, check_answer, parse_config, refused
from hub.config import NotifierSpec
from hub.errors import NotifyError
from hub.seams import Message, NotifierContext

KIND = "feishu"
RATE_LIMITED = 11232
WAIT_S = 10.0
LOCALES = {"zh": "zh_cn", "en": "en_us"}
SNAPSHOT = {"zh": "现场截图", "en": "Snapshot"}


class FeishuConfig(RobotConfig):
    """A Feishu bot's settings: the signing secret besides the common ones."""

    secret: SecretStr = Field(description="The bot's signature-verification secret.")


def sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuBot(RobotNotifier):
    """One Feishu / Lark custom bot."""

    config: FeishuConfig
    limits = ((100, 60.0), (5, 1.0))

    def payload(self, message: Message) -> dict[str, Any]:
        rows: list[list[dict[str, str]]] = [[{"tag": "text", "text": line}]
                                            for line in message.lines]  # fmt: skip
        if message.link:
            rows.append([{"tag": "a", "text": message.link, "href": message.link}])
        if message.image_url:
            rows.append([{"tag": "a", "text": SNAPSHOT[self.language], "href": message.image_url}])
        if message.mentions:
            rows.append([{"tag": "at", "user_id": m} for m in message.mentions])
        timestamp = int(self.clock.now().timestamp())
        post = {LOCALES[self.language]: {"title": message.title, "content": rows}}
        return {"timestamp": str(timestamp),
                "sign": sign(self.config.secret.get_secret_value(), timestamp),
                "msg_type": "post", "content": {"post": post}}  # fmt: skip

    def result(self, answer: Answer) -> None:
        if answer.status == 429:
            reset = answer.headers.get("x-ogw-ratelimit-reset", "")
            raise self.rate_limited("HTTP 429", float(reset) if reset.isdigit() else WAIT_S)
        body = answer.body or {}
        if "code" not in body and isinstance(body.get("StatusCode"), int):
            body = {**body, "code": body["StatusCode"]}  # answers of older bots
        code = check_answer(Answer(answer.status, answer.headers, body or None), "code")
        if code == RATE_LIMITED:
            raise self.rate_limited("code 11232: frequency limited", WAIT_S)
        if code != 0:
            raise refused(f"code {code}: {body.get('msg')}")
        if answer.status != 200:
            raise NotifyError(f"answered HTTP {answer.status} with code 0", "bad_answer")


class FeishuPlugin:
    kind = KIND
    settings = FeishuConfig

    def build(self, spec: NotifierSpec, context: NotifierContext) -> FeishuBot:
        return FeishuBot(parse_config(FeishuConfig, spec), context.site, context.clock)


plugin = FeishuPlugin()

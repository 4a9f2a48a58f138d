"""企业微信 (WeCom) group robot: markdown, news cards and text with @mentions.

The robot's key is in its webhook URL (``…/cgi-bin/webhook/send?key=…``), so the
URL is a secret. A message with people to @mention goes as ``text`` (WeCom @s
user ids and mobile numbers only there); one with an evidence snapshot as a
``news`` card (title, facts, link, picture); any other as ``markdown``. The
platform allows 20 messages a minute per robot and answers errcode 45009 (api
freq out of limit) past it: the robot waits a minute and tries again.
"""

from __future__ import annotations

from typing import Any

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

KIND = "wecom"
RATE_LIMITED = 45009


class WeComRobot(RobotNotifier):
    """One WeCom group robot."""

    def payload(self, message: Message) -> dict[str, Any]:
        if message.mentions:
            mobiles = [m for m in message.mentions if m.lstrip("+").isdigit()]
            return {"msgtype": "text", "text": {
                "content": "\n".join(_plain(message)),
                "mentioned_list": [m for m in message.mentions if m not in mobiles],
                "mentioned_mobile_list": mobiles,
            }}  # fmt: skip
        if message.image_url:
            article = {
                "title": message.title, "description": "\n".join(message.lines),
                "url": message.link or message.image_url, "picurl": message.image_url,
            }  # fmt: skip
            return {"msgtype": "news", "news": {"articles": [article]}}
        return {"msgtype": "markdown", "markdown": {"content": "\n".join(markdown_lines(message))}}

    def result(self, answer: Answer) -> None:
        code = check_answer(answer, "errcode")
        if code == RATE_LIMITED:
            raise self.rate_limited("errcode 45009: api freq out of limit", 60.0)
        if code != 0:
            raise refused(f"errcode {code}: {answer.body and answer.body.get('errmsg')}")


def _plain(message: Message) -> list[str]:
    return [message.title, *message.lines, *([message.link] if message.link else [])]


class WeComPlugin:
    kind = KIND
    settings = RobotConfig

    def build(self, spec: NotifierSpec, context: NotifierContext) -> WeComRobot:
        return WeComRobot(parse_config(RobotConfig, spec), context.site, context.clock)


plugin = WeComPlugin()

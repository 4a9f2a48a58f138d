"""What the chat-robot notifiers share: settings, the rate-limit window, the POST and its answer.

Each robot (WeCom, DingTalk, Feishu) keeps a sliding-window log of its sends and
never sends past its platform's published limits; when a window is full it raises
`NotifyError` with ``outcome="throttled"`` and the wait, so the runner (which owns
the queue: the audit log after the notifier's cursor) waits and tries again
without counting a try. A platform's rate-limit answer does the same with
``rate_limited``, and may block the robot for a while (DingTalk: 10 minutes). A
5xx, an unreachable host or an answer that is not the platform's JSON is a
retried failure; an error code the platform documents as final (a bad signature,
a refused payload) gives the event up at once.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.cases.feed import CaseEvent
from hub.clock import Clock
from hub.config import NotifierSpec, SiteConfig
from hub.errors import ConfigError, NotifyError
from hub.notify.routing import Route
from hub.notify.templates import compose
from hub.plugin_settings import plugin_settings
from hub.seams import Message


class RobotConfig(BaseModel):
    """Settings every chat robot has."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="wecom, dingtalk or feishu")
    name: str | None = Field(default=None, description="Unique name; defaults to the kind.")
    url: SecretStr = Field(description="The robot's webhook URL (it holds the robot's token).")
    language: str = Field(default="zh", pattern="^(zh|en)$", description="zh or en.")
    routes: list[Route] = Field(default_factory=list, description="Which events it is sent.")
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="Per-request timeout.")


Config = TypeVar("Config", bound=RobotConfig)


def parse_config(model: type[Config], spec: NotifierSpec) -> Config:
    """`spec` as `model`, or a `ConfigError` naming the field; the URL must be http(s)."""
    config = plugin_settings(model, spec.model_dump(), where="")
    parts = urlsplit(config.url.get_secret_value())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("url: must be an http:// or https:// URL with a host")
    return config


class RateWindow:
    """Sends allowed per sliding window ((count, seconds) pairs), and a block until a time."""

    def __init__(self, limits: tuple[tuple[int, float], ...], clock: Clock) -> None:
        self._limits = limits
        self._clock = clock
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a send slot now and return 0, or return the seconds until one is free."""
        with self._lock:
            now = self._clock.monotonic()
            wait = max(0.0, self._blocked_until - now)
            horizon = max(seconds for _, seconds in self._limits)
            while self._sent and self._sent[0] <= now - horizon:
                self._sent.popleft()
            for count, seconds in self._limits:
                recent = [t for t in self._sent if t > now - seconds]
                if len(recent) >= count:
                    wait = max(wait, recent[-count] + seconds - now)
            if wait <= 0:
                self._sent.append(now)
            return wait

    def block(self, seconds: float) -> None:
        """The platform refused us: send nothing for `seconds`."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock.monotonic() + seconds)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the platform answered a POST."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None  # None: not a JSON object


def post_json(url: str, payload: dict[str, Any], timeout_s: float) -> Answer:
    """POST `payload` as UTF-8 JSON; a network failure is a retried `NotifyError`."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return Answer(response.status, dict(response.headers), _json(response.read()))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers or {}), _json(exc.read()))
    except (urllib.error.URLError, OSError) as exc:
        raise NotifyError(f"unreachable: {getattr(exc, 'reason', exc)}", "unreachable") from None
    except http.client.HTTPException as exc:  # not HTTP at all: a bad status line, cut short
        raise NotifyError(f"answered garbage: {type(exc).__name__}", "bad_answer") from None


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def check_answer(answer: Answer, code_key: str) -> int:
    """The platform's error code (0: sent); 5xx and non-JSON answers raise retried errors."""
    if answer.status >= 500:
        raise NotifyError(f"answered HTTP {answer.status}", "server_error")
    code = answer.body.get(code_key) if answer.body is not None else None
    if not isinstance(code, int):
        raise NotifyError(f"answered HTTP {answer.status} without a {code_key}", "bad_answer")
    return code


class RobotNotifier:
    """A chat robot: composes case events, keeps to its rate limit, POSTs, reads the answer.

    Subclasses give `payload` (the platform's JSON for a message), `target_url`
    (the URL, signed where the platform wants it) and `result` (the answer read
    as the platform documents it; it raises `NotifyError` for anything but sent).
    """

    limits: tuple[tuple[int, float], ...] = ((20, 60.0),)

    def __init__(self, config: RobotConfig, site: SiteConfig, clock: Clock) -> None:
        self.config = config
        self.language = config.language
        self.site = site
        self.clock = clock
        self.window = RateWindow(self.limits, clock)

    def notify(self, event: CaseEvent) -> None:
        message = compose(event, self.site, self.language)
        if message is not None:
            self.send(message)

    def send(self, message: Message) -> None:
        wait = self.window.reserve()
        if wait > 0:
            raise NotifyError(f"rate limit: next send in {wait:.1f} s", "throttled", wait)
        self.result(post_json(self.target_url(), self.payload(message), self.config.timeout_s))

    def payload(self, message: Message) -> dict[str, Any]:
        raise NotImplementedError

    def target_url(self) -> str:
        return self.config.url.get_secret_value()

    def result(self, answer: Answer) -> None:
        raise NotImplementedError

    def rate_limited(self, why: str, block_s: float) -> NotifyError:
        """The platform refused for sending too fast: block the window, ask for a wait."""
        self.window.block(block_s)
        return NotifyError(why, "rate_limited", block_s)


def refused(why: str) -> NotifyError:
    """An answer no retry can change (a bad signature, a payload the platform refuses)."""
    return NotifyError(why, "rejected", permanent=True)


def markdown_lines(message: Message, bullet: str = "> ") -> list[str]:
    """The message body as markdown: bold title, quoted facts, the link."""
    lines = [f"**{message.title}**", *(f"{bullet}{line}" for line in message.lines)]
    if message.link:
        lines.append(f"[{message.link}]({message.link})")
    return lines


Builder = Callable[[RobotConfig, SiteConfig, Clock], RobotNotifier]

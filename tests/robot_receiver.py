"""A local chat-robot endpoint for tests: checks each platform's signature and payload shape.

One server plays WeCom (``/cgi-bin/webhook/send?key=…``), DingTalk
(``/robot/send?access_token=…&timestamp=…&sign=…``) and Feishu
(``/open-apis/bot/v2/hook/…``). It recomputes every signature from the shared
secret as the platforms document it, compares byte for byte, and refuses a
mismatch the way the platform does. `script` holds answers to give, in order,
before the normal one: ``"500"``, ``"rate"`` (the platform's rate-limit answer),
``"garbage"`` (HTTP 200 with a body that is not JSON), ``"not-http"`` (bytes that
are not an HTTP answer at all).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

from hub.clock import Clock

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "ff6cd723bdb4455fe18ba30dbeff007f5"
DING_SECRET = "SEC7f1d2c3b4a5968778695a4b3c2d1e0f"
FEISHU_HOOK = "2f9a1c6e-aaaa-bbbb-cccc-0123456789ab"
FEISHU_SECRET = "feishu-signing-secret"

RATE_ANSWERS = {
    "wecom": {"errcode": 45009, "errmsg": "api freq out of limit"},
    "dingtalk": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    "feishu": {"code": 11232, "msg": "frequency limited", "data": {}},
}
OK_ANSWERS = {
    "wecom": {"errcode": 0, "errmsg": "ok"},
    "dingtalk": {"errcode": 0, "errmsg": "ok"},
    "feishu": {"code": 0, "msg": "success", "data": {}},
}


@dataclass(frozen=True)
class Received:
    """One request: the platform, the fake-clock time, the JSON body, what was answered."""

    platform: str
    at: float
    body: dict[str, Any]
    answer: str  # ok, 500, rate, garbage, refused


class RobotReceiver(ThreadingHTTPServer):
    def __init__(self, clock: Clock) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.clock = clock
        self.script: list[str] = []
        self.received: list[Received] = []
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def delivered(self, platform: str | None = None) -> list[dict[str, Any]]:
        """Bodies answered with success, in order."""
        return [r.body for r in self.received
                if r.answer == "ok" and platform in (None, r.platform)]  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: RobotReceiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        body = json.loads(raw)
        platform, problem = _check(url.path, url.query, query, body)
        with self.server.lock:
            cue = self.server.script.pop(0) if self.server.script and not problem else "ok"
            answer = "refused" if problem else cue
            self.server.received.append(Received(platform, self.server.clock.monotonic(), body,
                                                 answer))  # fmt: skip
        if answer == "not-http":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.6 garbage\r\n\r\n")
            self.close_connection = True
        elif answer == "500":
            self._answer(500, b"upstream error")
        elif answer == "garbage":
            self._answer(200, b"<html>gateway says hi</html>")
        elif answer == "rate":
            self._answer(200, json.dumps(RATE_ANSWERS[platform]).encode())
        elif problem:
            self._answer(200, json.dumps(problem).encode())
        else:
            self._answer(200, json.dumps(OK_ANSWERS[platform]).encode())

    def _answer(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def _check(
    path: str, raw_query: str, query: dict[str, list[str]], body: dict[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    """(platform, None) when signature and shape are right, else the platform's refusal."""
    if path == "/cgi-bin/webhook/send":
        ok = query.get("key") == [WECOM_KEY] and _wecom_shape(body)
        return "wecom", None if ok else {"errcode": 93000, "errmsg": "invalid webhook url"}
    if path == "/robot/send":
        ok = _dingtalk_signed(raw_query, query) and _dingtalk_shape(body)
        return "dingtalk", None if ok else {"errcode": 310000, "errmsg": "sign not match"}
    if path == f"/open-apis/bot/v2/hook/{FEISHU_HOOK}":
        if not _feishu_signed(body):
            return "feishu", {"code": 19021, "msg": "sign match fail", "data": {}}
        return "feishu", None if _feishu_shape(body) else {"code": 9499, "msg": "Bad Request"}
    raise AssertionError(f"unexpected path {path}")


def _wecom_shape(body: dict[str, Any]) -> bool:
    kind = str(body.get("msgtype"))
    keys = {"text": {"content", "mentioned_list", "mentioned_mobile_list"},
            "markdown": {"content"}, "news": {"articles"}}  # fmt: skip
    return set(body) == {"msgtype", kind} and set(body[kind]) == keys.get(kind)


def _dingtalk_signed(raw_query: str, query: dict[str, list[str]]) -> bool:
    timestamp = query.get("timestamp", [""])[0]
    mac = hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256)
    expected = quote_plus(base64.b64encode(mac.digest()))
    return (
        query.get("access_token") == [DING_TOKEN]
        and len(timestamp) == 13
        and raw_query.endswith(f"&timestamp={timestamp}&sign={expected}")
    )


def _dingtalk_shape(body: dict[str, Any]) -> bool:
    return (
        set(body) == {"msgtype", "markdown", "at"}
        and body["msgtype"] == "markdown"
        and set(body["markdown"]) == {"title", "text"}
        and set(body["at"]) == {"atMobiles", "atUserIds", "isAtAll"}
    )


def _feishu_signed(body: dict[str, Any]) -> bool:
    timestamp = str(body.get("timestamp", ""))
    key = f"{timestamp}\n{FEISHU_SECRET}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return len(timestamp) == 10 and body.get("sign") == expected


def _feishu_shape(body: dict[str, Any]) -> bool:
    post = body.get("content", {}).get("post", {})
    return (
        set(body) == {"timestamp", "sign", "msg_type", "content"}
        and body["msg_type"] == "post"
        and len(post) == 1
        and all(set(p) == {"title", "content"} for p in post.values())
    )


@contextmanager
def robot_receiver(clock: Clock) -> Iterator[RobotReceiver]:
    server = RobotReceiver(clock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def robot_specs(base: str) -> list[dict[str, Any]]:
    """Site-file notifier entries for the three robots at `base`."""
    return [
        {"kind": "wecom", "name": "wecom-qh",
         "url": f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}"},
        {"kind": "dingtalk", "name": "ding-qh", "secret": DING_SECRET,
         "url": f"{base}/robot/send?access_token={DING_TOKEN}"},
        {"kind": "feishu", "name": "feishu-qh", "secret": FEISHU_SECRET, "language": "en",
         "url": f"{base}/open-apis/bot/v2/hook/{FEISHU_HOOK}"},
    ]  # fmt: skip

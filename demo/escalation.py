"""The demo's escalation story: a reported case nobody accepts, and the robot that is told.

`RobotInbox` stands in for a 企业微信 group on a loopback port: it answers as
WeCom does and logs every message it gets, so the demo's output shows what the
group would read. `with_demo_robot` adds to the demo site a WeCom robot notifier
pointing at it and the escalation contacts of 清河二网格 (its grid leader) and
清河社区 (the community), and gives hand-reported cases a one-minute accept
deadline. `UnacceptedCase` reports one case by hand (a resident's call) that the
simulated duty operator leaves alone, as it leaves every hand-reported case: it
misses its accept deadline, the SLA monitor raises it to the grid leader's rung,
and the grid leader's robot is messaged, @mentioning them.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hub.cases.store import NewCase, open_case
from hub.config import Contact, NotifierSpec, NotifySettings, SiteConfig
from hub.hub import Hub

log = logging.getLogger("gridhub")

CALL = NewCase(kind="manual", title="群众来电：2号楼楼道堆放杂物", severity=2, grid_id="WT-QH-02",
               lat=30.2772, lon=120.1469, details={"reported_by": "demo"})  # fmt: skip
ROBOT = "demo-wecom"  # the notifier the inbox stands in for
ACCEPT_S = 60.0  # a hand-reported case's accept deadline in the demo
CONTACTS = (
    Contact(name="李秀英", role="网格长", grid="WT-QH-02", rung="grid_leader", notifier=ROBOT,
            target="13800000002"),
    Contact(name="刘书记", role="社区书记", grid="WT-QH", rung="community", notifier=ROBOT,
            target="13800000001"),
)  # fmt: skip


def with_demo_robot(site: SiteConfig, robot_url: str, public_url: str) -> SiteConfig:
    """`site` plus the demo's robot and contacts, when it has the demo's grids."""
    grids = {g.id for g in site.grids}
    if not {c.grid for c in CONTACTS} <= grids:
        return site
    robot = NotifierSpec.model_validate({
        "kind": "wecom", "name": ROBOT, "url": robot_url,
        "routes": [{"events": ["escalated"]}],  # the group hears of hand escalations only
    })  # fmt: skip
    manual = site.scenario("manual").model_copy(update={"accept_s": ACCEPT_S})
    notify = NotifySettings(public_url=public_url, contacts=list(CONTACTS))
    return site.model_copy(update={
        "notifiers": [*site.notifiers, robot], "notify": notify,
        "scenarios": {**site.scenarios, "manual": manual},
    })  # fmt: skip


class RobotInbox:
    """A loopback WeCom robot endpoint that logs what it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))

    @property
    def url(self) -> str:
        """The robot webhook URL to configure (WeCom's path, a made-up key)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/cgi-bin/webhook/send?key=demo"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, name="robot-inbox",
                         daemon=True).start()  # fmt: skip
        log.info("demo robot inbox (the 企业微信 group of %s) at %s", ROBOT, self.url)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def got(self, body: dict[str, Any]) -> None:
        self.received.append(body)
        kind = str(body.get("msgtype"))
        content = body.get(kind, {})
        text = content.get("content") if isinstance(content, dict) else None
        log.info("demo robot inbox got a %s message:\n%s", kind, text or json.dumps(body))


def _handler(inbox: RobotInbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                inbox.got(json.loads(raw))
                answer = {"errcode": 0, "errmsg": "ok"}
            except ValueError:
                answer = {"errcode": 40008, "errmsg": "invalid message type"}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class UnacceptedCase:
    """Reports the demo's hand-reported case once, at start, if the grid exists."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.case_id: int | None = None

    def start(self) -> None:
        hub = self._hub
        if CALL.grid_id not in {g.id for g in hub.site.grids}:
            return
        accept_s = hub.site.deadlines(CALL.kind, CALL.grid_id)[0]
        with hub.pool.connection() as conn:
            self.case_id = open_case(conn, CALL, hub.clock.now(), "demo-resident-call", accept_s)
        log.info("demo: case %d (%s) reported by hand; nobody accepts it within %.0f s, so "
                 "the grid leader's robot is told", self.case_id, CALL.title, accept_s)  # fmt: skip

    def stop(self) -> None:
        pass

"""The demo's escalation story on a real hub: the unaccepted call reaches the leader's robot."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from demo.escalation import ACCEPT_S, RobotInbox, UnacceptedCase, with_demo_robot
from hub.clock import FakeClock
from hub.config import load_site
from tests.conftest import HubFactory, wait_until, write_site


def test_the_unaccepted_call_messages_the_grid_leader(
    hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    inbox = RobotInbox()
    inbox.start()
    try:
        site = with_demo_robot(load_site(write_site(tmp_path, demo_raw)), inbox.url,
                               "http://127.0.0.1:8080")  # fmt: skip
        clock = FakeClock()
        hub = hub_factory(clock=clock, raw=site.model_dump(mode="python"))
        call = UnacceptedCase(hub)
        with caplog.at_level(logging.INFO, logger="gridhub"):
            call.start()
            clock.advance(ACCEPT_S + 1)
            wait_until(lambda: inbox.received, timeout=15)
        (body,) = inbox.received
        assert body["msgtype"] == "text"
        assert body["text"]["mentioned_mobile_list"] == ["13800000002"]
        assert "李秀英 (网格长)" in body["text"]["content"]
        assert "梧桐街道 / 清河社区 / 清河二网格" in body["text"]["content"]
        assert "demo robot inbox got a text message" in caplog.text

        def note() -> Any:
            with hub.pool.connection() as conn:
                return conn.execute("SELECT note FROM case_events WHERE case_id = %s AND"
                                    " action = 'notify'", (call.case_id,)).fetchone()  # fmt: skip

        # The audit line is written after the robot answered: wait for its commit.
        wait_until(lambda: note() is not None, timeout=15)
        assert "via demo-wecom: delivered" in note()[0]
    finally:
        inbox.stop()

"""Chat robots against a local receiver that checks signatures and payloads, on real PostgreSQL.

Time is a `FakeClock`: the runners wait (backoff, rate limits) by moving it, so a
DingTalk ten-minute block takes no real time, and the receiver stamps each request
with it so the tests can check the sliding windows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from psycopg_pool import ConnectionPool

from hub.cases.feed import CaseEvent
from hub.cases.sla import SlaMonitor
from hub.cases.store import NewCase, open_case
from hub.cli import main
from hub.clock import FakeClock
from hub.config import NotifierSpec, SiteConfig, load_site
from hub.errors import ConfigError
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink
from hub.notify.escalation import EscalationMessenger, escalation_parts
from hub.notify.routing import Routing
from hub.notify.runner import NotifierRunner, build_runners
from hub.plugins import load_registry
from hub.seams import NotifierContext
from hub.storage.db import open_pool
from hub.storage.site_repo import sync_site
from tests.conftest import DEMO_CONFIG, write_site
from tests.robot_receiver import RobotReceiver, robot_receiver, robot_specs

LEADER_MOBILE = "13800000002"


@dataclass
class World:
    clock: FakeClock
    receiver: RobotReceiver
    site: SiteConfig
    pool: ConnectionPool
    metrics: HubMetrics
    raw: dict[str, Any]  # the site file it was loaded from

    def runners(self) -> dict[str, NotifierRunner]:
        """Fresh runners (as after a restart), waiting on the fake clock."""
        registry = load_registry(["gridhub.notifiers"])
        context = NotifierContext(self.site, MqttLink("mqtt://127.0.0.1:1", "unused"), self.clock)
        runners = build_runners(self.site, registry, context, self.pool, self.metrics)
        for runner in runners:
            runner.pause = self.fake_pause
            runner.claim_cursor()
        return {r.name: r for r in runners}

    def fake_pause(self, seconds: float) -> bool:
        self.clock.advance(seconds)
        return False

    def open_cases(self, n: int, kind: str = "fire_lane", grid: str = "WT-QH-02") -> list[int]:
        with self.pool.connection() as conn:
            return [open_case(conn, NewCase(kind, f"消防通道占用 {i}", 2, grid,
                                            camera_id="cam-qh-lane"), self.clock.now(), "test",
                              300) for i in range(n)]  # fmt: skip

    def counted(self, notifier: str, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "gridhub_notifications_total", {"notifier": notifier, "outcome": outcome}
        )
        return value or 0.0


@pytest.fixture
def world(migrated_db: str, tmp_path: Any, demo_raw: dict[str, Any]) -> Iterator[World]:
    clock = FakeClock()
    with robot_receiver(clock) as receiver:
        demo_raw["notifiers"] = robot_specs(receiver.base)
        demo_raw["notify"] = {"public_url": "https://hub.example.gov.cn", "contacts": [
            {"name": "张建国", "role": "网格长", "grid": "WT-QH-02", "rung": "grid_leader",
             "notifier": "wecom-qh", "target": LEADER_MOBILE},
            {"name": "刘书记", "role": "社区书记", "grid": "WT-QH", "rung": "community",
             "notifier": "ding-qh", "target": "13800000003"},
        ]}  # fmt: skip
        site = load_site(write_site(tmp_path, demo_raw))
        pool = open_pool(migrated_db, 4)
        with pool.connection() as conn:
            sync_site(conn, site)
        try:
            yield World(clock, receiver, site, pool, HubMetrics(), demo_raw)
        finally:
            pool.close()


def _case_ids(bodies: list[dict[str, Any]]) -> list[int]:
    """The case number each delivered message names (its "#N" fact)."""
    found = []
    for body in bodies:
        text = str(body)
        start = text.index("#") + 1
        end = start
        while text[end].isdigit():
            end += 1
        found.append(int(text[start:end]))
    return found


def _most_in_window(times: list[float], seconds: float) -> int:
    return max(sum(1 for u in times if t <= u < t + seconds) for t in times)


@pytest.mark.parametrize(("name", "limits"), [
    ("wecom-qh", [(20, 60.0)]), ("ding-qh", [(20, 60.0)]), ("feishu-qh", [(100, 60.0), (5, 1.0)]),
])  # fmt: skip
def test_every_event_once_and_the_window_holds(
    world: World, name: str, limits: list[tuple[int, float]]
) -> None:
    runner = world.runners()[name]
    cases = world.open_cases(45)
    assert runner.deliver_pending() == 45
    platform = runner.notifier.__class__.__module__.split("_")[-1]
    assert _case_ids(world.receiver.delivered(platform)) == cases  # once each, in order
    times = [r.at for r in world.receiver.received]
    for count, seconds in limits:
        assert _most_in_window(times, seconds) <= count
    assert world.counted(name, "throttled") > 0
    assert world.counted(name, "delivered") == 45


def test_5xx_rate_limit_and_garbage_are_retried_and_counted(world: World) -> None:
    runner = world.runners()["ding-qh"]
    cases = world.open_cases(3)
    world.receiver.script = ["500", "rate", "garbage", "not-http", "ok", "500"]
    start = world.clock.monotonic()
    assert runner.deliver_pending() == 3
    assert _case_ids(world.receiver.delivered()) == cases
    assert world.clock.monotonic() - start >= 600  # DingTalk blocks the robot for 10 minutes
    for outcome in ("server_error", "rate_limited", "bad_answer"):
        assert world.counted("ding-qh", outcome) >= 1
    assert world.counted("ding-qh", "bad_answer") == 2
    assert world.counted("ding-qh", "failed") == 0


def test_a_receiver_that_always_fails_is_given_up_and_the_runner_goes_on(world: World) -> None:
    runner = world.runners()["wecom-qh"]
    cases = world.open_cases(2)
    world.receiver.script = ["garbage"] * 5  # the first event's try and its four retries
    assert runner.deliver_pending() == 1
    assert _case_ids(world.receiver.delivered()) == cases[1:]
    assert world.counted("wecom-qh", "bad_answer") == 5
    assert world.counted("wecom-qh", "failed") == 1


def test_a_restart_mid_stream_loses_and_doubles_nothing(world: World) -> None:
    first = world.runners()["feishu-qh"]
    cases = world.open_cases(8)
    world.receiver.script = ["ok"] * 3 + ["500"]
    stop_at_backoff = first.pause

    def stop(seconds: float) -> bool:  # the hub stops while event 4 waits for its retry
        stop_at_backoff(seconds)
        return True

    first.pause = stop
    assert first.deliver_pending() == 3
    restarted = world.runners()["feishu-qh"]
    assert restarted.deliver_pending() == 5
    assert _case_ids(world.receiver.delivered()) == cases


def test_routing_sends_only_the_matching_events(world: World) -> None:
    wecom = world.site.notifiers[0].model_dump() | {"routes": [{"grids": ["WT-QH"]}]}
    world.site = world.site.model_copy(update={"notifiers": [NotifierSpec.model_validate(wecom)]})
    runner = world.runners()["wecom-qh"]
    world.open_cases(1, grid="WT-LS-01")  # outside the group's subtree (柳树社区)
    inside = world.open_cases(1, grid="WT-QH-02")
    runner.deliver_pending()
    assert _case_ids(world.receiver.delivered()) == inside
    assert world.counted("wecom-qh", "skipped") == 1


def test_a_missed_accept_deadline_messages_the_grid_leader(world: World) -> None:
    runners = world.runners()
    (messenger,) = escalation_parts(world.site, list(runners.values()), world.pool,
                                    world.metrics, world.clock)  # fmt: skip
    assert isinstance(messenger, EscalationMessenger)
    messenger.pause = world.fake_pause
    messenger.claim_cursor()
    (case_id,) = world.open_cases(1)
    world.clock.advance(301)
    assert SlaMonitor(world.pool, world.site, world.metrics, world.clock).check_once() == 1
    assert messenger.deliver_pending() == 1
    (body,) = world.receiver.delivered("wecom")
    assert body["msgtype"] == "text"
    assert body["text"]["mentioned_mobile_list"] == [LEADER_MOBILE]
    assert "【超时未处置】" in body["text"]["content"]
    assert "梧桐街道" in body["text"]["content"] and "张建国 (网格长)" in body["text"]["content"]
    assert f"https://hub.example.gov.cn/?case={case_id}" in body["text"]["content"]
    with world.pool.connection() as conn:
        notes = conn.execute("SELECT actor, note FROM case_events WHERE case_id = %s"
                             " AND action = 'notify'", (case_id,)).fetchall()  # fmt: skip
    assert notes == [("notifier:wecom-qh", notes[0][1])]
    assert "张建国 (网格长) via wecom-qh: delivered" in notes[0][1]
    world.clock.advance(360)  # the next rung: the community
    assert SlaMonitor(world.pool, world.site, world.metrics, world.clock).check_once() == 1
    restarted = EscalationMessenger(world.pool, world.site, messenger._robots, world.metrics,
                                    world.clock)  # fmt: skip
    restarted.pause = world.fake_pause
    assert restarted.deliver_pending() == 1  # the community's message, and the first not again
    assert len(world.receiver.delivered("wecom")) == 1
    (ding,) = world.receiver.delivered("dingtalk")
    assert ding["at"]["atMobiles"] == ["13800000003"]


def test_the_english_feishu_message_links_the_snapshot(world: World) -> None:
    runner = world.runners()["feishu-qh"]
    (case_id,) = world.open_cases(1)
    runner.deliver_pending()
    (body,) = world.receiver.delivered("feishu")
    post = body["content"]["post"]["en_us"]
    assert post["title"] == "[New case] fire lane"
    links = [cell["href"] for row in post["content"] for cell in row if cell["tag"] == "a"]
    assert f"https://hub.example.gov.cn/api/cases/{case_id}/evidence/0" in links


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"kind": "dingtalk", "secret": None},
            r"notifiers\[1\] \(dingtalk\): secret: Field required",
        ),
        ({"kind": "feishu", "url": "ftp://x/hook"}, r"notifiers\[2\] \(feishu\): url: must be an"),
        ({"kind": "wecom", "url": "https:///no-host"}, r"notifiers\[0\] \(wecom\): url: must be"),
        ({"kind": "wecom", "language": "fr"}, r"language: String should match"),
        ({"kind": "wecom", "routes": [{"events": ["lunch"]}]}, r"routes\[0\]\.events.*'lunch'"),
        ({"kind": "wecom", "routes": [{"hours": "22-30"}]}, r"routes\[0\]\.hours"),
        ({"kind": "wechat"}, r"notifiers\[0\]\.kind: no gridhub.notifiers plugin named 'wechat'"),
    ],
)
def test_bad_robot_settings_name_the_field(
    world: World, change: dict[str, Any], message: str
) -> None:
    specs = [spec.model_dump() for spec in world.site.notifiers]
    index = {"wecom": 0, "wechat": 0, "dingtalk": 1, "feishu": 2}[change["kind"]]
    specs[index] = {k: v for k, v in (specs[index] | change).items() if v is not None}
    world.site = world.site.model_copy(
        update={"notifiers": [NotifierSpec.model_validate(s) for s in specs]}
    )
    with pytest.raises(ConfigError, match=message):
        world.runners()


def test_a_contact_naming_an_unknown_notifier_stops_the_site(
    tmp_path: Any, demo_raw: dict[str, Any]
) -> None:
    demo_raw["notify"] = {"contacts": [{"name": "张建国", "role": "网格长", "grid": "WT-QH-02",
                                        "rung": "grid_boss", "notifier": "nobody"}]}  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_site(write_site(tmp_path, demo_raw))
    assert "notify.contacts[0].rung: 'grid_boss' is not in sla.escalation" in str(caught.value)
    assert "notify.contacts[0].notifier: no notifier named 'nobody'" in str(caught.value)


def _event(at_hour: int, grid: str, severity: int = 2, action: str = "report") -> CaseEvent:
    at = datetime(2026, 1, 1, at_hour, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    title = "消防通道占用"
    return CaseEvent(1, 1, at, "system", action, None, "reported", None, "fire_lane", title,
                     severity, grid)  # fmt: skip


@pytest.mark.parametrize(
    ("route", "event", "wanted"),
    [
        ({}, _event(10, "WT-QH-02"), True),
        ({}, _event(10, "WT-QH-02", action="comment"), False),  # no template: never to a robot
        ({"hours": "22-6"}, _event(23, "WT-QH-02"), True),
        ({"hours": "22-6"}, _event(5, "WT-QH-02"), True),
        ({"hours": "22-6"}, _event(6, "WT-QH-02"), False),
        ({"hours": "8-18"}, _event(12, "WT-QH-02"), True),
        ({"grids": ["WT-QH"]}, _event(10, "WT-QH-01-A"), True),  # a micro-grid below 清河社区
        ({"grids": ["WT-QH"]}, _event(10, "WT-LS-01"), False),
        ({"min_severity": 3}, _event(10, "WT-QH-02", severity=2), False),
        ({"scenarios": ["thrown_object"]}, _event(10, "WT-QH-02"), False),
        ({"events": ["sla_missed"]}, _event(10, "WT-QH-02", action="sla_escalate"), True),
        ({"events": ["sla_missed"]}, _event(10, "WT-QH-02"), False),
    ],
)
def test_routing_rules(route: dict[str, Any], event: CaseEvent, wanted: bool) -> None:
    site = load_site(DEMO_CONFIG)
    spec = NotifierSpec.model_validate({"kind": "wecom", "routes": [route]})
    assert Routing.of(spec, site).wants(event) is wanted


def test_dry_run_shows_what_a_case_would_send_to_whom(
    world: World, tmp_path: Any, migrated_db: str, mqtt_url: str, capsys: Any
) -> None:
    raw = world.raw
    raw["notifiers"][0]["routes"] = [{"events": ["sla_missed"]}]
    raw["database"] = {"url": migrated_db}
    raw["mqtt"] = {"url": mqtt_url}
    (case_id,) = world.open_cases(1)
    world.clock.advance(301)
    SlaMonitor(world.pool, world.site, world.metrics, world.clock).check_once()
    config = write_site(tmp_path, raw, "dry-run.yaml")
    assert main(["notify", "dry-run", "--config", str(config), "--case", str(case_id)]) == 0
    out = capsys.readouterr().out
    assert "report → reported" in out and "sla_escalate → reported" in out
    assert "wecom-qh: not routed" in out  # the opening: this group hears only of missed SLAs
    assert "wecom-qh: 【超时未处置】消防通道占用 0" in out
    assert "feishu-qh: [New case] fire lane" in out
    assert f"escalation to grid_leader: 张建国 (网格长) via wecom-qh @{LEADER_MOBILE}" in out
    assert world.receiver.received == []  # a dry run sends nothing

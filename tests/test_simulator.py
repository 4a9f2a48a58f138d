"""Simulated patrols: their behaviour step by step, and against a running hub."""

from __future__ import annotations

import json
import threading

from shapely.geometry import Point

from demo.patrols import PatrolSimulator, SimSettings
from hub.cases.store import get_case
from hub.config import load_site
from tests.conftest import DEMO_CONFIG, HubFactory, wait_until
from tests.test_dispatch import _accepted_case


def _topics(messages: list[tuple[str, bytes]]) -> list[str]:
    return [topic for topic, _ in messages]


def test_patrols_report_in_their_own_format() -> None:
    sim = PatrolSimulator(load_site(DEMO_CONFIG), seed=1)
    assert len(sim.patrols) == 10
    assert _topics(sim.start_messages())[0] == "gridhub/patrols/P01/status"
    topics = _topics(sim.step(now=0.0, dt=0.2))
    assert "gridhub/patrols/P01/location" in topics
    assert "owntracks/wg07/phone" in topics  # P07 reports through OwnTracks
    assert sim.step(now=1.0, dt=0.2) == []  # next report after report_every_s
    for p in sim.patrols.values():  # walking stays inside the home grid
        for _ in range(50):
            sim.step(now=2.0, dt=5.0)
        assert p.area.buffer(1e-6).contains(Point(p.lon, p.lat))


def test_dispatch_is_accepted_reached_and_resolved() -> None:
    settings = SimSettings(report_every_s=1000, accept_after_s=2, handle_for_s=10, respond_mps=5)
    sim = PatrolSimulator(load_site(DEMO_CONFIG), count=1, settings=settings)
    patrol = sim.patrols["P01"]
    target = {"lat": patrol.lat + 0.0005, "lon": patrol.lon}  # ~55 m north
    sim.on_dispatch("P01", {"dispatch_id": 7, "location": target}, now=0.0)
    replies: list[tuple[float, str]] = []
    t = 0.0
    sim.step(t, 0.5)
    while t < 60:
        t += 0.5
        for topic, payload in sim.step(t, 0.5):
            if topic.endswith("/reply"):
                replies.append((t, json.loads(payload)["action"]))
    assert [a for _, a in replies] == ["accept", "arrive", "resolve"]
    accept, arrive, resolve = (t for t, _ in replies)
    assert accept == 2.0
    assert 7 <= arrive - accept <= 10  # ~55 m at 5 m/s, less the 15 m arrival circle
    assert resolve - arrive == 10
    sim.on_dispatch("P01", {"dispatch_id": 8, "location": target}, now=t)
    assert sim.patrols["P01"].phase == "accepting"  # free again after resolving


def _replies(sim: PatrolSimulator, until: float) -> list[tuple[float, str, str]]:
    """(time, patrol, action) of every reply sent while stepping from 0 to `until`."""
    replies, t = [], 0.0
    while t < until:
        t += 0.5
        for topic, payload in sim.step(t, 0.5):
            if topic.endswith("/reply"):
                replies.append((t, topic.split("/")[2], json.loads(payload)["action"]))
    return replies


def test_a_restarted_simulator_takes_up_the_dispatches_its_patrols_held() -> None:
    settings = SimSettings(report_every_s=1000, handle_for_s=10, respond_mps=5)
    sim = PatrolSimulator(load_site(DEMO_CONFIG), count=3, settings=settings)
    p01, p02 = sim.patrols["P01"], sim.patrols["P02"]
    north_of_p01 = {"lat": p01.lat + 0.0005, "lon": p01.lon}  # ~55 m
    site = {"lat": 30.2726, "lon": 120.1427}
    sim.resume("P01", {"dispatch_id": 7, "location": north_of_p01}, "accepted", now=0.0)
    sim.resume("P02", {"dispatch_id": 8, "location": site}, "arrived", now=0.0)
    sim.resume("P03", {"dispatch_id": 9, "location": site}, "resolved", now=0.0)  # over
    assert (p02.lat, p02.lon) == (site["lat"], site["lon"])  # it was there already
    assert sim.patrols["P03"].phase == "patrolling"
    replies = _replies(sim, until=30.0)
    assert [(p, a) for _, p, a in replies if p == "P01"] == [("P01", "arrive"), ("P01", "resolve")]
    assert [(t, p, a) for t, p, a in replies if p == "P02"] == [(10.0, "P02", "resolve")]
    assert not [r for r in replies if r[1] == "P03"]
    assert all(sim.patrols[p].phase == "patrolling" for p in ("P01", "P02", "P03"))


def test_simulated_patrols_work_a_case_through_a_running_hub(
    hub_factory: HubFactory, mqtt_url: str
) -> None:
    hub = hub_factory()
    settings = SimSettings(report_every_s=0.5, accept_after_s=0.2, handle_for_s=0.5,
                           respond_mps=10_000)  # fmt: skip
    sim = PatrolSimulator(hub.site, settings=settings)
    thread = threading.Thread(target=sim.run, args=(mqtt_url, 60, 0.1))
    thread.start()
    try:
        wait_until(lambda: hub.patrols.available("P01") and hub.patrols.available("P07"))
        case_id = _accepted_case(hub)
        outcome = hub.dispatcher.dispatch(case_id)
        assert outcome.patrol_id in {"P01", "P07"}  # both patrol 清河一网格

        def resolved() -> bool:
            with hub.pool.connection() as conn:
                return get_case(conn, case_id).state == "resolved"

        wait_until(resolved, timeout=15)
        assert [d.state for d in hub.dispatcher.dispatches_for(case_id)] == ["resolved"]
    finally:
        sim.stop()
        thread.join()

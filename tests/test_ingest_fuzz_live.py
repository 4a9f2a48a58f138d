"""Fuzzed device traffic through the real Mosquitto into a real hub: it keeps working.

A few hundred hypothesis-generated messages — good ones, and ones that are bad by
construction (unknown or disabled patrols and sensors, payloads made not UTF-8,
oversized, too deep, of the wrong shape, with a field out of range or missing,
from the future, replies to dispatches that are not the sender's) — are
published on the hub's topics while three real dispatches are answered. Then:
the hub is connected and healthy, its handlers never failed, every good fix is
stored, the good replies moved their dispatches to resolved, and for each
channel the rejections counted equal the bad messages sent. The broker is a
private Mosquitto, so no other test's messages blur the counts.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hub.api.app import create_app
from hub.cases.store import NewCase, open_case
from hub.cases.workflow import CaseAction, apply
from hub.hub import Hub
from hub.patrols.payloads import MAX_PAYLOAD_BYTES
from tests import fuzz_strategies as fz
from tests.conftest import (
    PATROL_POSITIONS,
    REPO,
    Device,
    HubFactory,
    _unavailable,
    free_port,
    wait_until,
)

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres, pytest.mark.slow, fz.HUB_THREADS_USE_RANDOM]

BATCHES, BATCH_SIZE = 4, 80
SENSORS = {"SMK-QH-3-12": "smoke", "WL-LS-UG1": "water_level", "MH-WT-017": "manhole_cover"}
ENABLED = ["P01", "P02", "P07", "P09"]
NAME = st.text(st.characters(categories=("L", "N")) | st.sampled_from("-_.:@"), max_size=10)


class Sent:
    """One generated message and what the hub must do with it (not a dataclass: hypothesis
    prints dataclasses field by field, and some payloads are hundreds of kB)."""

    __slots__ = ("channel", "good", "payload", "topic", "answers")

    def __init__(
        self, channel: str, topic: str, payload: bytes, good: bool, answers: str | None = None
    ) -> None:
        self.channel = channel  # location, owntracks, status, sensor, reply
        self.topic = topic
        self.payload = payload
        self.good = good
        self.answers = answers  # a reply to this patrol's dispatch (known once made)

    def body(self, dispatches: dict[str, int]) -> bytes:
        if self.answers is None:
            return self.payload
        action = self.payload.decode()
        return fz.encode({"dispatch_id": dispatches[self.answers], "action": action})

    def __repr__(self) -> str:
        kind = "good" if self.good else "bad"
        return f"Sent({kind} {self.topic!r} {self.payload[:80]!r} ({len(self.payload)} B))"


# ---- bad by construction -------------------------------------------------------------


def _not_utf8(payload: bytes) -> bytes:
    return b"\xff" + payload


def _oversized(payload: bytes) -> bytes:
    return payload + b" " * (MAX_PAYLOAD_BYTES + 1 - len(payload))


def _too_deep(_payload: bytes) -> bytes:
    return b"[" * 1500 + b"]" * 1500


def _not_an_object(_payload: bytes) -> bytes:
    return b"[1, 2, 3]"


SPOILERS = [_not_utf8, _oversized, _too_deep, _not_an_object]
BAD_NUMBERS = st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, 10**400])


@st.composite
def spoiled_json(draw: st.DrawFn, good: fz.Payload, number_keys: list[str], now: datetime) -> bytes:
    """A good payload made certainly invalid: by a spoiler, a bad or missing number, or a
    time a day in the future."""
    data: dict[str, Any] = json.loads(draw(good))
    how = draw(st.sampled_from(["spoil", "bad_number", "missing", "future"]))
    key = draw(st.sampled_from(number_keys))
    if how == "spoil":
        return draw(st.sampled_from(SPOILERS))(fz.encode(data))
    if how == "bad_number":
        data[key] = draw(BAD_NUMBERS | st.text(max_size=5) | st.none().map(lambda _: [1]))
    elif how == "missing":
        del data[key]
    else:
        time_key = next(k for k in ("ts", "tst") if k in data)
        data[time_key] = (now + timedelta(days=1)).timestamp()
    return fz.encode(data)


# ---- the message mix -----------------------------------------------------------------


def _locations(now: datetime) -> st.SearchStrategy[Sent]:
    def sent(patrol: str, payload: bytes, good: bool) -> Sent:
        return Sent("location", f"gridhub/patrols/{patrol}/location", payload, good)

    good = fz.valid_native(now)
    return st.one_of(
        st.builds(sent, st.sampled_from(ENABLED), good, st.just(True)),
        st.builds(sent, st.sampled_from(ENABLED), spoiled_json(good, ["lat", "lon", "ts"], now),
                  st.just(False)),
        st.builds(sent, NAME.map(lambda n: f"FZ-{n}") | st.just("P10"),
                  good | fz.HOSTILE_BYTES, st.just(False)),
    )  # fmt: skip


def _owntracks(now: datetime) -> st.SearchStrategy[Sent]:
    def sent(user: str, payload: bytes, good: bool) -> Sent:
        return Sent("owntracks", f"owntracks/{user}/phone", payload, good)

    good = fz.valid_owntracks(now)
    other_type = st.sampled_from([b'{"_type": "lwt", "tst": 1}', b'{"_type": "status"}'])
    return st.one_of(
        st.builds(sent, st.just("wg07"), good, st.just(True)),
        st.builds(sent, st.just("wg07"), spoiled_json(good, ["lat", "lon", "tst"], now)
                  | other_type, st.just(False)),
        st.builds(sent, NAME.map(lambda n: f"fz-{n}") | st.just("wg10"), good, st.just(False)),
    )  # fmt: skip


def _statuses() -> st.SearchStrategy[Sent]:
    def sent(patrol: str, payload: bytes, good: bool) -> Sent:
        return Sent("status", f"gridhub/patrols/{patrol}/status", payload, good)

    bad = st.sampled_from([b"sleeping", b"", b"[1]", b'{"status": "asleep"}', b"{"])
    return st.one_of(
        st.builds(sent, st.sampled_from(ENABLED), fz.valid_status(), st.just(True)),
        st.builds(sent, st.sampled_from(ENABLED), bad | fz.valid_status().map(_not_utf8)
                  | fz.valid_status().map(_oversized), st.just(False)),
    )  # fmt: skip


def _sensors(now: datetime) -> st.SearchStrategy[Sent]:
    def sent(sensor: str, payload: bytes, good: bool) -> Sent:
        return Sent("sensor", f"gridhub/sensors/{sensor}/event", payload, good)

    known = st.sampled_from(sorted(SENSORS))
    return st.one_of(
        known.flatmap(lambda s: st.builds(sent, st.just(s), fz.valid_sensor(SENSORS[s], now),
                                          st.just(True))),
        known.flatmap(lambda s: st.builds(
            sent, st.just(s), spoiled_json(fz.valid_sensor(SENSORS[s], now), ["value", "ts"], now),
            st.just(False))),
        st.builds(sent, NAME.map(lambda n: f"FZ-{n}"), fz.valid_sensor("smoke", now),
                  st.just(False)),
    )  # fmt: skip


def _bad_replies() -> st.SearchStrategy[Sent]:
    """Replies that cannot fit: to a dispatch that is not the sender's, or malformed."""

    def to_other(owner: str, sender: str, action: str) -> Sent:
        topic = f"gridhub/patrols/{sender}/reply"
        return Sent("reply", topic, action.encode(), False, answers=owner)

    def malformed(sender: str, payload: bytes) -> Sent:
        return Sent("reply", f"gridhub/patrols/{sender}/reply", payload, False)

    owners = sorted(PATROL_POSITIONS)  # each gets a dispatch
    unknown_id = st.integers(10**12, 2**63 - 1).map(
        lambda n: fz.encode({"dispatch_id": n, "action": "accept"}))  # fmt: skip
    return st.one_of(
        st.builds(to_other, st.sampled_from(owners), st.sampled_from(["P09", "P10"]),
                  st.sampled_from(["accept", "arrive"])),
        st.builds(malformed, st.sampled_from(owners), unknown_id
                  | st.sampled_from([b"{}", b'{"dispatch_id": 1}', b"\xff", b"[[[[]]]]"])),
    )  # fmt: skip


def messages(now: datetime) -> st.SearchStrategy[Sent]:
    return st.one_of(_locations(now), _owntracks(now), _statuses(), _sensors(now), _bad_replies())


def generate_batches(now: datetime) -> list[list[Sent]]:
    """Hypothesis-drawn batches, drawn before the hub starts (so no hub thread runs while
    hypothesis draws; see `HUB_THREADS_USE_RANDOM`)."""
    batches: list[list[Sent]] = []

    @settings(max_examples=BATCHES, phases=[Phase.generate], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(batch=st.lists(messages(now), min_size=BATCH_SIZE, max_size=BATCH_SIZE))
    def collect(batch: list[Sent]) -> None:
        batches.append(batch)

    collect()
    assert len(batches) == BATCHES
    return batches


# ---- the broker, the hub and its dispatches --------------------------------------------


@pytest.fixture
def mqtt_url(tmp_path: Path) -> Iterator[str]:
    """A Mosquitto of this test's own (the hub_factory uses it): exact counts need a broker
    no other test publishes on, with the production queue limits (deploy/mosquitto)."""
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto is not installed")
    port = free_port()
    deployed = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    limits = [line for line in deployed if line.startswith(("max_queued", "max_inflight"))]
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", *limits]
    if os.geteuid() == 0:
        lines.append("user root")
    (tmp_path / "mosquitto.conf").write_text("\n".join(lines) + "\n")
    broker = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_until(lambda: _listening(port))
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        broker.terminate()
        broker.wait(timeout=10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def settle(condition: Callable[[], bool], describe: Callable[[], str], timeout: float = 20) -> None:
    """Wait for `condition`; fail with `describe()` (what was expected and what is)."""
    try:
        wait_until(condition, timeout)
    except AssertionError:
        raise AssertionError(describe()) from None


@pytest.fixture
def device(mqtt_url: str) -> Iterator[Device]:
    dev = Device(mqtt_url, "gridhub-fuzz-live")
    yield dev
    dev.close()


def _dispatch_one_each(hub: Hub, device: Device) -> dict[str, int]:
    """Three cases, each dispatched to one of P01, P07, P02 (standing where the tests put
    them); the dispatch id by patrol."""
    now = hub.clock.now()
    for patrol, (lat, lon) in PATROL_POSITIONS.items():
        device.publish(f"gridhub/patrols/{patrol}/status", "on_duty")
        device.publish(f"gridhub/patrols/{patrol}/location",
                       json.dumps({"lat": lat, "lon": lon, "ts": now.timestamp()}))  # fmt: skip
    wait_until(lambda: all(hub.patrols.available(p) for p in PATROL_POSITIONS))
    dispatches: dict[str, int] = {}
    for n in range(len(PATROL_POSITIONS)):
        with hub.pool.connection() as conn, conn.transaction():
            new = NewCase("manual", f"fuzz {n}", 2, "WT-QH-01-A", 30.2725, 120.1425)
            case_id = open_case(conn, new, now, "fuzz", 300)
            apply(conn, CaseAction(case_id, "accept", "operator", "operator"), now)
        outcome = hub.dispatcher.dispatch(case_id)
        assert outcome.patrol_id is not None and outcome.dispatch_id is not None
        dispatches[outcome.patrol_id] = outcome.dispatch_id
    assert sorted(dispatches) == sorted(PATROL_POSITIONS)
    return dispatches


def _reply_all(device: Device, dispatches: dict[str, int], action: str) -> None:
    for patrol, dispatch_id in dispatches.items():
        body = {"dispatch_id": dispatch_id, "action": action, "note": f"fuzz {action}"}
        device.publish(f"gridhub/patrols/{patrol}/reply", json.dumps(body, ensure_ascii=False))


def _sum_by_channel(hub: Hub) -> Counter[str]:
    totals: Counter[str] = Counter()
    for family in hub.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "gridhub_mqtt_rejected_total":
                totals[sample.labels["channel"]] += int(sample.value)
    return totals


def _stored_fixes(hub: Hub) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM patrol_positions").fetchone()
    return int(row[0]) if row else 0


def test_fuzzed_traffic_is_used_or_counted_and_the_hub_keeps_working(
    hub_factory: HubFactory, device: Device, demo_raw: dict[str, Any]
) -> None:
    batches = generate_batches(datetime.now(UTC))
    demo_raw["patrols"][9]["enabled"] = False  # P10
    hub = hub_factory(raw=demo_raw)
    dispatches = _dispatch_one_each(hub, device)
    wait_until(lambda: _stored_fixes(hub) == len(PATROL_POSITIONS))
    base_fixes, base_rejected = _stored_fixes(hub), _sum_by_channel(hub)
    for batch, action in zip(batches, ["accept", "arrive", "resolve", None], strict=True):
        for message in batch:
            device.publish(message.topic, message.body(dispatches))
        if action is not None:  # the good replies go in between the junk
            _reply_all(device, dispatches, action)
    sent = [message for batch in batches for message in batch]
    bad = Counter(m.channel for m in sent if not m.good)
    good = Counter(m.channel for m in sent if m.good)
    assert sum(bad.values()) > 50 and sum(good.values()) > 50  # both kinds went in

    def accounted() -> bool:
        now = _sum_by_channel(hub)
        return all(now[c] - base_rejected[c] == bad[c] for c in (*bad, *now))

    settle(accounted, lambda: f"bad sent {dict(bad)}, rejected {_sum_by_channel(hub)}")
    good_fixes = good["location"] + good["owntracks"]

    def stored() -> int:  # a fix with the time of one stored is that fix, again: one row
        return _stored_fixes(hub) - base_fixes + hub.positions.duplicates

    settle(lambda: stored() == good_fixes, lambda: f"{good_fixes} good fixes, {stored()} stored "
           f"or already stored ({hub.positions.duplicates})")  # fmt: skip
    assert _states(hub, dispatches) == dict.fromkeys(dispatches, ("resolved", "fuzz resolve"))
    assert not any(
        s.value for f in hub.metrics.registry.collect() for s in f.samples
        if s.name == "gridhub_mqtt_handler_errors_total"
    )  # fmt: skip
    _still_processing(hub, device)


def _states(hub: Hub, dispatches: dict[str, int]) -> dict[str, tuple[str, str | None]]:
    with hub.pool.connection() as conn:
        rows = conn.execute(
            "SELECT patrol_id, state, note FROM dispatches WHERE id = ANY(%s)",
            (list(dispatches.values()),),
        ).fetchall()
    return {str(patrol): (str(state), note) for patrol, state, note in rows}


def _still_processing(hub: Hub, device: Device) -> None:
    """After all that: connected, healthy, and a new fix and status still land."""
    assert hub.mqtt.connected
    with TestClient(create_app(hub)) as client:
        assert client.get("/api/health").status_code == 200
    later = datetime.now(UTC) + timedelta(seconds=90)  # newer than any fix the fuzz sent
    device.publish(
        "gridhub/patrols/P09/location",
        json.dumps({"lat": 30.2741, "lon": 120.1561, "ts": later.timestamp()}),
    )
    device.publish("gridhub/patrols/P09/status", "busy")

    def landed() -> bool:
        state = hub.patrols.get("P09")
        return (state is not None and state.fix is not None and state.fix.ts == later
                and state.duty_status == "busy")  # fmt: skip

    wait_until(landed)

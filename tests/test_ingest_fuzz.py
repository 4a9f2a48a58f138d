"""Fuzzing the MQTT ingest handlers directly: whatever a device sends, nothing escapes.

The real handlers (patrol locations, OwnTracks, status, sensor events, dispatch
replies) are built on a real PostgreSQL database, without a broker, and called
with hypothesis-generated messages: each message is either used or rejected and
counted once in `gridhub_mqtt_rejected_total` under a known reason; no exception
escapes; every valid message is used; every fix that was accepted is stored
(nothing stalls the batched writer). `GRIDHUB_FUZZ_EXAMPLES` scales the number
of examples (default 1; CI keeps the whole module well under a minute).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg_pool import ConnectionPool

from hub.alerts.sensors import SensorIngest
from hub.cases.store import NewCase, open_case
from hub.cases.workflow import CaseAction, apply
from hub.clock import FakeClock
from hub.config import load_site
from hub.dispatch.dispatcher import Dispatcher
from hub.dispatch.replies import REPLY_RULES
from hub.errors import PayloadError
from hub.hub import topology_of
from hub.infra.metrics import HubMetrics
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.model import Alert
from hub.patrols.index import AvailabilityRules, PatrolIndex
from hub.patrols.ingest import PatrolIngest
from hub.patrols.payloads import REPLY_ACTIONS, Reply, parse_reply
from hub.patrols.writer import PositionWriter
from hub.storage.db import open_pool
from hub.storage.site_repo import list_grids, list_patrols, sync_site
from tests import fuzz_strategies as fz
from tests.conftest import DEMO_CONFIG, wait_until

pytestmark = [pytest.mark.postgres, fz.HUB_THREADS_USE_RANDOM]

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SCALE = int(os.environ.get("GRIDHUB_FUZZ_EXAMPLES", "1"))
KNOWN_REASONS = {
    "oversized", "not_json", "too_deep", "not_object", "missing_field", "bad_value",
    "future_timestamp", "unknown_patrol", "disabled_patrol", "bad_topic", "ignored_type",
    "unknown_sensor", "unknown_dispatch", "bad_state",
}  # fmt: skip
ENABLED = ["P01", "P02", "P07", "P09"]
DISABLED = "P10"


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


class Collect:
    """The alert sink of the sensor ingest (a seam the hub owns)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def submit(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def submit_acked(self, alert: Alert, ack: Callable[[], None]) -> None:
        self.alerts.append(alert)
        ack()


@dataclass
class Parts:
    """The hub's ingest handlers on a real database, and what they count."""

    metrics: HubMetrics
    index: PatrolIndex
    writer: PositionWriter
    ingest: PatrolIngest
    sensors: SensorIngest
    dispatcher: Dispatcher
    pool: ConnectionPool
    clock: FakeClock

    def rejected(self, channel: str) -> dict[str, float]:
        return _samples(self.metrics, "gridhub_mqtt_rejected_total", "channel", channel, "reason")

    def fixes(self, source: str) -> float:
        return sum(_samples(self.metrics, "gridhub_patrol_fixes_total", "source", source,
                            "outcome").values())  # fmt: skip


def _samples(metrics: HubMetrics, name: str, key: str, value: str, by: str) -> dict[str, float]:
    return {
        sample.labels[by]: sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == name and sample.labels.get(key) == value
    }


@pytest.fixture
def parts(migrated_db: str) -> Iterator[Parts]:
    raw_site = load_site(DEMO_CONFIG)
    patrols = [p.model_copy(update={"enabled": p.id != DISABLED}) for p in raw_site.patrols]
    site = raw_site.model_copy(update={"patrols": patrols})
    clock = FakeClock(NOW)
    metrics = HubMetrics()
    pool = open_pool(migrated_db, 4)
    with pool.connection() as conn:
        sync_site(conn, site)
        grids, roster = list_grids(conn), list_patrols(conn)
    index = PatrolIndex(topology_of(grids), clock, AvailabilityRules(120, 3000))
    writer = PositionWriter(pool, max_delay_s=0.01)
    writer.start()
    ingest = PatrolIngest(index, writer, pool, metrics, clock)
    ingest.set_roster(roster)
    sensors = SensorIngest(site.sensors, Collect(), metrics, clock)
    # Never started: no relay publishes; replies and dispatches go to the database only,
    # replies through the dispatcher's reply queue, whose thread alone is started.
    link = MqttLink("mqtt://127.0.0.1:1", "gridhub-fuzz-unused")
    dispatcher = Dispatcher(pool, index, link, metrics, clock, site)
    dispatcher._replies.start()  # noqa: SLF001
    yield Parts(metrics, index, writer, ingest, sensors, dispatcher, pool, clock)
    dispatcher._replies.stop()  # noqa: SLF001
    writer.stop()
    link.stop()
    pool.close()


def message(topic: str | bytes, payload: bytes, received_at: datetime = NOW) -> ReceivedMessage:
    return ReceivedMessage.build(topic if isinstance(topic, bytes) else topic.encode(), payload,
                                 received_at)  # fmt: skip


def _outcome(before: dict[str, float], after: dict[str, float]) -> list[str]:
    """The reasons counted between two snapshots, one entry per count."""
    return [r for r, n in after.items() for _ in range(int(n - before.get(r, 0)))]


def _tagged(valid: fz.Payload, hostile: fz.Payload) -> st.SearchStrategy[tuple[bytes, bool]]:
    return valid.map(lambda p: (p, True)) | hostile.map(lambda p: (p, False))


WRONG_TOPICS = st.one_of(
    st.text(max_size=30).map(str.encode),
    st.binary(max_size=30).map(lambda b: b"gridhub/patrols/\xff" + b),
    st.sampled_from([b"", b"gridhub/patrols", b"gridhub/patrols/P01/location/x", b"owntracks/a"]),
)


# ---- patrol locations ---------------------------------------------------------------


# Messages that once raised out of the handler stay as explicit examples.
CRASHERS = [
    b'{"lat": 1' + b"0" * 400 + b', "lon": 1, "ts": 1}',  # int too large for a float
    b"[" * 2048 + b"]" * 2048,  # RecursionError in the JSON parser
    b'{"lat": 1, "lon": 1, "ts": "0001-01-01T00:00:00+01:00"}',  # before year 1 in UTC
]


@fuzz_settings(250)
@given(
    patrol=fz.patrol_ids([*ENABLED, DISABLED]),
    sent=_tagged(fz.valid_native(NOW), fz.hostile_native(NOW)),
)
@example(patrol="P01", sent=(CRASHERS[0], False))
@example(patrol="P01", sent=(CRASHERS[1], False))
@example(patrol="P01", sent=(CRASHERS[2], False))
def test_native_locations_are_used_or_counted(
    parts: Parts, patrol: str, sent: tuple[bytes, bool]
) -> None:
    payload, valid = sent
    before, fixes = parts.rejected("location"), parts.fixes("native")
    parts.ingest.on_location(message(f"gridhub/patrols/{patrol}/location", payload))
    counted = _outcome(before, parts.rejected("location"))
    used = parts.fixes("native") - fixes
    assert (len(counted), used) in ((1, 0), (0, 1)), (counted, used)
    assert set(counted) <= KNOWN_REASONS
    if patrol in ENABLED:
        assert used == 1 or not valid, counted
    elif patrol == DISABLED:
        assert counted == ["disabled_patrol"]
    else:
        assert counted in (["unknown_patrol"], ["bad_topic"])


def test_every_accepted_fix_is_stored(parts: Parts) -> None:
    """Values the parser accepts must be storable: one refused row would stall the writer
    (tiny measurements once did: PostgreSQL's `real` refuses 1e-50)."""

    @fuzz_settings(150)
    @given(sent=fz.valid_native(NOW) | fz.hostile_native(NOW))
    def send(sent: bytes) -> None:
        parts.ingest.on_location(message("gridhub/patrols/P01/location", sent))

    send()
    for tiny in (b"1e-50", b"5e-324", b"-0.0"):
        body = b'{"lat": 30.27, "lon": 120.14, "ts": 1763798000, "accuracy": ' + tiny + b"}"
        parts.ingest.on_location(message("gridhub/patrols/P01/location", body))
    accepted = parts.fixes("native")
    assert accepted >= 3
    writer = parts.writer  # a fix with a time stored before is stored once (a redelivery)
    wait_until(lambda: writer.written + writer.duplicates == accepted, timeout=20)
    with parts.pool.connection() as conn:
        row = conn.execute("SELECT count(*) FROM patrol_positions").fetchone()
    assert row is not None and row[0] == writer.written and writer.written >= 3


@fuzz_settings(250)
@given(
    topic=st.sampled_from(["owntracks/wg07/phone", "owntracks/wg10/phone", "owntracks/x/phone"]),
    sent=_tagged(fz.valid_owntracks(NOW), fz.hostile_owntracks(NOW)),
)
def test_owntracks_messages_are_used_or_counted(
    parts: Parts, topic: str, sent: tuple[bytes, bool]
) -> None:
    payload, valid = sent
    before, fixes = parts.rejected("owntracks"), parts.fixes("owntracks")
    parts.ingest.on_owntracks(message(topic, payload))
    counted = _outcome(before, parts.rejected("owntracks"))
    used = parts.fixes("owntracks") - fixes
    assert (len(counted), used) in ((1, 0), (0, 1)), (counted, used)
    assert set(counted) <= KNOWN_REASONS
    expected = {"owntracks/wg07/phone": [], "owntracks/wg10/phone": ["disabled_patrol"],
                "owntracks/x/phone": ["unknown_patrol"]}[topic]  # fmt: skip
    if valid or expected:
        assert counted == expected


@fuzz_settings(200)
@given(
    patrol=fz.patrol_ids([*ENABLED, DISABLED]),
    sent=_tagged(fz.valid_status(), fz.hostile_status()),
)
def test_status_messages_are_used_or_counted(
    parts: Parts, patrol: str, sent: tuple[bytes, bool]
) -> None:
    payload, valid = sent
    before = parts.rejected("status")
    parts.ingest.on_status(message(f"gridhub/patrols/{patrol}/status", payload))
    counted = _outcome(before, parts.rejected("status"))
    assert len(counted) <= 1 and set(counted) <= KNOWN_REASONS
    if not counted:  # used: the index holds the new status
        state = parts.index.get(patrol)
        assert state is not None and state.duty_status in payload.decode(errors="replace")
    if valid and patrol in ENABLED:
        assert counted == []


@fuzz_settings(60)
@given(topic=WRONG_TOPICS, payload=fz.valid_native(NOW) | fz.HOSTILE_BYTES)
def test_wrong_topics_are_counted(parts: Parts, topic: bytes, payload: bytes) -> None:
    handlers = {
        "location": parts.ingest.on_location, "status": parts.ingest.on_status,
        "owntracks": parts.ingest.on_owntracks, "sensor": parts.sensors.on_event,
        "reply": parts.dispatcher.on_reply,
    }  # fmt: skip
    for channel, handler in handlers.items():
        before = parts.rejected(channel)
        handler(message(topic, payload))
        counted = _outcome(before, parts.rejected(channel))
        assert len(counted) == 1 and set(counted) <= KNOWN_REASONS, (channel, counted)


# ---- sensor events ------------------------------------------------------------------

SENSORS = {"SMK-QH-3-12": "smoke", "WL-LS-UG1": "water_level", "MH-WT-017": "manhole_cover"}


@st.composite
def sensor_events(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    sensor_id = draw(st.sampled_from(sorted(SENSORS)) | st.text(max_size=12))
    kind = SENSORS.get(sensor_id, "smoke")
    payload, valid = draw(_tagged(fz.valid_sensor(kind, NOW), fz.hostile_sensor(kind, NOW)))
    return sensor_id, payload, valid


@fuzz_settings(250)
@given(event=sensor_events())
@example(event=("SMK-QH-3-12", b'{"type": "smoke", "value": 1, "ts": 1, "severity": true}', False))
@example(event=("SMK-QH-3-12", CRASHERS[0].replace(b'"lat"', b'"value"'), False))
def test_sensor_events_are_used_or_counted(parts: Parts, event: tuple[str, bytes, bool]) -> None:
    sensor_id, payload, valid = event
    before = parts.rejected("sensor")
    parts.sensors.on_event(message(f"gridhub/sensors/{sensor_id}/event", payload))
    counted = _outcome(before, parts.rejected("sensor"))
    assert len(counted) <= 1 and set(counted) <= KNOWN_REASONS
    if sensor_id in SENSORS and valid:
        assert counted == []
    if b'"severity": true' in payload:
        assert counted == ["bad_value"]
    if sensor_id not in SENSORS:
        assert counted in (["unknown_sensor"], ["bad_topic"])


# ---- dispatch replies ---------------------------------------------------------------


def _fresh_dispatch(parts: Parts, previous: list[int]) -> int:
    """A new case dispatched to P01 (the last one withdrawn first)."""
    for case_id in previous:
        parts.dispatcher.cancel_live(case_id)
    parts.clock.advance(1)
    fix = f'{{"lat": 30.2726, "lon": 120.1427, "ts": {parts.clock.now().timestamp()}}}'
    now = parts.clock.now()
    parts.ingest.on_location(message("gridhub/patrols/P01/location", fix.encode(), now))
    parts.ingest.on_status(message("gridhub/patrols/P01/status", b"on_duty", now))
    with parts.pool.connection() as conn, conn.transaction():
        new = NewCase("manual", "fuzz", 2, "WT-QH-01-A", 30.2725, 120.1425)
        case_id = open_case(conn, new, parts.clock.now(), "fuzz", 300)
        apply(conn, CaseAction(case_id, "accept", "operator", "operator"), parts.clock.now())
    outcome = parts.dispatcher.dispatch(case_id)
    assert outcome.patrol_id == "P01" and outcome.dispatch_id is not None
    previous[:] = [case_id]
    return outcome.dispatch_id


def _reply(parts: Parts, reply: ReceivedMessage) -> None:
    """Hand a reply to the dispatcher and wait until its queue has applied it."""
    parts.dispatcher.on_reply(reply)
    wait_until(lambda: parts.dispatcher._replies.pending == 0)  # noqa: SLF001


def _dispatch_row(parts: Parts, dispatch_id: int) -> tuple[str, str | None]:
    with parts.pool.connection() as conn:
        row = conn.execute(
            "SELECT state, note FROM dispatches WHERE id = %s", (dispatch_id,)
        ).fetchone()
    assert row is not None
    return str(row[0]), row[1]


def test_replies_with_any_note_are_applied_or_counted(parts: Parts) -> None:
    """Each example answers a fresh dispatch: the reply moves it on (its note stored as
    sent) or is counted — notes with NUL or lone surrogates included."""
    previous: list[int] = []

    @fuzz_settings(40)
    @given(data=st.data(), ascii_only=st.booleans())
    def answer(data: st.DataObject, ascii_only: bool) -> None:
        dispatch_id = _fresh_dispatch(parts, previous)
        body = data.draw(fz.reply_to(dispatch_id))
        before = parts.rejected("reply")
        payload = fz.encode(body, ascii_only)
        _reply(parts, message("gridhub/patrols/P01/reply", payload))
        counted = _outcome(before, parts.rejected("reply"))
        state, note = _dispatch_row(parts, dispatch_id)
        if counted:
            assert counted in (["bad_value"], ["not_json"], ["bad_state"]), counted
            assert state in ("pending", "sent")
            if counted == ["bad_state"]:
                assert body["action"] == "resolve"  # a resolve before any accept
        else:
            assert state == REPLY_RULES[body["action"]][1]
            assert note == body.get("note")

    answer()


def test_hostile_replies_are_counted(parts: Parts) -> None:
    previous: list[int] = []
    dispatch_id = _fresh_dispatch(parts, previous)

    @fuzz_settings(200)
    @given(patrol=fz.patrol_ids([*ENABLED, DISABLED]), payload=fz.hostile_reply())
    def answer(patrol: str, payload: bytes) -> None:
        before = parts.rejected("reply")
        _reply(parts, message(f"gridhub/patrols/{patrol}/reply", payload))
        counted = _outcome(before, parts.rejected("reply"))
        assert set(counted) <= KNOWN_REASONS and len(counted) <= 1
        if patrol == DISABLED:
            assert counted == ["disabled_patrol"]
        if not counted:  # only a well-formed reply by P01 to its own dispatch gets through
            reply = parse_reply(payload)
            assert (patrol, reply.dispatch_id) == ("P01", dispatch_id)

    answer()
    assert _dispatch_row(parts, dispatch_id)[0] in {t for _s, t in REPLY_RULES.values()} | {
        "pending", "sent"}  # fmt: skip


def test_reply_of_another_patrol_is_refused(parts: Parts) -> None:
    dispatch_id = _fresh_dispatch(parts, [])
    for action in REPLY_ACTIONS:
        with pytest.raises(PayloadError) as caught:
            parts.dispatcher.handle_reply("P02", Reply(dispatch_id, action, None))
        assert caught.value.reason == "unknown_dispatch"
    assert _dispatch_row(parts, dispatch_id)[0] in ("pending", "sent")


def test_a_reply_that_fails_to_apply_is_counted(
    parts: Parts, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug while applying a reply (on the reply queue's thread) is counted, and the
    replies behind it are still applied."""
    dispatch_id = _fresh_dispatch(parts, [])
    real = parts.dispatcher.handle_reply

    def broken(patrol_id: str, reply: Reply) -> None:
        if reply.action == "arrive":
            raise RuntimeError("a bug")
        real(patrol_id, reply)

    monkeypatch.setattr(parts.dispatcher, "handle_reply", broken)
    for action in ("arrive", "accept"):
        body = fz.encode({"dispatch_id": dispatch_id, "action": action})
        _reply(parts, message("gridhub/patrols/P01/reply", body))
    errors = _samples(parts.metrics, "gridhub_mqtt_handler_errors_total", "subscription",
                      "gridhub/patrols/+/reply", "subscription")  # fmt: skip
    assert errors == {"gridhub/patrols/+/reply": 1.0}
    assert _dispatch_row(parts, dispatch_id)[0] == "accepted"
    assert "a bug" in caplog.text

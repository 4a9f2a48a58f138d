"""Patrol payload parsing: what devices send, accepted or rejected with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hub.errors import PayloadError
from hub.patrols.payloads import (
    parse_native_location,
    parse_owntracks,
    parse_reply,
    parse_status,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TS = int(NOW.timestamp()) - 10

# The location example from the OwnTracks booklet (JSON format, _type=location).
OWNTRACKS_DOC = (
    b'{"_type":"location","acc":10,"alt":27,"batt":84,"conn":"w","lat":30.2725,'
    b'"lon":120.1425,"tid":"wg","tst":' + str(TS).encode() + b',"vac":4,"vel":18,"cog":270}'
)


def test_native_location_with_every_field() -> None:
    payload = json.dumps(
        {"lat": 30.27, "lon": 120.14, "ts": TS, "accuracy": 8, "speed": 1.4, "heading": 90,
         "battery": 77, "status": "on_duty"}
    ).encode()  # fmt: skip
    report = parse_native_location("P01", payload, NOW)
    assert report.fix.lat == 30.27 and report.fix.lon == 120.14
    assert report.fix.ts == datetime.fromtimestamp(TS, UTC)
    assert (report.fix.accuracy_m, report.fix.speed_mps, report.fix.battery_pct) == (8, 1.4, 77)
    assert report.duty_status == "on_duty"


def test_native_location_accepts_iso_time() -> None:
    payload = b'{"lat": 30.27, "lon": 120.14, "ts": "2026-11-22T15:59:50+08:00"}'
    fix = parse_native_location("P01", payload, NOW).fix
    assert fix.ts == datetime(2026, 11, 22, 7, 59, 50, tzinfo=UTC)


@pytest.mark.parametrize("tiny", ["1e-50", "5e-324", "-0.0"])
def test_negligible_measurements_are_zero(tiny: str) -> None:
    """PostgreSQL's `real` refuses magnitudes under ~1e-45; a stored fix must be storable."""
    payload = f'{{"lat": 30.27, "lon": 120.14, "ts": {TS}, "accuracy": {tiny}, "speed": {tiny}}}'
    fix = parse_native_location("P01", payload.encode(), NOW).fix
    assert (fix.accuracy_m, fix.speed_mps) == (0.0, 0.0)
    tracks = f'{{"_type": "location", "lat": 30.27, "lon": 120.14, "tst": {TS}, "vel": {tiny}}}'
    owntracks = parse_owntracks("P07", tracks.encode(), NOW)
    assert owntracks is not None and owntracks.speed_mps == 0.0


def test_owntracks_documentation_example() -> None:
    fix = parse_owntracks("P07", OWNTRACKS_DOC, NOW)
    assert fix is not None
    assert (fix.lat, fix.lon, fix.accuracy_m, fix.battery_pct, fix.heading_deg) == (
        30.2725, 120.1425, 10, 84, 270,
    )  # fmt: skip
    assert fix.speed_mps == pytest.approx(5.0)  # 18 km/h
    assert fix.source == "owntracks"


def test_owntracks_other_message_types_are_ignored() -> None:
    assert parse_owntracks("P07", b'{"_type":"transition","event":"enter"}', NOW) is None
    assert parse_owntracks("P07", b'{"_type":"lwt","tst":1}', NOW) is None


MALFORMED = [
    (b"not json", "not_json"),
    (b"\xff\xfe", "not_json"),
    (b"[1, 2]", "not_object"),
    (b'{"lon": 120.1, "ts": 1}', "missing_field"),
    (b'{"lat": 30.2, "ts": 1}', "missing_field"),
    (b'{"lat": 30.2, "lon": 120.1}', "missing_field"),
    (b'{"lat": 91, "lon": 120.1, "ts": 1}', "bad_value"),
    (b'{"lat": "30.2", "lon": 120.1, "ts": 1}', "bad_value"),
    (b'{"lat": true, "lon": 120.1, "ts": 1}', "bad_value"),
    (b'{"lat": NaN, "lon": 120.1, "ts": 1}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": -5}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": "yesterday"}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": "2026-11-22T08:00:00"}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": 4102444800}', "future_timestamp"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": 1, "battery": 140}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": 1, "speed": -1}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": 1, "status": "asleep"}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": 1, "x": "' + b"a" * 5000 + b'"}', "oversized"),
    # Found by tests/test_ingest_fuzz.py: these raised out of the parser.
    (b'{"lat": 1' + b"0" * 400 + b', "lon": 120.1, "ts": 1}', "bad_value"),
    (b"[" * 2000 + b"]" * 2000, "too_deep"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": "0001-01-01T00:00:00+01:00"}', "bad_value"),
    (b'{"lat": 30.2, "lon": 120.1, "ts": "9999-12-31T23:00:00-05:00"}', "bad_value"),
]


@pytest.mark.parametrize(("payload", "reason"), MALFORMED)
def test_malformed_native_location(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_native_location("P01", payload, NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"_type":"location","lon":120.1,"tst":1}', "missing_field"),
        (b'{"_type":"location","lat":30.1,"lon":120.1}', "missing_field"),
        (b'{"_type":"location","lat":30.1,"lon":181,"tst":1}', "bad_value"),
        (b'{"_type":"location","lat":30.1,"lon":120.1,"tst":1,"vel":-3}', "bad_value"),
    ],
)
def test_malformed_owntracks(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_owntracks("P07", payload, NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("payload", "status"),
    [(b"on_duty", "on_duty"), (b'"busy"', "busy"), (b'{"status": "off_duty"}', "off_duty")],
)
def test_status(payload: bytes, status: str) -> None:
    assert parse_status(payload).duty_status == status


@pytest.mark.parametrize(
    "payload", [b"sleeping", b'{"status": 1}', b"", b"{broken", b"on_duty" + b" " * 5000]
)
def test_bad_status(payload: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_status(payload)


def test_reply() -> None:
    reply = parse_reply('{"dispatch_id": 12, "action": "resolve", "note": "已清理"}'.encode())
    assert (reply.dispatch_id, reply.action, reply.note) == (12, "resolve", "已清理")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"action": "accept"}', "missing_field"),
        (b'{"dispatch_id": "12", "action": "accept"}', "bad_value"),
        (b'{"dispatch_id": 0, "action": "accept"}', "bad_value"),
        (b'{"dispatch_id": 12, "action": "maybe"}', "bad_value"),
        (b'{"dispatch_id": 12, "action": "accept", "note": 5}', "bad_value"),
        (b'{"dispatch_id": 9223372036854775808, "action": "accept"}', "bad_value"),
        (b'{"dispatch_id": 12, "action": "accept", "note": "a\\u0000b"}', "bad_value"),
        (b'{"dispatch_id": 12, "action": "accept", "note": "\\ud800"}', "bad_value"),
        (b'{"dispatch_id": 12, "action": "accept", "note": "\xff"}', "not_json"),
    ],
)
def test_bad_reply(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_reply(payload)
    assert caught.value.reason == reason

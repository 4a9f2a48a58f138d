"""Hypothesis strategies for what devices send over MQTT: good messages and hostile ones.

Each channel has a `valid_*` strategy (a message the hub must accept) and a
`hostile_*` one: arbitrary bytes, JSON of the wrong shape, the right keys with
wrong values (huge numbers, NaN and infinities, out-of-range coordinates, text
where numbers go), deep nesting, oversized and non-UTF-8 payloads. Timestamps
are drawn relative to a `now` the caller passes, so the same strategies serve a
fake clock and the wall clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from hub.patrols.payloads import DUTY_STATUSES, MAX_PAYLOAD_BYTES, REPLY_ACTIONS

Payload = st.SearchStrategy[bytes]

WEIRD_NUMBERS: st.SearchStrategy[Any] = st.one_of(
    st.floats(),  # NaN, ±inf, subnormals, -0.0
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=10**400),
    st.sampled_from([5e-324, 1e-50, -1e-50, 1e308, -1e308, 2**63, 2**64, -(2**63) - 1]),
)
JSON_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), WEIRD_NUMBERS, st.text(max_size=40)
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12,
)  # fmt: skip


def encode(value: Any, ascii_only: bool = True) -> bytes:
    """JSON as a device might send it: NaN/Infinity tokens allowed; with `ascii_only`
    False, text goes out raw (a lone surrogate becomes bytes that are not UTF-8)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=ascii_only).encode(
        "utf-8", "surrogatepass"
    )


def _encoded(values: st.SearchStrategy[Any]) -> Payload:
    return st.builds(encode, values, st.booleans())


def _deep(n: int, opener: bytes, closer: bytes, inner: bytes = b"") -> bytes:
    return opener * n + inner + closer * n


HOSTILE_BYTES: Payload = st.one_of(
    st.binary(max_size=200),
    _encoded(JSON_VALUES),
    st.integers(1, 3000).map(lambda n: _deep(n, b"[", b"]")),
    st.integers(1, 900).map(lambda n: _deep(n, b'{"a":', b"}", b"1")),
    st.integers(MAX_PAYLOAD_BYTES - 20, 300_000).map(lambda n: b'{"pad": "' + b"x" * n + b'"}'),
    st.binary(min_size=1, max_size=60).map(lambda tail: b"\xff" + tail),  # not UTF-8
    st.binary(max_size=60).map(lambda body: b'{"lat": "' + body + b'"}'),
)


def unix_seconds(now: datetime) -> st.SearchStrategy[float]:
    """Recent Unix times: up to a day old, up to a minute ahead of `now`."""
    start = (now - timedelta(days=1)).timestamp()
    return st.floats(start, (now + timedelta(minutes=1)).timestamp())


def _iso(seconds: float, offset_minutes: int) -> str:
    return datetime.fromtimestamp(seconds, timezone(timedelta(minutes=offset_minutes))).isoformat()


def iso_times(now: datetime) -> st.SearchStrategy[str]:
    """Recent ISO 8601 times with a fixed offset somewhere in -23:59..+23:59."""
    return st.builds(_iso, unix_seconds(now), st.integers(-1439, 1439))


def times(now: datetime) -> st.SearchStrategy[float | str]:
    return unix_seconds(now) | iso_times(now)


def _any_iso_time() -> st.SearchStrategy[str]:
    """Any ISO time with any offset: year 1 at +01:00 is before year 1 in UTC."""
    return st.builds(
        lambda when, minutes: when.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
        st.datetimes(),
        st.integers(-1439, 1439),
    )  # fmt: skip


WEIRD_VALUES: st.SearchStrategy[Any] = st.one_of(
    WEIRD_NUMBERS, JSON_VALUES, _any_iso_time(), st.text(max_size=20)
)


def _with_weird_values(good: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """The right keys (any may be missing) with right or wrong values, plus strays."""
    shaped = st.fixed_dictionaries(
        {}, optional={key: value | WEIRD_VALUES for key, value in good.items()}
    )
    strays = st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=3)
    return st.builds(lambda known, extra: {**extra, **known}, shaped, strays)


def _native_fields(now: datetime) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "lat": st.floats(-90, 90),
        "lon": st.floats(-180, 180),
        "ts": times(now),
        "accuracy": st.floats(0, 100_000),
        "speed": st.floats(0, 150),
        "heading": st.floats(0, 360),
        "battery": st.integers(0, 100) | st.floats(0, 100),
        "status": st.sampled_from(DUTY_STATUSES),
    }


def valid_native(now: datetime) -> Payload:
    fields = _native_fields(now)
    required = {key: fields.pop(key) for key in ("lat", "lon", "ts")}
    return _encoded(st.fixed_dictionaries(required, optional=fields))


def hostile_native(now: datetime) -> Payload:
    return HOSTILE_BYTES | _encoded(_with_weird_values(_native_fields(now)))


def _owntracks_fields(now: datetime) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "_type": st.just("location"),
        "lat": st.floats(-90, 90),
        "lon": st.floats(-180, 180),
        "tst": st.integers(int((now - timedelta(days=1)).timestamp()), int(now.timestamp())),
        "acc": st.integers(0, 5000),
        "vel": st.integers(0, 540) | st.floats(0, 540),
        "cog": st.integers(0, 360),
        "batt": st.integers(0, 100),
        "tid": st.text(max_size=2),
        "alt": st.integers(-400, 9000),  # OwnTracks sends more than the hub reads
        "conn": st.sampled_from(["w", "m", "o"]),
    }


def valid_owntracks(now: datetime) -> Payload:
    fields = _owntracks_fields(now)
    required = {key: fields.pop(key) for key in ("_type", "lat", "lon", "tst")}
    return _encoded(st.fixed_dictionaries(required, optional=fields))


def hostile_owntracks(now: datetime) -> Payload:
    other_types = st.sampled_from(["lwt", "transition", "waypoint", "card", "status", ""])
    ignored = st.builds(lambda kind, tst: {"_type": kind, "tst": tst}, other_types, st.integers())
    return HOSTILE_BYTES | _encoded(_with_weird_values(_owntracks_fields(now)) | ignored)


def valid_status() -> Payload:
    word = st.sampled_from(DUTY_STATUSES)
    return st.one_of(
        word.map(str.encode),
        word.map(lambda w: f'"{w}"'.encode()),
        word.map(lambda w: f"  {w}\n".encode()),
        _encoded(st.fixed_dictionaries({"status": word})),
    )


def hostile_status() -> Payload:
    return HOSTILE_BYTES | _encoded(_with_weird_values({"status": st.sampled_from(DUTY_STATUSES)}))


def _sensor_fields(sensor_type: str, now: datetime) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "type": st.just(sensor_type),
        "value": st.floats(-1e12, 1e12) | st.integers(-(10**12), 10**12),
        "ts": times(now),
        "severity": st.integers(1, 4),
    }


def valid_sensor(sensor_type: str, now: datetime) -> Payload:
    fields = _sensor_fields(sensor_type, now)
    required = {key: fields.pop(key) for key in ("type", "value", "ts")}
    return _encoded(st.fixed_dictionaries(required, optional=fields))


def hostile_sensor(sensor_type: str, now: datetime) -> Payload:
    return HOSTILE_BYTES | _encoded(_with_weird_values(_sensor_fields(sensor_type, now)))


NOTES: st.SearchStrategy[str | None] = st.none() | st.text(max_size=300)


def reply_to(dispatch_id: int, action: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A reply to `dispatch_id` (any action unless one is given), with any note."""
    actions = st.sampled_from(REPLY_ACTIONS) if action is None else st.just(action)
    return st.fixed_dictionaries({"dispatch_id": st.just(dispatch_id), "action": actions},
                                 optional={"note": NOTES})  # fmt: skip


def hostile_reply() -> Payload:
    fields = {
        "dispatch_id": st.integers(1, 2**63 - 1),
        "action": st.sampled_from(REPLY_ACTIONS),
        "note": NOTES,
    }
    return HOSTILE_BYTES | _encoded(_with_weird_values(fields))


def patrol_ids(known: list[str]) -> st.SearchStrategy[str]:
    """Patrol ids of the topic level: registered ones and anything else."""
    return st.sampled_from(known) | st.text(max_size=12)

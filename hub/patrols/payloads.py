"""Parsing what patrol devices send: native and OwnTracks locations, status, replies.

Each parser takes the raw MQTT payload and returns a typed record, or raises
`PayloadError` whose `reason` is a short label counted in /metrics
(``not_json``, ``missing_field``, ``bad_value``, ``future_timestamp``, …) and whose
detail says what exactly was wrong. Nothing here touches state.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.errors import PayloadError
from hub.model import PatrolFix

MAX_PAYLOAD_BYTES = 4096
MAX_FUTURE = timedelta(minutes=5)
MAX_ID = 2**63 - 1  # a PostgreSQL bigint
# Measurements are stored as PostgreSQL `real`, which refuses magnitudes below ~1e-45
# (and a refused row would stall the batched writer): anything this small is zero.
NEGLIGIBLE = 1e-9
DUTY_STATUSES = ("on_duty", "off_duty", "busy")
REPLY_ACTIONS = ("accept", "decline", "arrive", "resolve")
KMH = 1 / 3.6


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A device saying it is on duty, off duty or busy."""

    duty_status: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A patrol's answer to a dispatch."""

    dispatch_id: int
    action: str
    note: str | None


def decode_object(payload: bytes | bytearray) -> dict[str, Any]:
    """The payload as a JSON object, or `PayloadError`."""
    check_size(payload)
    try:
        value = json.loads(payload.decode())  # str parses faster than bytes (no sniffing)
    except RecursionError:
        raise PayloadError("too_deep", "JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise PayloadError("not_json", str(exc)) from None
    if not isinstance(value, dict):
        raise PayloadError("not_object", f"expected a JSON object, got {type(value).__name__}")
    return value


def check_size(payload: bytes | bytearray) -> None:
    """`PayloadError` for a payload over `MAX_PAYLOAD_BYTES`."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("oversized", f"{len(payload)} bytes (limit {MAX_PAYLOAD_BYTES})")


@dataclass(frozen=True, slots=True)
class LocationReport:
    """A native location report: the fix, and the duty status if the device sent one."""

    fix: PatrolFix
    duty_status: str | None


def parse_native_location(
    patrol_id: str, payload: bytes | bytearray, now: datetime
) -> LocationReport:
    """`gridhub/patrols/{id}/location`: lat, lon, ts required; the rest optional."""
    data = decode_object(payload)
    status = data.get("status")
    if status is not None and status not in DUTY_STATUSES:
        raise PayloadError("bad_value", f"status must be one of {', '.join(DUTY_STATUSES)}")
    fix = PatrolFix(
        patrol_id=patrol_id,
        lat=number(data, "lat", -90, 90),
        lon=number(data, "lon", -180, 180),
        ts=timestamp(data, "ts", now),
        accuracy_m=_optional(data, "accuracy", 0, 100_000),
        speed_mps=_optional(data, "speed", 0, 150),
        heading_deg=_optional(data, "heading", 0, 360),
        battery_pct=_optional(data, "battery", 0, 100),
        source="native",
    )
    return LocationReport(fix, str(status) if status is not None else None)


def parse_owntracks(patrol_id: str, payload: bytes | bytearray, now: datetime) -> PatrolFix | None:
    """An OwnTracks message; None for message types other than `location`."""
    data = decode_object(payload)
    if data.get("_type") != "location":
        return None
    velocity = _optional(data, "vel", 0, 540)  # km/h in OwnTracks
    return PatrolFix(
        patrol_id=patrol_id,
        lat=number(data, "lat", -90, 90),
        lon=number(data, "lon", -180, 180),
        ts=timestamp(data, "tst", now),
        accuracy_m=_optional(data, "acc", 0, 100_000),
        speed_mps=_negligible_as_zero(velocity * KMH) if velocity is not None else None,
        heading_deg=_optional(data, "cog", 0, 360),
        battery_pct=_optional(data, "batt", 0, 100),
        source="owntracks",
    )


def parse_status(payload: bytes | bytearray) -> StatusReport:
    """`gridhub/patrols/{id}/status`: a bare word or {"status": "..."}."""
    check_size(payload)
    text = payload.decode("utf-8", errors="replace").strip()
    word = text.strip('"')
    if text.startswith("{"):
        word = str(decode_object(payload).get("status", ""))
    if word not in DUTY_STATUSES:
        raise PayloadError("bad_value", f"status must be one of {', '.join(DUTY_STATUSES)}")
    return StatusReport(word)


def parse_reply(payload: bytes | bytearray) -> Reply:
    """`gridhub/patrols/{id}/reply`: {"dispatch_id": N, "action": "...", "note": "..."}."""
    data = decode_object(payload)
    dispatch_id = data.get("dispatch_id")
    if dispatch_id is None:
        raise PayloadError("missing_field", "dispatch_id is required")
    if not isinstance(dispatch_id, int) or isinstance(dispatch_id, bool):
        raise PayloadError("bad_value", "dispatch_id must be a positive integer")
    if not 0 < dispatch_id <= MAX_ID:
        raise PayloadError("bad_value", f"dispatch_id must be between 1 and {MAX_ID}")
    action = data.get("action")
    if action not in REPLY_ACTIONS:
        raise PayloadError("bad_value", f"action must be one of {', '.join(REPLY_ACTIONS)}")
    return Reply(dispatch_id, str(action), _note(data.get("note")))


def _note(note: object) -> str | None:
    """A reply's note: text the database can store (no NUL, no lone surrogate)."""
    if note is None:
        return None
    if not isinstance(note, str) or len(note) > 2000:
        raise PayloadError("bad_value", "note must be text of at most 2000 characters")
    if "\x00" in note:
        raise PayloadError("bad_value", "note must not contain NUL characters")
    try:
        note.encode()
    except UnicodeEncodeError:
        raise PayloadError("bad_value", "note is not valid Unicode (a lone surrogate)") from None
    return note


def number(data: dict[str, Any], key: str, low: float, high: float) -> float:
    """`data[key]` as a finite number within low..high, or `PayloadError`."""
    if key not in data:
        raise PayloadError("missing_field", f"{key} is required")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError("bad_value", f"{key} must be a number")
    # Compared before any float conversion: a 400-digit integer overflows a float.
    if isinstance(value, float) and not math.isfinite(value):
        raise PayloadError("bad_value", f"{key} must be a finite number")
    if not low <= value <= high:
        shown = value if isinstance(value, float) or abs(value) < 10**20 else "a huge integer"
        raise PayloadError("bad_value", f"{key}={shown} is outside {low}..{high}")
    return float(value)


def _optional(data: dict[str, Any], key: str, low: float, high: float) -> float | None:
    """An optional measurement (stored as `real`)."""
    if data.get(key) is None:
        return None
    return _negligible_as_zero(number(data, key, low, high))


def _negligible_as_zero(value: float) -> float:
    return 0.0 if abs(value) < NEGLIGIBLE else value


def timestamp(data: dict[str, Any], key: str, now: datetime) -> datetime:
    """Unix seconds (number) or ISO 8601 text with a zone; not far in the future."""
    if key not in data:
        raise PayloadError("missing_field", f"{key} is required")
    value = data[key]
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError("bad_value", f"{key} is not an ISO 8601 time") from None
        if ts.tzinfo is None:
            raise PayloadError("bad_value", f"{key} needs a time zone (e.g. +08:00 or Z)")
        try:
            ts = ts.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise PayloadError("bad_value", f"{key} is outside the years 1..9999") from None
    else:
        seconds = number(data, key, 0, 32503680000)  # up to year 3000
        ts = datetime.fromtimestamp(seconds, UTC)
    if ts > now + MAX_FUTURE:
        raise PayloadError("future_timestamp", f"{key} is {ts - now} in the future")
    return ts

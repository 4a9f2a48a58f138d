"""Camera alerts on local disk before the detector is told they are taken.

Camera alerts are made in-process: nothing outside the hub would send one again
if the hub died before it reached the database. `AlertSpool.append` writes the
alert as one JSON line to an append-only file in the data directory and fsyncs
it (a batch of one: camera alerts come seconds apart); `done` appends a marker
once the alert is committed (not fsynced: a lost marker only means the alert is
replayed, and its `ref`, the spool id, makes that a no-op in the database).
`replay` (at start) returns the alerts without a marker and rewrites the file
with only those, so it never grows past what is pending; when nothing is
pending the file is emptied. `spool_path` names the file after the instance and
the database the alerts are for: a hub never replays another's alerts into its
database (tests open many databases from one data directory).

Bounded: past `limit` pending alerts — or when the disk refuses the write — an
alert is not spooled: `append` returns None, the error is logged (once per
episode) and counted (`gridhub_alert_spool_full_total`), and the alert goes on in
memory as before, lost if the hub dies before it is recorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.model import Alert, EvidenceRef

log = logging.getLogger(__name__)

COMPACT_BYTES = 1 << 20  # empty the file once nothing is pending and it is this big


def spool_path(data_dir: Path, database_url: str, instance: str | None) -> Path:
    """Where a hub instance spools the alerts for one database."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return data_dir / "spool" / f"alerts-{instance or 'hub'}-{digest}.jsonl"


class AlertSpool:
    """An append-only, fsynced file of alerts not yet committed."""

    def __init__(self, path: Path, limit: int = 10_000) -> None:
        self.path = path
        self.limit = limit
        self.refused = 0  # alerts not spooled (full, or the disk refused)
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._full = False
        path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def replay(self) -> list[Alert]:
        """The alerts spooled but never marked done, oldest first; the file keeps only them."""
        entries: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            _read_line(line, entries)
        with self._lock:
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as out:
                for spool_id, data in entries.items():
                    out.write(json.dumps({"id": spool_id, "alert": data}) + "\n")
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(self.path)
            self._pending = set(entries)
        return [_alert(spool_id, data) for spool_id, data in entries.items()]

    def append(self, alert: Alert) -> str | None:
        """Spool the alert durably; its spool id, or None when it could not be (counted)."""
        spool_id = uuid.uuid4().hex
        line = json.dumps({"id": spool_id, "alert": _data(alert)}, default=str) + "\n"
        with self._lock:
            if len(self._pending) >= self.limit:
                self._refuse(f"{self.limit} alerts already waiting")
                return None
            try:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(line)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                self._refuse(exc.strerror or str(exc))
                return None
            self._pending.add(spool_id)
            self._full = False
        return spool_id

    def done(self, spool_id: str) -> None:
        """The alert is committed: mark it, and empty the file when nothing is pending."""
        with self._lock:
            self._pending.discard(spool_id)
            try:
                if not self._pending and self.path.stat().st_size > COMPACT_BYTES:
                    self.path.write_bytes(b"")
                    return
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps({"done": spool_id}) + "\n")
            except OSError as exc:  # replayed at the next start; its ref makes that a no-op
                log.warning("could not mark spooled alert %s done: %s", spool_id, exc)

    def _refuse(self, why: str) -> None:
        self.refused += 1
        if not self._full:
            log.error(
                "alert spool %s cannot take more alerts (%s): alerts are held in memory "
                "only until it drains, and lost if the hub dies first", self.path, why,
            )  # fmt: skip
            self._full = True


def _read_line(line: str, entries: dict[str, dict[str, Any]]) -> None:
    """Apply one line; a torn last line (the hub died mid-write, never fsynced) is skipped."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        log.warning("skipped a torn line of the alert spool")
        return
    if "done" in record:
        entries.pop(str(record["done"]), None)
    elif "id" in record:
        entries[str(record["id"])] = record["alert"]


def _data(alert: Alert) -> dict[str, Any]:
    data = asdict(alert)
    data["started_at"] = alert.started_at.isoformat()
    data["confirmed_at"] = alert.confirmed_at.isoformat()
    data["details"] = dict(alert.details)
    return data


def _alert(spool_id: str, data: dict[str, Any]) -> Alert:
    """The alert back from its line; its `ref` is the spool id (stored once)."""
    return Alert(
        kind=data["kind"], started_at=datetime.fromisoformat(data["started_at"]),
        confirmed_at=datetime.fromisoformat(data["confirmed_at"]),
        confidence=float(data["confidence"]), camera_id=data.get("camera_id"),
        sensor_id=data.get("sensor_id"), region=data.get("region"),
        summary=data.get("summary", ""),
        overlay=tuple(tuple(tuple(p) for p in line) for line in data.get("overlay", ())),
        details=data.get("details") or {},
        evidence=tuple(EvidenceRef(**e) for e in data.get("evidence", ())),
        cleared=bool(data.get("cleared")), ref=f"spool:{spool_id}",
    )  # fmt: skip

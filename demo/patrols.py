"""Simulated patrols for the demo and for load: they walk, report, and answer dispatches.

Each simulated patrol walks its home grid at walking pace, reporting its position
every `report_every_s` (OwnTracks format when the site maps it to an OwnTracks
device, gridhub's native format otherwise). On a dispatch it accepts after a
short delay, heads for the case, reports `arrive` on site, and `resolve` after
handling it; then it goes back to patrolling. A dispatch it had accepted before
a restart is taken up again with `resume`. Time is passed in to `step()`, so
the behaviour is tested without sleeping; `run()` drives it in real time.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import Point, shape

from hub.config import Grid, Patrol, SiteConfig
from hub.infra.mqtt import MqttLink, ReceivedMessage
from hub.patrols.index import haversine_m

log = logging.getLogger(__name__)

WALK_MPS = 1.4
RESPOND_MPS = 4.0  # an e-bike
ARRIVED_M = 15.0


@dataclass(frozen=True, slots=True)
class SimSettings:
    """How simulated patrols behave."""

    report_every_s: float = 5.0
    accept_after_s: float = 3.0
    handle_for_s: float = 20.0
    walk_mps: float = WALK_MPS
    respond_mps: float = RESPOND_MPS


@dataclass
class SimPatrol:
    """One simulated patrol and what it is doing."""

    patrol: Patrol
    area: Any  # the shapely polygon it patrols
    lat: float
    lon: float
    target: tuple[float, float]
    next_report: float = 0.0
    dispatch: dict[str, Any] | None = None
    phase: str = "patrolling"  # patrolling → accepting → responding → handling
    phase_until: float = 0.0


class PatrolSimulator:
    """Drives simulated patrols over a site's grids through an MQTT broker."""

    def __init__(
        self, site: SiteConfig, count: int | None = None, seed: int = 0,
        settings: SimSettings | None = None,
    ) -> None:  # fmt: skip
        self._rng = random.Random(seed)
        self.settings = settings or SimSettings()
        grids = {g.id: g for g in site.grids}
        chosen = [p for p in site.patrols if p.enabled][: count or None]
        self.patrols = {p.id: self._place(p, grids) for p in chosen}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _place(self, patrol: Patrol, grids: dict[str, Grid]) -> SimPatrol:
        area = shape(grids[patrol.grid].geometry.model_dump())
        lat, lon = self._random_point(area)
        return SimPatrol(patrol, area, lat, lon, self._random_point(area))

    def _random_point(self, area: Any) -> tuple[float, float]:
        minx, miny, maxx, maxy = area.bounds
        while True:
            lon, lat = self._rng.uniform(minx, maxx), self._rng.uniform(miny, maxy)
            if area.contains(Point(lon, lat)):
                return lat, lon

    # ---- behaviour (pure: time in, messages out) ---------------------------------

    def start_messages(self) -> list[tuple[str, bytes]]:
        """Every patrol reports for duty."""
        return [(f"gridhub/patrols/{pid}/status", b"on_duty") for pid in self.patrols]

    def on_dispatch(self, patrol_id: str, payload: dict[str, Any], now: float) -> None:
        with self._lock:
            sim = self.patrols.get(patrol_id)
            if sim is not None and payload.get("cancelled"):
                if sim.dispatch and sim.dispatch.get("dispatch_id") == payload.get("dispatch_id"):
                    sim.phase, sim.dispatch = "patrolling", None
                return
            if sim is None or sim.phase != "patrolling":
                return  # busy: the hub will time out and ask someone else
            sim.dispatch, sim.phase = payload, "accepting"
            sim.phase_until = now + self.settings.accept_after_s

    def resume(self, patrol_id: str, payload: dict[str, Any], state: str, now: float) -> None:
        """Take up a dispatch the patrol held when the simulator last stopped (the demo
        restarted): ride on to the case (`accepted`) or finish handling it there
        (`arrived`). The hub re-sends dispatches not yet answered; these it cannot."""
        with self._lock:
            sim = self.patrols.get(patrol_id)
            if sim is None or state not in ("accepted", "arrived"):
                return
            sim.dispatch, sim.phase = payload, "responding"
            site = payload.get("location") or {}
            if state == "arrived":
                if site.get("lat") is not None and site.get("lon") is not None:
                    sim.lat, sim.lon = float(site["lat"]), float(site["lon"])
                sim.phase, sim.phase_until = "handling", now + self.settings.handle_for_s

    def step(self, now: float, dt: float) -> list[tuple[str, bytes]]:
        """Advance every patrol by `dt` seconds; return the messages to publish."""
        out: list[tuple[str, bytes]] = []
        with self._lock:
            for sim in self.patrols.values():
                out.extend(self._advance(sim, now, dt))
                if now >= sim.next_report:
                    out.append(self._location(sim))
                    sim.next_report = now + self.settings.report_every_s
        return out

    def _advance(self, sim: SimPatrol, now: float, dt: float) -> list[tuple[str, bytes]]:
        if sim.phase == "patrolling":
            if self._move(sim, sim.target, self.settings.walk_mps * dt):
                sim.target = self._random_point(sim.area)
            return []
        assert sim.dispatch is not None
        if sim.phase == "accepting" and now >= sim.phase_until:
            sim.phase = "responding"
            return [self._reply(sim, "accept")]
        if sim.phase == "responding":
            site = sim.dispatch["location"]
            speed = self.settings.respond_mps
            if site["lat"] is None or self._move(sim, (site["lat"], site["lon"]), speed * dt):
                sim.phase, sim.phase_until = "handling", now + self.settings.handle_for_s
                return [self._reply(sim, "arrive")]
        if sim.phase == "handling" and now >= sim.phase_until:
            message = self._reply(sim, "resolve", "已到场处置完毕 (simulated)")
            sim.phase, sim.dispatch = "patrolling", None
            return [message]
        return []

    @staticmethod
    def _move(sim: SimPatrol, target: tuple[float, float], step_m: float) -> bool:
        """Move toward `target` by up to `step_m`; True when there."""
        distance = haversine_m(sim.lat, sim.lon, *target)
        if distance <= max(step_m, ARRIVED_M):
            sim.lat, sim.lon = target
            return True
        f = step_m / distance
        sim.lat += (target[0] - sim.lat) * f
        sim.lon += (target[1] - sim.lon) * f
        return False

    def _location(self, sim: SimPatrol) -> tuple[str, bytes]:
        ts = datetime.now(UTC).timestamp()
        battery = 40 + self._rng.random() * 60
        ot = sim.patrol.owntracks
        if ot is not None:
            body = {"_type": "location", "lat": sim.lat, "lon": sim.lon, "tst": int(ts),
                    "acc": 8, "batt": int(battery), "tid": sim.patrol.id[-2:]}  # fmt: skip
            return f"owntracks/{ot.user}/{ot.device}", json.dumps(body).encode()
        body = {"lat": sim.lat, "lon": sim.lon, "ts": ts, "accuracy": 8, "battery": battery,
                "speed": self.settings.walk_mps if sim.phase == "patrolling"
                else self.settings.respond_mps}  # fmt: skip
        return f"gridhub/patrols/{sim.patrol.id}/location", json.dumps(body).encode()

    @staticmethod
    def _reply(sim: SimPatrol, action: str, note: str | None = None) -> tuple[str, bytes]:
        assert sim.dispatch is not None
        body = {"dispatch_id": sim.dispatch["dispatch_id"], "action": action, "note": note}
        return f"gridhub/patrols/{sim.patrol.id}/reply", json.dumps(body).encode()

    # ---- real time over MQTT -----------------------------------------------------------

    def run(self, broker_url: str, duration_s: float | None = None, tick_s: float = 0.2) -> None:
        """Publish in real time until `stop()` or `duration_s` has passed."""
        link = MqttLink(broker_url, f"gridhub-sim-{id(self):x}")
        link.subscribe("gridhub/patrols/+/dispatch", self._on_message, qos=1)
        link.start()
        try:
            for topic, payload in self.start_messages():
                link.publish(topic, payload, qos=1)
            started = last = time.monotonic()
            while not self._stop.wait(tick_s):
                now = time.monotonic()
                for topic, payload in self.step(now, now - last):
                    link.publish(topic, payload, qos=1)
                last = now
                if duration_s is not None and now - started >= duration_s:
                    break
        finally:
            link.stop()

    def stop(self) -> None:
        self._stop.set()

    def _on_message(self, message: ReceivedMessage) -> None:
        try:
            payload = json.loads(message.payload)
            self.on_dispatch(message.levels[2], payload, time.monotonic())
        except (ValueError, KeyError, IndexError) as exc:
            log.warning("simulator ignored a dispatch it could not read: %s", exc)

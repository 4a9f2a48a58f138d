"""What the system benchmark concludes from its readings: real time or not, latencies, CPU.

**Real time** over a window, for every camera (counters from the hub's camera
health, `hub/cameras/health.py`, the same as `/metrics` exports):

- *decode keeps up*: the frames it decoded (`frames_in`) are at least 98 % of the
  frames the RTSP server sent it over the window, less two: otherwise frames wait
  in socket buffers and the picture the hub sees lags further behind each second
  (shown as "lag +x s": the growth over the window);
- *analysis keeps up*: frames handed to its detectors (`frames_analysed`) reach
  95 % of its configured `analysis_fps`, less one;
- *nothing dropped*: the drop-oldest queue between decode and analysis dropped at
  most 1 % of the analysed frames (`dropped_frames`), and no frame was corrupt and
  the camera did not reconnect (`corrupt_frames`, `reconnects`).

The RTSP server's own rate is checked too (at least 97 % of the clip's rate): a
server starved of CPU on the same two cores would make a hub look slow.

**End-to-end latency** of an event: from the confirming frame's capture time
(the alert's `confirmed_at`: the wall-clock time at which the hub decoded the
frame on which the detector confirmed it) to the wall-clock time at which the
patrol's MQTT client received the dispatch; in between, the case opened
(`cases.opened_at`) and the dispatch committed (`dispatches.created_at`).
First dispatches only.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import ConnectionPool

from bench.common import percentile
from bench.system.hub import HubSample
from bench.system.profile import thread_kind
from hub.storage import rows

DECODE_KEEP, DECODE_SLACK = 0.98, 2
ANALYSE_KEEP, ANALYSE_SLACK = 0.95, 1
DROPPED_MAX = 0.01
SERVER_KEEP = 0.97


@dataclass(frozen=True, slots=True)
class CameraWindow:
    """One camera over one window."""

    camera_id: str
    kind: str
    sent_fps: float
    in_fps: float
    analysed_fps: float
    target_fps: float
    dropped: int
    lag_growth_s: float
    cpu_percent: float  # its decode + analysis threads, % of one core
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Window:
    """Every camera and the hub over one window."""

    seconds: float
    cameras: list[CameraWindow]
    hub_cpu_percent: float
    rss_bytes: int
    fixes_per_s: float
    positions_per_s: float
    thread_cpu: dict[str, float]  # thread name -> % of one core
    server_problems: tuple[str, ...] = ()

    @property
    def real_time(self) -> bool:
        return not self.server_problems and all(not c.problems for c in self.cameras)

    def verdict(self) -> str:
        if self.real_time:
            return "real time"
        worst = [f"{c.camera_id} {', '.join(c.problems)}" for c in self.cameras if c.problems]
        return "NOT real time: " + "; ".join([*self.server_problems, *worst][:3])


@dataclass(frozen=True, slots=True)
class ServerReading:
    mono: float
    sent: dict[str, int]


def judge(
    before: tuple[HubSample, ServerReading], after: tuple[HubSample, ServerReading],
    kinds: dict[str, tuple[str, float, float]],
) -> Window:  # fmt: skip
    """The window between two readings; `kinds`: camera id -> (kind, stream fps, analysis fps)."""
    (h0, s0), (h1, s1) = before, after
    dt = h1.mono - h0.mono
    server_dt = max(s1.mono - s0.mono, 1e-6)
    cameras, server_problems = [], []
    for camera_id, (kind, stream_fps, target) in sorted(kinds.items()):
        sent_fps = (s1.sent.get(camera_id, 0) - s0.sent.get(camera_id, 0)) / server_dt
        if sent_fps < SERVER_KEEP * stream_fps:
            server_problems.append(f"the RTSP server sent {camera_id} {sent_fps:.1f} fps")
        cameras.append(_camera(camera_id, kind, (h0, h1), sent_fps, target))
    return Window(
        seconds=dt,
        cameras=cameras,
        hub_cpu_percent=100 * (h1.cpu_s - h0.cpu_s) / dt,
        rss_bytes=h1.rss_bytes,
        fixes_per_s=(h1.counters["fixes"] - h0.counters["fixes"]) / dt,
        positions_per_s=(h1.counters["positions"] - h0.counters["positions"]) / dt,
        thread_cpu={k: 100 * (v - h0.threads.get(k, 0.0)) / dt for k, v in h1.threads.items()},
        server_problems=tuple(server_problems),
    )


def _camera(
    camera_id: str, kind: str, samples: tuple[HubSample, HubSample], sent_fps: float,
    target: float,
) -> CameraWindow:  # fmt: skip
    h0, h1 = samples
    dt = h1.mono - h0.mono
    a, b = h0.cameras.get(camera_id), h1.cameras.get(camera_id)
    if a is None or b is None:
        return CameraWindow(camera_id, kind, sent_fps, 0, 0, target, 0, 0, 0, ("not running",))
    delta = {k: b[k] - a[k] for k in ("frames_in", "frames_analysed", "dropped_frames",
                                      "corrupt_frames", "reconnects")}  # fmt: skip
    expected_in = sent_fps * dt
    stream_fps = sent_fps or 1.0
    problems = []
    if delta["frames_in"] < DECODE_KEEP * expected_in - DECODE_SLACK:
        problems.append(f"decoded {delta['frames_in']} of {expected_in:.0f} frames sent")
    if delta["frames_analysed"] < ANALYSE_KEEP * target * dt - ANALYSE_SLACK:
        problems.append(f"analysed {delta['frames_analysed'] / dt:.1f} of {target:g} fps")
    if delta["dropped_frames"] > DROPPED_MAX * max(delta["frames_analysed"], 1):
        problems.append(f"dropped {delta['dropped_frames']} frames")
    if delta["corrupt_frames"] or delta["reconnects"] or b["state"] != "online":
        problems.append(f"{b['state']}, {delta['corrupt_frames']} corrupt, "
                        f"{delta['reconnects']} reconnects")  # fmt: skip
    cpu = sum(h1.threads.get(f"cam-{camera_id}-{p}", 0.0) - h0.threads.get(f"cam-{camera_id}-{p}",
              0.0) for p in ("decode", "analyse"))  # fmt: skip
    return CameraWindow(
        camera_id, kind, sent_fps, delta["frames_in"] / dt, delta["frames_analysed"] / dt, target,
        delta["dropped_frames"], (expected_in - delta["frames_in"]) / stream_fps, 100 * cpu / dt,
        tuple(problems),
    )  # fmt: skip


def step_line(count: int, mix: str, window: Window) -> str:
    worst = min(window.cameras, key=lambda c: (c.in_fps / max(c.sent_fps, 1e-6),
                                               c.analysed_fps / c.target_fps))  # fmt: skip
    return (
        f"  N={count:<2} ({mix}): hub CPU {window.hub_cpu_percent:4.0f} % of a core, "
        f"slowest {worst.camera_id}: decoded {worst.in_fps:4.1f}/{worst.sent_fps:.1f} fps, "
        f"analysed {worst.analysed_fps:4.1f}/{worst.target_fps:g}, dropped {worst.dropped}, "
        f"lag {worst.lag_growth_s:+.1f} s -> {window.verdict()}"
    )


# ---- latency ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventLatency:
    """One event from its confirming frame to the dispatch at the patrol's client, in ms."""

    kind: str
    total_ms: float
    to_case_ms: float
    to_dispatch_ms: float
    to_device_ms: float


@dataclass(frozen=True, slots=True)
class _FirstDispatch:
    id: int
    kind: str
    opened_at: datetime
    created_at: datetime
    confirmed_at: datetime | None  # the first alert of the case


def latencies(pool: ConnectionPool, arrivals: list[tuple[int, int, float]]) -> list[EventLatency]:
    """The events behind first dispatches that reached the patrols' client."""
    arrived = {dispatch_id: at for dispatch_id, _case, at in arrivals}
    if not arrived:
        return []
    with pool.connection() as conn:
        firsts = rows.many(
            conn,
            _FirstDispatch,
            """SELECT d.id, c.kind, c.opened_at, d.created_at,
                      (SELECT min(a.ts) FROM alerts a WHERE a.case_id = c.id) AS confirmed_at
                 FROM dispatches d JOIN cases c ON c.id = d.case_id
                WHERE d.id = ANY(%s) AND d.attempt = 1""",
            (list(arrived),),
        )
    out = []
    for d in firsts:
        if d.confirmed_at is None:
            continue
        at, confirmed, opened, created = arrived[d.id], d.confirmed_at, d.opened_at, d.created_at
        out.append(EventLatency(
            d.kind, 1000 * (at - confirmed.timestamp()), _ms(opened, confirmed),
            _ms(created, opened), 1000 * (at - created.timestamp()),
        ))  # fmt: skip
    return out


def _ms(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000


def latency_lines(events: list[EventLatency]) -> list[str]:
    if not events:
        return ["  no event reached a patrol in this window (too short for a throw?)"]
    lines = [f"  end-to-end, confirming frame -> dispatch at the patrol's MQTT client, "
             f"{len(events)} events: {_pcts([e.total_ms for e in events])}"]  # fmt: skip
    parts = (("confirming frame -> case opened (any lag behind the stream, the snapshot, "
              "intake, DB)", "to_case_ms"),
             ("case opened -> dispatch committed", "to_dispatch_ms"),
             ("dispatch committed -> at the patrol's client", "to_device_ms"))  # fmt: skip
    for label, attr in parts:
        lines.append(f"    {label}: {_pcts([getattr(e, attr) for e in events])}")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for e in events:
        by_kind[e.kind].append(e.total_ms)
    for kind, values in sorted(by_kind.items()):
        lines.append(f"    {kind}: {len(values)} events, {_pcts(values)}")
    return lines


def _pcts(values: list[float]) -> str:
    return (f"p50 {percentile(values, 50):.0f} ms, p99 {percentile(values, 99):.0f} ms, "
            f"max {max(values):.0f} ms")  # fmt: skip


# ---- CPU and memory per camera -------------------------------------------------------------


def cpu_by_kind(window: Window) -> dict[str, tuple[float, float, int]]:
    """kind -> (mean CPU % per camera, of which decode %, cameras)."""
    out: dict[str, tuple[float, float, int]] = {}
    for kind in sorted({c.kind for c in window.cameras}):
        cams = [c for c in window.cameras if c.kind == kind]
        decode = [window.thread_cpu.get(f"cam-{c.camera_id}-decode", 0.0) for c in cams]
        out[kind] = (statistics.mean(c.cpu_percent for c in cams), statistics.mean(decode),
                     len(cams))  # fmt: skip
    return out


def other_threads(window: Window, top: int = 6) -> str:
    rest = {
        thread_kind(k): v
        for k, v in window.thread_cpu.items()
        if not k.startswith("cam-") and v >= 0.5
    }
    ranked = sorted(rest.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {value:.0f} %" for name, value in ranked) or "none"


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"

"""System benchmark: how many cameras one box runs in real time; how fast events reach patrols.

    python -m bench.system [--quick] [--cameras N] [--patrols M] [--duration S] [--json FILE]

Everything is real and on this machine: PostgreSQL (a fresh database), a private
Mosquitto, an RTSP server (gst-rtsp-server, bench/system/clip_server.py) playing camera
clips made in code (bench/system/clips.py), gridhub's patrol simulator with M
patrols reporting once a second and answering dispatches (bench/system/patrols.py),
and the hub itself (`open_hub`) in its own process (bench/system/hub.py), which
starts cameras as they are added to its `cameras` table.

The cameras are a mix: thrown-object cameras (1080p, 25 fps, every frame analysed
by `thrown_object`; the clip has a throw every 8 s) and, every third camera from
the second, fire-lane cameras (1080p, 25 fps, analysed at 1 fps by `fire_lane`
with a YOLOv8s ONNX model; the lane is blocked twice in each 159 s loop).

1. **Search**: add one camera at a time; after `--settle` seconds, judge a window
   of `--window` seconds (the criterion is in bench/system/report.py). A load that
   fails is judged once more before it counts; the largest load that passed is N.
   `--cameras N` skips the search.
2. **Measure** at N for `--duration` seconds: end-to-end latency of the events
   (confirming frame -> dispatch at the patrol's MQTT client), fixes/s ingested,
   CPU and memory per camera, and what the load generators cost on the same cores.
3. **Profile** the hub at N with py-spy for `--profile-seconds` (skipped when py-spy
   is not installed: `pip install py-spy`), grouped by what the time is spent on.

`--quick` runs the same in about a minute (short windows, at most 3 cameras).
Clips are rendered once into a cache (`--cache`; the first run takes minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from psycopg_pool import ConnectionPool

from bench.common import fresh_database, private_broker
from bench.system import profile as system_profile
from bench.system.clips import SIZE, Size, default_cache, prepare
from bench.system.hub import HubProcess
from bench.system.patrols import Operator, PatrolDevices
from bench.system.processes import ProcessCpu
from bench.system.report import (
    ServerReading,
    Window,
    cpu_by_kind,
    judge,
    latencies,
    latency_lines,
    mib,
    other_threads,
    step_line,
)
from bench.system.site import (
    LANE_FPS,
    THROWN_FPS,
    CameraPlan,
    CameraTable,
    ClipServer,
    bench_site,
    camera_id,
    city_side,
    is_lane,
)
from hub.storage.site_repo import grid_index, list_grids

STREAM_FPS = 25.0


@dataclass(frozen=True, slots=True)
class Timing:
    settle_s: float
    window_s: float
    max_cameras: int
    duration_s: float
    profile_s: float


FULL = Timing(settle_s=10, window_s=20, max_cameras=16, duration_s=120, profile_s=30)
QUICK = Timing(settle_s=4, window_s=6, max_cameras=3, duration_s=15, profile_s=6)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about a minute: short windows")
    parser.add_argument("--cameras", type=int, help="run at N cameras instead of searching")
    parser.add_argument("--patrols", type=int, default=1000, help="M patrols at 1 fix/s")
    parser.add_argument("--duration", type=float, help="seconds measured at the load found")
    parser.add_argument("--window", type=float, help="seconds judged per search step")
    parser.add_argument("--settle", type=float, help="seconds after adding a camera")
    parser.add_argument("--max-cameras", type=int, help="stop the search here")
    parser.add_argument("--lane-every", type=int, default=3,
                        help="camera i is a fire lane when i %% K == 1 (0: none)")  # fmt: skip
    parser.add_argument("--no-lane-model", action="store_true",
                        help="fire lanes without the object model (lane model only)")  # fmt: skip
    parser.add_argument("--profile-seconds", type=float, help="py-spy time (0: no profile)")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="clip cache")
    parser.add_argument("--size", type=_size, default=SIZE, help="frame size WxH (1920x1080)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args(argv)


def timing_of(args: argparse.Namespace) -> Timing:
    base = QUICK if args.quick else FULL
    given = {
        "settle_s": args.settle,
        "window_s": args.window,
        "duration_s": args.duration,
        "max_cameras": args.max_cameras or args.cameras,
        "profile_s": args.profile_seconds,
    }
    return replace(base, **{k: v for k, v in given.items() if v is not None})


class Bench:
    """The running set-up, and the readings taken from it."""

    def __init__(self, stack: ExitStack, args: argparse.Namespace, timing: Timing) -> None:
        self.args, self.timing = args, timing
        needs_lane = any(is_lane(i, args.lane_every) for i in range(timing.max_cameras))
        streams = prepare(args.cache, needs_lane, not args.no_lane_model, args.size)
        database = stack.enter_context(fresh_database())
        broker = stack.enter_context(private_broker())
        self.tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sysbench-")))
        site = bench_site(args.patrols, self.tmp / "data")
        self.plan = CameraPlan(streams, args.lane_every, _free_port(), city_side(args.patrols))
        self.server = ClipServer(self.plan, timing.max_cameras, self.tmp / "rtsp.json")
        stack.callback(self.server.stop)
        self.hub = HubProcess(site, database, broker, self.tmp / "hub.log")
        stack.callback(self.hub.stop)
        self.devices = PatrolDevices(site, broker)
        stack.callback(self.devices.stop)
        self.pool = ConnectionPool(database, min_size=1, max_size=3, open=True)
        stack.callback(self.pool.close)
        self.operator = Operator(self.pool, lambda: datetime.now(UTC))
        self.operator.start()
        stack.callback(self.operator.stop)
        with self.pool.connection() as conn:
            self.table = CameraTable(self.pool, self.plan, grid_index(list_grids(conn)))
        self.database = database
        self.baseline_rss = 0
        self.memory: dict[str, list[int]] = {"thrown_object": [], "fire_lane": []}

    def reading(self) -> tuple[Any, ServerReading]:
        mono, sent = self.server.sent()
        return self.hub.sample(), ServerReading(mono, sent)

    def window(self, seconds: float) -> Window:
        before = self.reading()
        time.sleep(seconds)
        return judge(before, self.reading(), self.kinds())

    def kinds(self) -> dict[str, tuple[str, float, float]]:
        return {
            camera_id(i): (self.plan.kind_of(i), STREAM_FPS,
                           LANE_FPS if is_lane(i, self.args.lane_every) else THROWN_FPS)
            for i in range(self.table.count)
        }  # fmt: skip

    def add_camera(self, timeout_s: float = 60.0) -> None:
        """Add the next camera and wait until the hub analyses its frames."""
        camera = self.table.add()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            health = self.hub.sample().cameras.get(camera.id)
            if health and health["state"] == "online" and health["frames_analysed"] > 0:
                return
            time.sleep(0.5)
        say(f"  {camera.id} did not come online in {timeout_s:g} s (see {self.tmp}/hub.log)")

    def mix(self) -> str:
        lanes = sum(is_lane(i, self.args.lane_every) for i in range(self.table.count))
        return f"{self.table.count - lanes} thrown-object, {lanes} fire-lane"


def search(bench: Bench) -> int:
    """Add cameras until a load is not real time (twice); return the largest that was."""
    timing, best = bench.timing, 0
    say(f"search: add a camera, wait {timing.settle_s:g} s, judge {timing.window_s:g} s")
    rss = bench.reading()[0].rss_bytes
    while bench.table.count < timing.max_cameras:
        bench.add_camera()
        kind = bench.plan.kind_of(bench.table.count - 1)
        time.sleep(timing.settle_s)
        window = bench.window(timing.window_s)
        say(step_line(bench.table.count, bench.mix(), window))
        if not window.real_time:
            window = bench.window(timing.window_s)
            say("  again: " + step_line(bench.table.count, bench.mix(), window).strip())
        if not window.real_time:
            bench.table.remove_last()
            return best
        best = bench.table.count
        bench.memory[kind].append(window.rss_bytes - rss)
        rss = window.rss_bytes
    say(f"  (stopped at --max-cameras {timing.max_cameras}: the box may run more)")
    return best


@dataclass
class Measurement:
    window: Window
    events: list[Any]
    generators: dict[str, float]
    alerts: dict[str, float]
    cases_closed: int
    cases_rejected: int
    fixes_published_per_s: float


def measure(bench: Bench, seconds: float) -> Measurement:
    generators = load_generators(bench)
    bench.devices.arrivals()  # what arrived before the window does not count
    closed, rejected = bench.operator.closed, bench.operator.rejected
    published = bench.devices.published()
    before = bench.reading()
    time.sleep(seconds)
    after = bench.reading()
    published = bench.devices.published() - published
    arrivals = bench.devices.arrivals()
    window = judge(before, after, bench.kinds())
    alerts = {k: after[0].counters.get(k, 0) - before[0].counters.get(k, 0)
              for k in after[0].counters if k.startswith("alerts_")}  # fmt: skip
    return Measurement(window, latencies(bench.pool, arrivals), generators.percent(),
                       alerts, bench.operator.closed - closed,
                       bench.operator.rejected - rejected, published / window.seconds)  # fmt: skip


def load_generators(bench: Bench) -> ProcessCpu:
    """What stands in for the world on the same cores: server, devices, broker, database."""
    dbname = bench.database.rsplit("=", 1)[-1]
    return ProcessCpu({
        "RTSP server": [bench.server.process.pid],
        "patrol devices": [bench.devices.pid],
        "Mosquitto": [p.pid for p in psutil.Process().children() if p.name() == "mosquitto"],
        "PostgreSQL backends of this database": [
            p.pid for p in psutil.process_iter(["cmdline"])
            if dbname in " ".join(p.info["cmdline"] or [])
        ],
    })  # fmt: skip


def profile(bench: Bench, seconds: float) -> list[str]:
    if seconds <= 0:
        return ["  skipped (--profile-seconds 0)"]
    py_spy = system_profile.find_py_spy()
    if py_spy is None:
        return ["  skipped: py-spy is not installed (pip install py-spy)"]
    out = bench.tmp / "profile.txt"
    before = bench.hub.sample()
    try:
        system_profile.record(py_spy, bench.hub.pid, seconds, out)
    except (RuntimeError, OSError) as exc:
        return [f"  skipped: {exc}"]
    after = bench.hub.sample()
    cpu = 100 * (after.cpu_s - before.cpu_s) / (after.mono - before.mono)
    summary = system_profile.summarise(out)
    head = (
        f"  py-spy, {seconds:g} s at 100 Hz: {summary.samples} samples of busy hub threads; "
        f"the hub used {cpu:.0f} % of a core meanwhile, shared out below by the samples"
    )
    return [head, *system_profile.report(summary, cpu)]


def report(bench: Bench, n: int, found: bool, m: Measurement) -> dict[str, Any]:
    w, args = m.window, bench.args
    say("")
    say(f"{'largest real-time load' if found else 'load measured'}: N={n} cameras "
        f"({bench.mix()}) with M={args.patrols} patrols at 1 fix/s")  # fmt: skip
    say(f"at that load, {w.seconds:.0f} s: {w.verdict()}")
    for line in latency_lines(m.events):
        say(line)
    say(f"  alerts: {_counts(m.alerts)}; cases closed by the operator {m.cases_closed}, "
        f"rejected (no patrol) {m.cases_rejected}")  # fmt: skip
    say(
        f"  fixes ingested: {w.fixes_per_s:,.0f}/s of {m.fixes_published_per_s:,.0f}/s published "
        f"by the {args.patrols:,} patrols (positions written {w.positions_per_s:,.0f}/s)"
    )
    for line in footprint_lines(bench, n, m):
        say(line)
    return {"cameras": n, "found": found, "mix": bench.mix(), "patrols": args.patrols,
            "window": {"seconds": w.seconds, "real_time": w.real_time,
                       "hub_cpu_percent": w.hub_cpu_percent, "rss_bytes": w.rss_bytes,
                       "fixes_per_s": w.fixes_per_s,
                       "fixes_published_per_s": m.fixes_published_per_s},
            "latency_ms": [asdict(e) for e in m.events], "alerts": m.alerts,
            "cpu_by_kind": cpu_by_kind(w), "load_generators": m.generators}  # fmt: skip


def footprint_lines(bench: Bench, n: int, m: Measurement) -> list[str]:
    """CPU and memory of the hub, per camera kind, and of the load generators."""
    w = m.window
    lines = [
        f"  hub process: CPU {w.hub_cpu_percent:.0f} % of a core ({w.hub_cpu_percent / n:.0f} % "
        f"per camera), RSS {mib(w.rss_bytes)} ({mib(bench.baseline_rss)} before any camera)"
    ]
    if not any(bench.memory.values()):
        added = (w.rss_bytes - bench.baseline_rss) / n
        lines.append(f"  RSS added by the cameras: {mib(added)} per camera (with their libraries)")
    for kind, (cpu, decode, count) in cpu_by_kind(w).items():
        memory = _memory(bench.memory.get(kind) or [])
        lines.append(
            f"  per {kind} camera ({count}): CPU {cpu:.0f} % of a core "
            f"(decode thread {decode:.0f} %, analysis thread {cpu - decode:.0f} %){memory}"
        )
    lines.append(f"  other hub threads: {other_threads(w)}")
    generators = ", ".join(f"{k} {v:.0f} %" for k, v in m.generators.items())
    lines.append(f"  load generators on the same cores: {generators}")
    return lines


def _memory(added: list[int]) -> str:
    """RSS added per camera of a kind during the search (the first also loads libraries)."""
    if not added:
        return ""
    text = f"; RSS +{mib(added[0])} for the first (with its libraries)"
    if len(added) > 1:
        text += f", +{mib(sum(added[1:]) / len(added[1:]))} for each further one"
    return text


def _counts(counts: dict[str, float]) -> str:
    return ", ".join(f"{k.removeprefix('alerts_')} {v:.0f}" for k, v in sorted(counts.items()))


def run(args: argparse.Namespace) -> dict[str, Any]:
    timing = timing_of(args)
    say(f"gridhub system benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, load average {_load()} at start")  # fmt: skip
    with ExitStack() as stack:
        bench = Bench(stack, args, timing)
        time.sleep(max(3.0, timing.settle_s / 2))  # every patrol has reported and is on duty
        bench.baseline_rss = bench.reading()[0].rss_bytes
        if args.cameras:
            for _ in range(args.cameras):
                bench.add_camera()
            n, found = args.cameras, False
        else:
            n = search(bench)
            found = n > 0
            if n == 0:
                say("  not even one camera ran in real time; measuring at N=1")
                bench.add_camera()
                n = 1
        time.sleep(timing.settle_s)
        figures = report(bench, n, found, measure(bench, timing.duration_s))
        say(f"where the hub's time goes at N={n}:")
        for line in profile(bench, timing.profile_s):
            say(line)
        say(f"load average {_load()} at the end (other work on the machine shows here)")
    return figures


def _size(text: str) -> Size:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected WIDTHxHEIGHT") from None


def _load() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures = run(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

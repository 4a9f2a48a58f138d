"""Where the hub's time goes: py-spy samples of the hub process, grouped by what they do.

py-spy (a sampling profiler from PyPI: `pip install py-spy`) attaches to the
running hub from outside, so the hub runs unmodified, and records the stacks of
its busy threads (idle ones are not sampled, so the samples are CPU time).
Each stack is put in one group:

- **evidence encode**, **detect**, **DB** — the stack passes through the evidence
  code (ring buffer JPEGs, snapshots, clips), a detector, or psycopg, wherever
  the frame is in the stack;
- otherwise the innermost frame that says what it is: **decode** (PyAV demux and
  decode), **convert** (a decoded picture to BGR for the detectors), **MQTT** (paho),
  **patrol ingest** (parse, validate, index a fix), **cases & dispatch**,
  **camera worker** (the worker's own loop), or **other**.

For each group it lists the functions with the most samples inside them
(inclusive, "cumulative"), counted once per stack. On a machine with more
runnable threads than cores, py-spy also counts threads waiting for a core, so
the samples add up to more than the CPU the hub used: the groups are shares of
the samples, scaled to the hub's measured CPU.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

Marks = tuple[tuple[str, tuple[str, ...]], ...]
OWNERS: Marks = (  # anywhere in the stack
    ("evidence encode", ("/hub/cameras/evidence.py", "/hub/cameras/media.py")),
    ("detect", ("/detectors/", "/onnxruntime/", "/ultralytics/")),
    ("DB", ("/psycopg/", "/psycopg_pool/", "/hub/storage/")),
)
LEAVES: Marks = (  # the innermost frame that matches
    ("convert", ("_Convert.__call__",)),
    ("decode", ("/adapters/",)),
    ("MQTT", ("/paho/", "/hub/infra/mqtt.py")),
    (
        "patrol ingest",
        (
            "/hub/patrols/ingest.py",
            "/hub/patrols/payloads.py",
            "/hub/patrols/index.py",
            "/hub/patrols/writer.py",
        ),
    ),  # fmt: skip
    ("cases & dispatch", ("/hub/cases/", "/hub/dispatch/")),
    ("camera worker", ("/hub/cameras/",)),
)
GROUPS = [name for name, _ in OWNERS] + [name for name, _ in LEAVES] + ["other"]
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*):\d+\)$")


@dataclass
class Profile:
    """Samples per group, and per group the functions' inclusive sample counts."""

    samples: int = 0
    groups: Counter[str] = field(default_factory=Counter)
    functions: dict[str, Counter[str]] = field(default_factory=dict)
    threads: Counter[str] = field(default_factory=Counter)
    waiting: int = 0  # samples caught in a wait, which py-spy took for busy


def find_py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def record(py_spy: str, pid: int, seconds: float, out: Path, rate: int = 100) -> None:
    """Sample `pid` for `seconds` into a collapsed-stack file (raises with py-spy's reason)."""
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
               "--rate", str(rate), "--format", "raw", "--full-filenames", "--threads",
               "--nonblocking", "--output", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or not out.is_file():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"py-spy failed: {reason}")


def summarise(collapsed: Path) -> Profile:
    profile = Profile()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        thread, *frames = stack.split(";")
        parsed = [m.groupdict() for f in frames if (m := FRAME.match(f))]
        n = int(count)
        if parsed and _waiting(parsed[-1]):
            profile.waiting += n
            continue
        group = classify(parsed)
        profile.samples += n
        profile.groups[group] += n
        profile.threads[thread_kind(thread)] += n
        inside = profile.functions.setdefault(group, Counter())
        for name in {_short(f) for f in parsed if _belongs(f, group)}:
            inside[name] += n
    return profile


def _waiting(leaf: dict[str, str]) -> bool:
    return leaf["func"].endswith(("wait", "Queue.get", "sleep")) and (
        leaf["file"].endswith(("/threading.py", "/queue.py", "/_acompat.py"))
    )


def classify(frames: list[dict[str, str]]) -> str:
    for name, marks in OWNERS:
        if any(_matches(f, marks) for f in frames):
            return name
    for frame in reversed(frames):
        for name, marks in LEAVES:
            if _matches(frame, marks):
                return name
    return "other"


def _matches(frame: dict[str, str], marks: tuple[str, ...]) -> bool:
    return any(mark in frame["file"] or mark == frame["func"] for mark in marks)


def _belongs(frame: dict[str, str], group: str) -> bool:
    marks = dict(OWNERS + LEAVES).get(group)
    if marks is None:
        return "/threading.py" not in frame["file"]
    return _matches(frame, marks)


def _short(frame: dict[str, str]) -> str:
    path = frame["file"]
    for root in ("/site-packages/", f"{os.getcwd()}/"):
        if root in path:
            path = path.split(root, 1)[1]
    return f"{frame['func']} ({path})"


def thread_kind(thread: str) -> str:
    """'thread (123): cam-CAM003-decode' -> 'camera decode'."""
    name = thread.split(": ", 1)[1] if ": " in thread else thread
    if name.startswith("cam-"):
        return f"camera {name.rsplit('-', 1)[1]}"
    return re.sub(r"-gridhub-[0-9a-f]+$|[-_]?\d+$", "", name) or "unnamed"


def report(profile: Profile, cpu_percent: float, top: int = 4) -> list[str]:
    """Each group's share of the samples, and of the hub's CPU (% of one core)."""
    if not profile.samples:
        return ["  no samples (was the hub idle?)"]
    lines = []
    for group in GROUPS:
        n = profile.groups.get(group, 0)
        share = n / profile.samples
        if share < 0.005:
            continue
        lines.append(f"  {group:<17} {100 * share:5.1f} % of the samples, "
                     f"~{share * cpu_percent:.0f} % of a core")  # fmt: skip
        for name, count in profile.functions.get(group, Counter()).most_common(top):
            lines.append(f"      {100 * count / profile.samples:5.1f} %  {name}")
    by_thread = ", ".join(
        f"{name} {100 * n / profile.samples:.0f} %" for name, n in profile.threads.most_common(8)
    )
    lines.append(f"  by thread: {by_thread}")
    return lines

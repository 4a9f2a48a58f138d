"""Scores of an evaluation run: recall, precision, false alarms, floors, latency, CPU.

`summarise` turns a `RunResult` into a JSON-ready dict; `render_table` prints
it for a person. Targets of issue #5 are checked here so that the report says
plainly which are met.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evaluation.thrown_object.scoring import ClipResult, RunResult
from evaluation.thrown_object.sidecar import ThrowEvent

TARGETS = {
    "recall_qualifying": 0.95,
    "precision": 0.95,
    "floor_exact": 0.90,
    "floor_within_1": 0.98,
    "latency_max_s": 1.0,
    "false_alarms_per_camera_day": 1.0,
}


def summarise(run: RunResult) -> dict[str, Any]:
    """All figures of a run, overall and per clip."""
    clips = run.clips
    events = [(c, i, e) for c in clips for i, e in enumerate(c.truth.events)]
    hits = {(c.clip, a.event): a for c in clips for a in c.alerts if a.event is not None}
    found = [(c, i, e, hits[(c.clip, i)]) for c, i, e in events if (c.clip, i) in hits]
    alerts = sum(len(c.alerts) for c in clips)
    quiet = [c for c in clips if not c.truth.events]
    quiet_hours = sum(c.frames / c.truth.fps for c in quiet) / 3600
    quiet_alarms = sum(len(c.alerts) for c in quiet)
    qualifying = [(c, i) for c, i, e in events if e.qualifying]
    floors = [a.floor - e.floor for _c, _i, e, a in found]
    latency = [a.confirmed_s - e.end_s for _c, _i, e, a in found]
    summary: dict[str, Any] = {
        "clips": len(clips),
        "clips_failed": len(run.errors),
        "throws": len(events),
        "throws_qualifying": len(qualifying),
        "detected": len(found),
        "recall": _share(len(found), len(events)),
        "recall_qualifying": _share(
            sum((c.clip, i) in hits for c, i in qualifying), len(qualifying)
        ),
        "alerts": alerts,
        "false_alarms": alerts - len(found),
        "precision": _share(len(found), alerts),
        "no_event_clips": len(quiet),
        "no_event_hours": round(quiet_hours, 4),
        "false_alarms_no_event_clips": quiet_alarms,
        "false_alarms_per_camera_hour": round(quiet_alarms / quiet_hours, 2)
        if quiet_hours
        else None,
        **_floors_and_latency(floors, latency),
        "detector_cpu_ms_per_frame": _per_frame(clips, "detector_cpu_s"),
        "decode_cpu_ms_per_frame": _per_frame(clips, "decode_cpu_s"),
    }
    summary["targets"] = targets(summary)
    return {
        "summary": summary,
        "recall_by_lighting": _recall_by(found, events, lambda c, e: c.truth.lighting),
        "recall_by_shape": _recall_by(found, events, lambda c, e: e.shape),
        "clips": [clip_row(c) for c in clips],
        "errors": run.errors,
    }


def _floors_and_latency(floors: list[int], latency: list[float]) -> dict[str, Any]:
    """Origin-floor accuracy and alert latency of the detected throws."""
    return {
        "floor_exact": _share(sum(d == 0 for d in floors), len(floors)),
        "floor_within_1": _share(sum(abs(d) <= 1 for d in floors), len(floors)),
        "latency_mean_s": _stat(latency, np.mean),
        "latency_p95_s": _stat(latency, lambda v: np.percentile(v, 95)),
        "latency_max_s": _stat(latency, np.max),
    }


def targets(summary: dict[str, Any]) -> dict[str, str]:
    """Which of the issue's targets this run meets ('met', 'not met', 'not measurable')."""
    out = {}
    for name, goal in TARGETS.items():
        if name == "false_alarms_per_camera_day":
            hours, alarms = summary["no_event_hours"], summary["false_alarms_no_event_clips"]
            if alarms > 0:
                out[name] = f"not met ({alarms} false alarms in {hours * 60:.1f} min)"
            else:
                out[name] = f"not measurable: 0 alarms in {hours * 60:.1f} min (a day needs 24 h)"
            continue
        value = summary.get(name)
        if value is None:
            out[name] = "not measurable"
        elif name == "latency_max_s":
            out[name] = "met" if value <= goal else "not met"
        else:
            out[name] = "met" if value >= goal else "not met"
    return out


def clip_row(clip: ClipResult) -> dict[str, Any]:
    return {
        "clip": clip.clip,
        "source": clip.truth.source,
        "lighting": clip.truth.lighting,
        "events": [e.model_dump(mode="json") for e in clip.truth.events],
        "distractors": sorted({d.kind for d in clip.truth.distractors}),
        "alerts": [
            {
                "confirmed_s": a.confirmed_s,
                "floor": a.floor,
                "floor_confidence": a.floor_confidence,
                "event": a.event,
            }
            for a in clip.alerts
        ],
        "frames": clip.frames,
        "detector_ms_per_frame": round(1000 * clip.detector_cpu_s / clip.frames, 3),
    }


def _recall_by(
    found: list[Any], events: list[Any], key: Callable[[ClipResult, ThrowEvent], str]
) -> dict[str, float | None]:
    """Recall per group of throws (e.g. lighting, shape)."""
    totals: dict[str, int] = {}
    hits: dict[str, int] = {}
    for clip, _index, event in events:
        totals[key(clip, event)] = totals.get(key(clip, event), 0) + 1
    for clip, _index, event, _alert in found:
        hits[key(clip, event)] = hits.get(key(clip, event), 0) + 1
    return {group: _share(hits.get(group, 0), total) for group, total in sorted(totals.items())}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _stat(values: list[float], how: Any) -> float | None:
    return round(float(how(np.asarray(values))), 3) if values else None


def _per_frame(clips: list[ClipResult], attribute: str) -> float | None:
    frames = sum(c.frames for c in clips)
    return round(1000 * sum(getattr(c, attribute) for c in clips) / frames, 3) if frames else None


def render_table(report: dict[str, Any]) -> str:
    """The summary as aligned text lines."""
    summary = report["summary"]
    lines = [f"{key:32} {value}" for key, value in summary.items() if key != "targets"]
    for group in ("recall_by_lighting", "recall_by_shape"):
        lines.append(f"{group:32} {report[group]}")
    lines.append("targets:")
    lines.extend(f"  {key:30} {value}" for key, value in summary["targets"].items())
    if report["errors"]:
        lines.append("clips that could not be evaluated:")
        lines.extend(f"  {name}: {why}" for name, why in report["errors"].items())
    return "\n".join(lines)

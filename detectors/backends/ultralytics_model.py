"""The ultralytics backend: any YOLO weights file, run in torch with ultralytics' NMS.

The network is ultralytics' own (`YOLO(path).model`, Conv+BN fused as its
predictor does); pre-processing is the shared letterbox so both backends see the
same tensor. ultralytics' predictor loop is not used: its warm-up imports
torchvision, whose PyPI build does not load beside the CPU build of torch this
project installs (docs/fire-lane.md, "Install").
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from detectors.backends.base import Image, ModelSettings
from detectors.backends.yolo_format import letterbox, to_detections
from detectors.detections import Detections
from hub.errors import ModelError


def quiet_ultralytics() -> None:
    """No update checks, downloads or settings in the user's home: sites are offline."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")


@dataclass
class UltralyticsModel:
    """An `ObjectModel` on an ultralytics `DetectionModel` in torch."""

    net: Any  # ultralytics.nn.tasks.DetectionModel (untyped third-party)
    names: Mapping[int, str]
    imgsz: int
    confidence: float
    iou: float

    @classmethod
    def open(cls, settings: ModelSettings) -> UltralyticsModel:
        quiet_ultralytics()
        import torch
        from ultralytics import YOLO

        torch.set_num_threads(settings.threads)
        try:
            yolo = YOLO(str(settings.weights), task="detect")
        except Exception as exc:  # ultralytics raises many kinds for a bad file
            raise ModelError(
                f"model weights {settings.weights}: not a usable YOLO model: {exc}"
            ) from exc
        if not hasattr(yolo.model, "fuse"):
            raise ModelError(f"model weights {settings.weights}: not a usable YOLO model")
        net = yolo.model.float().fuse().eval()
        names = {int(k): str(v) for k, v in yolo.names.items()}
        return cls(net, names, settings.imgsz, settings.confidence, settings.iou)

    @classmethod
    def from_yolo(
        cls, yolo: Any, imgsz: int, confidence: float = 0.25, iou: float = 0.45
    ) -> UltralyticsModel:
        """Wrap an in-memory `ultralytics.YOLO` (e.g. built from a yaml in tests)."""
        names = {int(k): str(v) for k, v in yolo.names.items()}
        return cls(yolo.model.float().fuse().eval(), names, imgsz, confidence, iou)

    def detect(self, images: Sequence[Image]) -> list[Detections]:
        import torch
        from ultralytics.utils.nms import non_max_suppression

        results = []
        for image in images:
            tensor, box = letterbox(image, self.imgsz)
            with torch.inference_mode():
                output = self.net(torch.from_numpy(tensor))
                pred = output[0] if isinstance(output, tuple | list) else output
                (kept,) = non_max_suppression(pred, self.confidence, self.iou)
            rows = kept.numpy()
            results.append(to_detections(rows[:, :4], rows[:, 4], rows[:, 5].astype("int64"), box))
        return results

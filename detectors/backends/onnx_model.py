"""The onnxruntime backend: a YOLO model exported to ONNX, with numpy pre/post-processing.

Runs what `gridhub model export` (ultralytics' exporter) writes: input
``images`` 1 x 3 x S x S, output 1 x (4 + classes) x anchors. Class names come
from the metadata ultralytics stores in the file.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from detectors.backends.base import Image, ModelSettings
from detectors.backends.yolo_format import decode, letterbox, to_detections
from detectors.detections import Detections
from hub.errors import ModelError


@dataclass
class OnnxModel:
    """An `ObjectModel` on an onnxruntime CPU session."""

    session: ort.InferenceSession
    names: Mapping[int, str]
    imgsz: int
    confidence: float
    iou: float

    @classmethod
    def open(cls, settings: ModelSettings) -> OnnxModel:
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(settings.weights), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(
                f"model weights {settings.weights}: not a usable ONNX model: {exc}"
            ) from exc
        shape = session.get_inputs()[0].shape
        fixed = shape[2] if isinstance(shape[2], int) else None
        if fixed is not None and fixed != settings.imgsz:
            raise ModelError(
                f"model weights {settings.weights}: exported for imgsz {fixed}, "
                f"configured imgsz is {settings.imgsz}"
            )
        names = _names(session)
        return cls(session, names, settings.imgsz, settings.confidence, settings.iou)

    def detect(self, images: Sequence[Image]) -> list[Detections]:
        input_name = self.session.get_inputs()[0].name
        results = []
        for image in images:
            tensor, box = letterbox(image, self.imgsz)
            (output,) = self.session.run(None, {input_name: tensor})[:1]
            boxes, scores, classes = decode(
                np.asarray(output[0], dtype=np.float32), self.confidence, self.iou
            )
            results.append(to_detections(boxes, scores, classes, box))
        return results


def _names(session: ort.InferenceSession) -> dict[int, str]:
    meta = session.get_modelmeta().custom_metadata_map
    if "names" in meta:
        parsed = ast.literal_eval(meta["names"])
        return {int(k): str(v) for k, v in parsed.items()}
    classes = int(session.get_outputs()[0].shape[1]) - 4
    return {i: str(i) for i in range(classes)}

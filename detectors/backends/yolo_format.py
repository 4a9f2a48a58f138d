"""YOLO input and output in numpy: letterbox, decoding and class-aware NMS.

Both backends feed the network the same letterboxed tensor (`letterbox`), so
the same weights give the same boxes whichever runs them. The onnxruntime
backend also decodes and suppresses here (`decode`), vectorised in numpy; the
ultralytics backend uses ultralytics' own NMS, which makes the agreement test
a real cross-check.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from detectors.detections import Detections

PAD_VALUE = 114
MAX_WH = 7680.0  # class offset for class-aware NMS, as ultralytics does


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was scaled and padded into the network's square input."""

    scale: float
    pad_x: float
    pad_y: float
    width: int
    height: int

    def to_image(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map xyxy boxes from network input pixels back to the original image."""
        out = boxes.copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.height)
        return out


def letterbox(image: npt.NDArray[np.uint8], size: int) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """BGR image → 1 x 3 x size x size RGB float tensor in 0..1, and the mapping back."""
    h, w = image.shape[:2]
    scale = min(size / h, size / w)
    new_w, new_h = round(w * scale), round(h * scale)
    pad_x, pad_y = (size - new_w) / 2, (size - new_h) / 2
    resized = image if (new_w, new_h) == (w, h) else cv2.resize(image, (new_w, new_h))
    top, left = round(pad_y - 0.1), round(pad_x - 0.1)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor), Letterbox(scale, left, top, w, h)


def decode(
    output: npt.NDArray[np.float32], conf: float, iou: float, max_det: int = 300
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """One image's raw head output (4 + classes) x anchors → kept boxes, scores, classes."""
    pred = output.T  # anchors x (4 + nc)
    class_scores = pred[:, 4:]
    classes = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(pred)), classes]
    keep = scores > conf
    xywh, scores, classes = pred[keep, :4], scores[keep], classes[keep]
    boxes = np.empty_like(xywh)
    boxes[:, :2] = xywh[:, :2] - xywh[:, 2:] / 2
    boxes[:, 2:] = xywh[:, :2] + xywh[:, 2:] / 2
    kept = nms(boxes + (classes * MAX_WH)[:, None], scores, iou)[:max_det]
    return boxes[kept], scores[kept], classes[kept].astype(np.int64)


def nms(
    boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou: float
) -> npt.NDArray[np.int64]:
    """Greedy non-maximum suppression; indices of kept boxes, best first."""
    order = scores.argsort()[::-1]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        kept.append(int(best))
        xy1 = np.maximum(boxes[best, :2], boxes[rest, :2])
        xy2 = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        inter = np.prod((xy2 - xy1).clip(0), axis=1)
        overlap = inter / (areas[best] + areas[rest] - inter + 1e-9)
        order = rest[overlap <= iou]
    return np.asarray(kept, dtype=np.int64)


def to_detections(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    classes: npt.NDArray[np.int64],
    box: Letterbox,
) -> Detections:
    return Detections.of(box.to_image(boxes.astype(np.float32)), scores, classes)

"""Both object-detection backends on the same weights, through `gridhub model export`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from detectors.backends.base import ModelSettings, load_model
from detectors.backends.onnx_model import OnnxModel
from detectors.backends.ultralytics_model import UltralyticsModel
from detectors.backends.yolo_format import letterbox
from hub.cli import main
from hub.errors import ModelError
from tests.detect_support import person_weights, vtest_frames


def test_yaml_built_model_exports_and_both_backends_compute_the_same(tmp_path: Path) -> None:
    import torch
    from ultralytics import YOLO

    torch.manual_seed(0)
    weights = tmp_path / "tiny.pt"
    YOLO("yolo11n.yaml").save(weights)
    assert (
        main(
            [
                "model",
                "export",
                str(weights),
                "--imgsz",
                "160",
                "--out",
                str(tmp_path / "tiny.onnx"),
            ]
        )
        == 0
    )
    torch_model = load_model(ModelSettings(backend="ultralytics", weights=weights, imgsz=160))
    onnx_model = load_model(ModelSettings(weights=tmp_path / "tiny.onnx", imgsz=160))
    assert isinstance(torch_model, UltralyticsModel) and isinstance(onnx_model, OnnxModel)
    assert torch_model.names == onnx_model.names and len(onnx_model.names) == 80
    tensor, _ = letterbox(vtest_frames([0])[0], 160)
    with torch.inference_mode():
        from_torch = torch_model.net(torch.from_numpy(tensor))[0].numpy()
    (from_onnx,) = onnx_model.session.run(None, {"images": tensor})
    assert from_torch.shape == from_onnx.shape == (1, 84, 525)
    np.testing.assert_allclose(from_torch, from_onnx, atol=1e-3)
    assert "torchvision" not in sys.modules


@pytest.mark.slow
def test_person_weights_give_the_same_boxes_on_both_backends(tmp_path: Path) -> None:
    weights = tmp_path / "person.pt"
    shutil.copy(person_weights(".pt"), weights)
    assert main(["model", "export", str(weights), "--imgsz", "320"]) == 0
    torch_model = load_model(
        ModelSettings(backend="ultralytics", weights=weights, imgsz=320, confidence=0.1)
    )
    onnx_model = load_model(
        ModelSettings(weights=tmp_path / "person.onnx", imgsz=320, confidence=0.1)
    )
    frames = vtest_frames([80, 160])
    boxes = 0
    for a, b in zip(torch_model.detect(frames), onnx_model.detect(frames), strict=True):
        assert len(a) == len(b)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1.0)
        np.testing.assert_allclose(a.scores, b.scores, atol=2e-3)
        assert a.classes.tolist() == b.classes.tolist()
        boxes += len(a)
    assert boxes >= 2


def test_real_person_boxes_on_real_footage() -> None:
    model = load_model(ModelSettings(weights=person_weights(".onnx"), imgsz=640, confidence=0.3))
    (dets,) = model.detect(vtest_frames([80]))
    people = dets[dets.classes == 0]  # "Normal": an upright person
    heights = people.boxes[:, 3] - people.boxes[:, 1]
    widths = people.boxes[:, 2] - people.boxes[:, 0]
    # Five people walk on the road in this frame, each about 70-90 px tall.
    assert len(people) >= 4
    assert ((heights > 50) & (heights < 120) & (heights > 1.3 * widths)).all()
    assert ((people.boxes[:, 1] > 120) & (people.boxes[:, 3] < 300)).all()


@pytest.mark.parametrize("backend", ["onnxruntime", "ultralytics"])
def test_a_missing_weights_file_names_the_file(tmp_path: Path, backend: str) -> None:
    missing = tmp_path / "site-model.onnx"
    with pytest.raises(ModelError, match=r"site-model\.onnx: no such file"):
        load_model(ModelSettings(backend=backend, weights=missing))


@pytest.mark.parametrize("backend", ["onnxruntime", "ultralytics"])
def test_a_corrupt_weights_file_is_a_model_error(tmp_path: Path, backend: str) -> None:
    broken = tmp_path / "broken.bin"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"broken\.bin: not a usable"):
        load_model(ModelSettings(backend=backend, weights=broken))


def test_model_export_of_a_missing_file_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "export", str(tmp_path / "nope.pt")]) == 2
    assert "nope.pt: no such file" in capsys.readouterr().err

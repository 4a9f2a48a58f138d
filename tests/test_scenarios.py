"""Scenario lookup: camera alerts by their detector plugin's declaration, sensors by config."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.alerts.scenarios import ScenarioBook
from hub.config import Scenario, load_site
from hub.model import Alert
from hub.plugins import load_registry
from hub.seams import DetectorScenario
from tests.conftest import DEMO_CONFIG

CAMERA_SMOKE = DetectorScenario("smoke", "画面烟雾{region}", "Smoke seen in {region}", severity=2)
NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _alert(kind: str, camera: str | None = None, sensor: str | None = None) -> Alert:
    return Alert(kind, NOW, NOW, 0.9, camera_id=camera, sensor_id=sensor, region="A栋")


def test_a_camera_detector_named_smoke_keeps_its_own_scenario() -> None:
    book = ScenarioBook(load_site(DEMO_CONFIG), {"smoke": CAMERA_SMOKE})
    camera, sensor = _alert("smoke", camera="CAM-1"), _alert("smoke", sensor="SM-1")
    assert (book.for_alert(camera).severity, book.for_alert(sensor).severity) == (2, 4)
    assert book.for_alert(sensor).auto_dispatch_confidence == 0.0
    assert book.for_alert(camera).auto_dispatch_confidence is None
    title = book.title(camera)
    assert (title.zh, title.en) == ("画面烟雾A栋", "Smoke seen in A栋")
    assert book.title(sensor).zh == "烟感报警"


def test_built_in_detectors_declare_what_config_used_to_hard_code() -> None:
    site = load_site(DEMO_CONFIG).model_copy(update={"scenarios": {}})
    book = ScenarioBook.of(site, load_registry(["gridhub.detectors"]))
    expected = {"thrown_object": ("高空抛物", 3, 0.9), "fire_lane": ("消防通道占用", 2, None),
                "intrusion": ("区域入侵", 3, None), "crowding": ("人员聚集", 2, None),
                "loitering": ("徘徊逗留", 1, None), "line_crossing": ("越线", 2, None)}  # fmt: skip
    for kind, want in expected.items():
        rules = book.rules(kind, camera=True)
        assert (rules.title, rules.severity, rules.auto_dispatch_confidence) == want
    assert book.rules("camera_offline", camera=True).dispatch is False


def test_the_site_file_overrides_a_declared_scenario() -> None:
    site = load_site(DEMO_CONFIG)
    site = site.model_copy(update={"scenarios": {"smoke": Scenario(title="烟", severity=1)}})
    book = ScenarioBook(site, {"smoke": CAMERA_SMOKE})
    assert book.for_alert(_alert("smoke", camera="CAM-1")).severity == 1
    assert book.title(_alert("smoke", camera="CAM-1")).zh == "烟"

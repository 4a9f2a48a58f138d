"""The contract every registered `gridhub.detectors` plugin keeps (hub.testing.contracts)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from hub.clock import Clock, FakeClock
from hub.config import Camera, DetectorSpec
from hub.errors import ConfigError
from hub.plugins import DETECTORS, load_registry
from hub.seams import Detector, DetectorScenario
from hub.testing.contracts import (
    ContractViolation,
    check_detector_declarations,
    check_detector_plugin,
)
from tests.detect_support import person_weights

PLUGINS = load_registry([DETECTORS]).all(DETECTORS)


def _site_supplied(name: str) -> dict[str, object]:
    """What a site supplies that no plugin can default: the weights of its object model
    (the zone rules need one; the test weights know one class, "Normal")."""
    settings = PLUGINS[name].settings
    model = settings.model_fields.get("model")
    if model is None or not model.is_required():
        return {}
    return {"model": {"weights": str(person_weights(".onnx"))}, "classes": ["Normal"]}


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_plugin_kind_is_its_entry_point_name(name: str) -> None:
    assert PLUGINS[name].kind == name


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_plugin_declares_its_scenario_and_settings(name: str) -> None:
    plugin = check_detector_declarations(PLUGINS[name], name)
    assert plugin.scenario.kind == name and plugin.scenario.title_zh


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_plugin_keeps_the_whole_contract(name: str) -> None:
    check_detector_plugin(PLUGINS[name], name, _site_supplied(name))


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_an_unknown_setting_is_a_config_error_naming_the_detector(name: str) -> None:
    camera = Camera.model_validate(
        {
            "id": "CAM-X",
            "name": "x",
            "url": "file:///x.avi",
            "location": {"lat": 30.0, "lon": 120.0},
            "zones": [{"id": "z", "kind": "polygon", "points": [[0, 0], [1, 0], [1, 1]]}],
            "detectors": [{"kind": name, "zones": ["z"], "no_such_setting": 1}],
        }
    )
    with pytest.raises(ConfigError, match=rf"cameras\[CAM-X\]\.detectors\[{name}\]"):
        PLUGINS[name].build(camera, camera.detectors[0], FakeClock())


class _LaxSettings(BaseModel):
    threshold: float = Field(default=1.0, description="Anything goes.")


class _LaxPlugin:
    """A plugin that lets unknown settings through: the contract must catch it."""

    kind = "lax"
    scenario = DetectorScenario("lax", "宽松", "Lax")
    settings = _LaxSettings

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> Detector:
        raise ConfigError("never built")


def test_the_contract_catches_settings_that_let_typos_through() -> None:
    with pytest.raises(ContractViolation, match=r"_LaxSettings must forbid unknown keys"):
        check_detector_plugin(_LaxPlugin(), "lax")

"""Contract suites: the checks every registered source, detector and notifier passes.

The hub's own tests run them over every entry point (tests/test_*_contract.py),
and an integrator's package runs them on its plugins the same way::

    from hub.testing.contracts import check_detector_plugin
    def test_my_detector_keeps_the_contract():
        check_detector_plugin(plugin, "my_kind")

Each check raises `ContractViolation` (an `AssertionError`, so pytest shows it as a
failure) saying what the plugin got wrong. The checks use no test framework.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
from pydantic import BaseModel

from hub.cases.feed import CaseEvent
from hub.clock import FakeClock
from hub.config import Camera, NotifierSpec
from hub.errors import ConfigError, HubError
from hub.model import Alert, Frame
from hub.seams import (
    Detector,
    DetectorPlugin,
    FrameSource,
    Notifier,
    NotifierContext,
    NotifierPlugin,
    SourceOptions,
    SourcePlugin,
)

CAMERA_ID = "CAM-CONTRACT"
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
# The zones a contract camera offers a detector: it must build with one of them.
ZONES = {
    "area": {"id": "area", "kind": "polygon", "points": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9],
                                                          [0.1, 0.9]]},
    "line": {"id": "line", "kind": "line", "points": [[0.5, 0.0], [0.5, 1.0]]},
}  # fmt: skip


class ContractViolation(AssertionError):
    """A plugin does not keep its Protocol's contract."""


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise ContractViolation(problem)


def sample_settings(settings: type[BaseModel]) -> dict[str, object]:
    """Settings that validate with no site data: the first ``examples`` value of each
    required field (a settings model gives one for every field without a default)."""
    sample: dict[str, object] = {}
    for name, field in settings.model_fields.items():
        if field.is_required():
            _require(bool(field.examples), f"{settings.__name__}.{name}: required, no examples")
            sample[name] = (field.examples or [None])[0]
    return sample


# --- detectors ----------------------------------------------------------------------------


def check_detector_declarations(plugin: object, name: str | None = None) -> DetectorPlugin:
    """`plugin` is a `DetectorPlugin` declaring its kind, scenario and settings model."""
    if not isinstance(plugin, DetectorPlugin):
        raise ContractViolation(f"{plugin!r} is not a DetectorPlugin (kind, scenario, settings, "
                                "build)")  # fmt: skip
    scenario = plugin.scenario
    _require(name is None or plugin.kind == name, f"kind {plugin.kind!r} is not {name!r}")
    _require(scenario.kind == plugin.kind, f"scenario kind {scenario.kind!r} != {plugin.kind!r}")
    _require(bool(scenario.title_zh and scenario.title_en), "scenario needs zh and en titles")
    _require(1 <= scenario.severity <= 4, f"severity {scenario.severity} is not 1..4")
    auto = scenario.auto_dispatch_confidence
    _require(auto is None or 0 <= auto <= 1, f"auto_dispatch_confidence {auto} is not 0..1")
    _check_settings_model(plugin.settings)
    return plugin


def _check_settings_model(settings: object) -> None:
    _require(isinstance(settings, type) and issubclass(settings, BaseModel),
             f"settings {settings!r} is not a pydantic model")  # fmt: skip
    assert isinstance(settings, type) and issubclass(settings, BaseModel)  # narrowed above
    _require(settings.model_config.get("extra") == "forbid",
             f"{settings.__name__} must forbid unknown keys (extra='forbid')")  # fmt: skip
    bare = [n for n, f in settings.model_fields.items() if not f.description]
    _require(not bare, f"{settings.__name__}: fields without a description: {bare}")


def contract_camera(kind: str, zone: str, settings: Mapping[str, object]) -> Camera:
    """A camera with the contract zones and one `kind` detector on `zone`."""
    return Camera.model_validate({
        "id": CAMERA_ID, "name": "contract", "url": "file:///contract.mp4",
        "location": {"lat": 30.0, "lon": 120.0}, "zones": list(ZONES.values()),
        "detectors": [{"kind": kind, "zones": [zone], **settings}],
    })  # fmt: skip


def build_detector(
    plugin: DetectorPlugin, settings: Mapping[str, object] | None = None
) -> tuple[Camera, object]:
    """The detector built from sample settings (updated by `settings`) on a zone it takes."""
    values = {**sample_settings(plugin.settings), **(settings or {})}
    problems = []
    for zone in ZONES:
        camera = contract_camera(plugin.kind, zone, values)
        try:
            return camera, plugin.build(camera, camera.detectors[0], FakeClock(current=START))
        except ConfigError as exc:
            problems.append(f"on a {zone} zone: {exc}")
    raise ContractViolation(f"{plugin.kind} does not build from its defaults: {problems}")


def synthetic_frames(
    count: int, size: tuple[int, int] = (320, 240), fps: float = 5.0
) -> list[Frame]:
    """Grey frames with a bright block falling through the middle, at `fps`."""
    width, height = size
    frames = []
    for seq in range(count):
        image = np.full((height, width, 3), 96, np.uint8)
        y = (seq * 12) % max(1, height - 20)
        image[y : y + 20, width // 2 - 10 : width // 2 + 10] = 230
        mono = seq / fps
        frames.append(Frame(CAMERA_ID, seq, mono, START + timedelta(seconds=mono), image))
    return frames


def check_detector_plugin(
    plugin: object, name: str | None = None, settings: Mapping[str, object] | None = None,
    frames: int = 15,
) -> None:  # fmt: skip
    """The whole detector contract: declarations, build, frames in, typed alerts out,
    and an unknown setting rejected naming it."""
    checked = check_detector_declarations(plugin, name)
    camera, detector = build_detector(checked, settings)
    if not isinstance(detector, Detector):
        raise ContractViolation(f"{checked.kind}: build returned {detector!r}, not a Detector")
    _require(detector.kind == checked.kind, f"detector kind {detector.kind!r} != {checked.kind!r}")
    for frame in synthetic_frames(frames):
        alerts = detector.process(frame)
        _require(isinstance(alerts, list), f"{checked.kind}: process returned {alerts!r}")
        for alert in alerts:
            _check_alert(checked.kind, alert)
    _check_rejects_unknown_setting(checked, camera)


def _check_alert(kind: str, alert: object) -> None:
    _require(isinstance(alert, Alert), f"{kind}: {alert!r} is not an Alert")
    assert isinstance(alert, Alert)
    _require(alert.kind == kind, f"{kind}: alert of kind {alert.kind!r}")
    _require(alert.camera_id == CAMERA_ID, f"{kind}: alert names camera {alert.camera_id!r}")
    _require(0 <= alert.confidence <= 1, f"{kind}: confidence {alert.confidence} not 0..1")


def _check_rejects_unknown_setting(plugin: DetectorPlugin, camera: Camera) -> None:
    spec = camera.detectors[0]
    bad = spec.model_validate({**spec.model_dump(), "no_such_setting": 1})
    try:
        plugin.build(camera, bad, FakeClock(current=START))
    except ConfigError as exc:
        _require("no_such_setting" in str(exc), f"{plugin.kind}: error names no field: {exc}")
        return
    raise ContractViolation(f"{plugin.kind}: an unknown setting was accepted")


# --- sources ------------------------------------------------------------------------------

CONTRACT_OPTIONS = SourceOptions(open_timeout_s=5.0, read_timeout_s=5.0, realtime=False)


def check_source_plugin(
    plugin: object, url: str, size: tuple[int, int], reads: int = 5,
    options: SourceOptions = CONTRACT_OPTIONS,
) -> None:  # fmt: skip
    """`plugin` opens `url`: the stream has `size`, yields captures of that size in
    time order, keeps the URL's password out of `describe`, and closes twice."""
    source = _opened(plugin, url, options)
    try:
        info = source.open()
        _require((info.width, info.height) == size, f"opened as {info}, expected {size}")
        last = float("-inf")
        for _ in range(reads):
            capture = source.read()
            _require((capture.width, capture.height) == size, f"capture size {capture}")
            image = capture.to_bgr(None)
            _require(image.shape == (size[1], size[0], 3) and image.dtype == np.uint8,
                     f"to_bgr gave {image.shape} {image.dtype}")  # fmt: skip
            _require(capture.mono >= last, "captures out of time order")
            last = capture.mono
        _check_no_password(url, source.describe())
    finally:
        source.close()
    source.close()  # a second close is harmless


def check_source_rejects(plugin: object, bad_url: str, options: SourceOptions = CONTRACT_OPTIONS
                         ) -> HubError:  # fmt: skip
    """A URL the source cannot read is a clear `HubError` (no traceback, no password)."""
    try:
        _opened(plugin, bad_url, options).open()
    except HubError as exc:
        _check_no_password(bad_url, str(exc))
        _require(bool(str(exc)), "the error says nothing")
        return exc
    raise ContractViolation(f"{bad_url}: opened without an error")


def _opened(plugin: object, url: str, options: SourceOptions) -> FrameSource:
    if not isinstance(plugin, SourcePlugin):
        raise ContractViolation(f"{plugin!r} is not a SourcePlugin (open)")
    source = plugin.open(url, options)
    if not isinstance(source, FrameSource):
        raise ContractViolation(f"open returned {source!r}, not a FrameSource")
    return source


def _check_no_password(url: str, text: str) -> None:
    password = url.split("://", 1)[-1].split("@", 1)[0].partition(":")[2] if "@" in url else ""
    _require(not password or password not in text, f"the password shows in {text!r}")


# --- notifiers ----------------------------------------------------------------------------


def sample_event(title: str = "契约测试") -> CaseEvent:
    """A case event as the hub hands notifiers one."""
    return CaseEvent(id=1, case_id=1, at=START, actor="contract", action="report",
                     from_state=None, to_state="reported", note=None, kind="contract",
                     title=title, severity=2, grid_id=None)  # fmt: skip


def check_notifier_plugin(
    plugin: object, name: str, spec: Mapping[str, object], context: NotifierContext,
    delivered: Callable[[CaseEvent], bool],
) -> Notifier:  # fmt: skip
    """`plugin` builds from `spec`, rejects an unknown setting naming it, and delivers a
    case event to a real receiver (`delivered` says whether it arrived)."""
    if not isinstance(plugin, NotifierPlugin):
        raise ContractViolation(f"{plugin!r} is not a NotifierPlugin (kind, settings, build)")
    _require(plugin.kind == name, f"kind {plugin.kind!r} is not {name!r}")
    _check_settings_model(plugin.settings)
    try:
        plugin.build(NotifierSpec.model_validate({**spec, "no_such_setting": 1}), context)
        raise ContractViolation(f"{name}: an unknown setting was accepted")
    except ConfigError as exc:
        _require("no_such_setting" in str(exc), f"{name}: error names no field: {exc}")
    notifier = plugin.build(NotifierSpec.model_validate(spec), context)
    if not isinstance(notifier, Notifier):
        raise ContractViolation(f"{name}: build returned {notifier!r}, not a Notifier")
    event = sample_event()
    notifier.notify(event)
    _require(delivered(event), f"{name}: the receiver never got the event")
    return notifier

"""The seam between camera workers and detectors.

A `gridhub.detectors` entry point names a `DetectorPlugin`: it validates a
camera's detector settings (its own config model) and builds one `Detector` per
camera. The camera worker hands each analysed `Frame` to `Detector.process`,
which returns the alerts that frame confirmed (usually none).
"""

from __future__ import annotations

from typing import Protocol

from hub.clock import Clock
from hub.config import Camera, DetectorSpec
from hub.model import Alert, Frame


class Detector(Protocol):
    """Watches one camera for one scenario."""

    kind: str

    def process(self, frame: Frame) -> list[Alert]:
        """Consume one frame; return the alerts it confirmed."""
        ...


class DetectorPlugin(Protocol):
    """What a `gridhub.detectors` entry point loads."""

    kind: str

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> Detector:
        """Validate `spec`'s settings and build a detector for `camera`.

        Raises `ConfigError` naming the field when a setting is invalid.
        """
        ...


class AlertSink(Protocol):
    """Where alerts go: stored, de-duplicated, turned into cases (hub.alerts)."""

    def submit(self, alert: Alert) -> None:
        """Accept an alert; never raises for a well-formed alert, never blocks long."""
        ...

"""Per-camera Prometheus metrics, read from the workers' health at scrape time.

A collector rather than labelled gauges: a removed camera disappears from
/metrics with its worker, and nothing is updated on the frame path. The only
label is the camera id; URLs (which may hold credentials) are never labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.cameras.health import CameraHealth

GAUGES = {
    "online": ("gridhub_camera_online", "1 while the camera delivers frames."),
    "fps_in": ("gridhub_camera_fps_in", "Frames per second decoded."),
    "fps_analysed": ("gridhub_camera_fps_analysed", "Frames per second handed to detectors."),
    "last_frame_age_s": (
        "gridhub_camera_last_frame_age_seconds",
        "Seconds since the last decoded frame.",
    ),
}
COUNTERS = {
    "frames_in": ("gridhub_camera_frames", "Frames decoded."),
    "dropped_frames": ("gridhub_camera_dropped_frames", "Frames dropped because analysis lagged."),
    "corrupt_frames": ("gridhub_camera_corrupt_frames", "Pictures that did not decode."),
    "reconnects": ("gridhub_camera_reconnects", "Reconnection attempts."),
    "outages": ("gridhub_camera_outages", "Times the camera went offline."),
    "detector_errors": ("gridhub_camera_detector_errors", "Detector calls that raised."),
    "evidence_failures": (
        "gridhub_camera_evidence_failures",
        "Snapshots and clips not written (disk full, encoding failed); marked missing.",
    ),
}


class CameraCollector(Collector):
    """Yields one sample per camera and metric from `healths()`."""

    def __init__(self, healths: Callable[[], Iterable[CameraHealth]]) -> None:
        self.healths = healths

    def collect(self) -> Iterable[Metric]:
        snapshot = [h for h in self.healths() if h.state != "remote"]  # its holder reports it
        for attr, (name, doc) in GAUGES.items():
            gauge = GaugeMetricFamily(name, doc, labels=["camera"])
            for health in snapshot:
                value = getattr(health, attr)
                if value is not None:
                    gauge.add_metric([health.camera_id], float(value))
            yield gauge
        for attr, (name, doc) in COUNTERS.items():
            counter = CounterMetricFamily(name, doc, labels=["camera"])
            for health in snapshot:
                counter.add_metric([health.camera_id], float(getattr(health, attr)))
            yield counter

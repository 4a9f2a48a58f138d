"""Cameras: the frame-source seam, per-camera workers, health, evidence and the manager."""

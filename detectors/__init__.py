"""Detectors: scenario detectors and object-detection backends."""

"""Zone machinery shared by the zone detectors: pure geometry and dwell/episode timers."""

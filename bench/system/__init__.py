"""The system benchmark: RTSP cameras, simulated patrols, a real hub (`python -m bench.system`)."""

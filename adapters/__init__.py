"""Adapters: the edges of the hub (camera frame sources, MQTT ingest, sensors, notifiers)."""

"""Notifiers: case events delivered outside the hub (MQTT, webhooks, plugins)."""

"""Prometheus metrics of one hub, in its own registry (no module-level globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, generate_latest

from hub import __version__


class HubMetrics:
    """Every metric the hub exports at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.info = Info("gridhub", "Hub build information.", registry=self.registry)
        self.info.info({"version": __version__})
        self.database_up = Gauge(
            "gridhub_database_up", "1 when the database answers.", registry=self.registry
        )
        self.broker_up = Gauge(
            "gridhub_broker_up", "1 when the MQTT broker is connected.", registry=self.registry
        )
        self.http_requests = Counter(
            "gridhub_http_requests",
            "HTTP requests by route template and status class.",
            ["route", "status"],
            registry=self.registry,
        )

        self.mqtt_rejected = Counter(
            "gridhub_mqtt_rejected",
            "MQTT messages rejected (or, for OwnTracks non-location types, not used), by "
            "channel and reason.",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.mqtt_handler_errors = Counter(
            "gridhub_mqtt_handler_errors",
            "MQTT messages whose handler failed unexpectedly (a bug or the database "
            "unreachable for longer than the retries), by subscription.",
            ["subscription"],
            registry=self.registry,
        )
        self.patrol_fixes = Counter(
            "gridhub_patrol_fixes",
            "Patrol fixes accepted, by source; out_of_order ones are stored but do not move "
            "the patrol.",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.positions_written = Counter(
            "gridhub_patrol_positions_written",
            "Patrol positions written to the database.",
            registry=self.registry,
        )
        self.positions_dropped = Counter(
            "gridhub_patrol_positions_dropped",
            "Patrol positions dropped unwritten: the write buffer was full (buffer_full) or "
            "the database refused a value (unstorable).",
            ["reason"],
            registry=self.registry,
        )
        self.dispatches = Counter(
            "gridhub_dispatches",
            "Dispatch events: created, published, accepted, declined, expired, escalated.",
            ["event"],
            registry=self.registry,
        )

        self.recovered = Counter(
            "gridhub_recovered",
            "What a start recovered from the previous run: spooled_alerts replayed from the "
            "alert spool.",
            ["what"],
            registry=self.registry,
        )
        self.mqtt_redelivered = Gauge(
            "gridhub_mqtt_redelivered",
            "MQTT messages the broker delivered again (DUP) since start: what the hub had not "
            "acknowledged (committed) when it stopped or lost the connection.",
            registry=self.registry,
        )
        self.alert_spool_full = Counter(
            "gridhub_alert_spool_full",
            "Camera alerts that could not be spooled to disk (spool full, or the disk refused) "
            "and were held in memory only.",
            registry=self.registry,
        )
        self.alerts = Counter(
            "gridhub_alerts",
            "Alerts by kind and outcome (opened a case, joined one, cleared one, orphan).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.sla_escalations = Counter(
            "gridhub_sla_escalations",
            "Missed deadlines that escalated a case, by deadline.",
            ["deadline"],
            registry=self.registry,
        )

        self.notifications = Counter(
            "gridhub_notifications",
            "Case events by notifier and outcome: delivered, failed (given up after the "
            "retries), skipped (not routed to it), and each failed try's reason "
            "(server_error, rate_limited, throttled, bad_answer, unreachable, rejected).",
            ["notifier", "outcome"],
            registry=self.registry,
        )

        self.escalation_messages = Counter(
            "gridhub_escalation_messages",
            "Messages to the people of an escalation rung, by notifier and outcome.",
            ["notifier", "outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

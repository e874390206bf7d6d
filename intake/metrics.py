"""The intake's own series, served at its `/metrics` in the Prometheus text format.

The intake is a process of its own in production (`warroom intake`), so it cannot lean on the worker's SDK
runtime; it keeps a `prometheus_client` registry per app (tests run several apps in one process). The names
are defined here once; docs/metrics.md lists them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# `*_created` timestamps double the series for nothing Prometheus needs (it detects counter resets itself).
disable_created_metrics()

REQUESTS = "warroom_intake_requests"
HANDOFF_SECONDS = "warroom_intake_handoff_seconds"
IN_FLIGHT = "warroom_intake_handoffs_in_flight"
HEARTBEATS = "warroom_intake_heartbeats"
# A hand-off is one or two server round trips: milliseconds when healthy, seconds when Temporal struggles.
HANDOFF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IntakeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            REQUESTS,
            "requests answered, by route and HTTP status",
            ["route", "status"],
            registry=self.registry,
        )
        self.handoff = Histogram(
            HANDOFF_SECONDS,
            "seconds from a valid request to Temporal accepting its signal-with-start (or failing to)",
            ["route", "outcome"],
            buckets=HANDOFF_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(IN_FLIGHT, "hand-offs waiting on Temporal right now", registry=self.registry)
        self.heartbeats = Counter(
            HEARTBEATS, "alerting-pipeline heartbeats handed to the dead-man's switch, by source", ["source"],
            registry=self.registry,
        )  # fmt: skip

    def answered(self, route: str, status: int) -> None:
        self.requests.labels(route=route, status=str(status)).inc()

    def handed_off(self, route: str, seconds: float, ok: bool) -> None:
        self.handoff.labels(route=route, outcome="accepted" if ok else "unavailable").observe(seconds)

    def heartbeat(self, source: str) -> None:
        self.heartbeats.labels(source=source).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

"""Prometheus metrics, one registry per application (no process-global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        self.request_latency = Histogram(
            "concord_http_request_seconds",
            "HTTP request latency by endpoint",
            ["method", "endpoint", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.events_persisted = Counter(
            "concord_events_persisted",
            "Events persisted, by origin (local or remote)",
            ["origin"],
            registry=self.registry,
        )

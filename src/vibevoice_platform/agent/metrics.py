"""Prometheus metrics of one agent app (its own registry, so tests and apps never mix)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from vibevoice_platform.tts.metrics import CONTENT_TYPE, LATENCY_BUCKETS

__all__ = ["CONTENT_TYPE", "AgentMetrics"]


@dataclass
class AgentMetrics:
    """The agent's metrics, registered on :attr:`registry`."""

    responder: str
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "agent_requests_total",
            "Requests handled, by endpoint and HTTP status (WebSocket: the close code).",
            ("endpoint", "status"),
            registry=r,
        )
        self.turns = Counter(
            "agent_turns_total",
            "Turns answered, by responder, endpoint and outcome (ok, error).",
            ("responder", "endpoint", "outcome"),
            registry=r,
        )
        self.errors = Counter(
            "agent_errors_total",
            "Turns and requests refused or failed, by kind (bad_input, tts_unavailable, ...).",
            ("kind",),
            registry=r,
        )
        self.auth_failures = Counter(
            "agent_auth_failures_total",
            "Requests refused for a missing or wrong bearer token.",
            ("reason",),
            registry=r,
        )
        self.time_to_first_text = Histogram(
            "agent_time_to_first_text_seconds",
            "From turn arrival to the first reply text from the responder.",
            ("responder",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.time_to_first_audio = Histogram(
            "agent_time_to_first_audio_seconds",
            "From turn arrival to the first reply audio from tts.",
            ("responder",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.inflight = Gauge("agent_inflight_turns", "Turns in progress.", registry=r)
        self.info = Gauge(
            "agent_responder_info",
            "The responder this process uses (always 1).",
            ("responder",),
            registry=r,
        )
        self.info.labels(responder=self.responder).set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

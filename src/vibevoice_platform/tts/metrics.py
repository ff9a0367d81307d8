"""Prometheus metrics of one app instance (its own registry, so tests and apps never mix)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    1.5,
    2.5,
    5.0,
    10.0,
    20.0,
    30.0,
)
"""Histogram buckets from 1 ms to 30 s, densest where time to first audio lives."""

CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass
class TTSMetrics:
    """The service's metrics, registered on :attr:`registry`."""

    engine: str
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    count_engine_cpu: bool = True
    """Export ``tts_engine_cpu_seconds_total``: only where the step's thread CPU time is the
    engine's compute (``Engine.computes_in_step`` and one intra-op thread)."""

    def __post_init__(self) -> None:
        self.requests = Counter(
            "tts_requests_total",
            "Requests handled, by endpoint and HTTP status (WebSocket: 101 or the close code).",
            ("endpoint", "status"),
            registry=self.registry,
        )
        self.time_to_first_audio = Histogram(
            "tts_time_to_first_audio_seconds",
            "From request arrival to the first audio bytes handed to the server.",
            ("endpoint",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.synthesis = Histogram(
            "tts_synthesis_seconds",
            "Wall time of a whole synthesis stream, first engine call to last chunk sent.",
            ("endpoint",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.engine_first_chunk = Histogram(
            "tts_engine_first_chunk_seconds",
            "Engine compute time for the first audio chunk.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inflight = Gauge(
            "tts_inflight_syntheses",
            "Syntheses in progress (admitted and not yet finished).",
            registry=self.registry,
        )
        self.rejected = Counter(
            "tts_rejected_total",
            "Requests turned away before synthesis, by reason.",
            ("reason",),
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "tts_audio_seconds_total",
            "Seconds of audio streamed to clients.",
            registry=self.registry,
        )
        self.engine_cpu_seconds: Counter | None = None
        if self.count_engine_cpu:
            self.engine_cpu_seconds = Counter(
                "tts_engine_cpu_seconds_total",
                "The engine's compute: thread CPU time around each engine next() in its worker "
                "thread (exported only for an engine that computes on that thread).",
                registry=self.registry,
            )
        self.step_wait = Histogram(
            "tts_step_wait_seconds",
            "How long an engine step waited for its slot (deadline scheduling), by step: "
            "first (a stream's first audio) or later.",
            ("step",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.late_steps = Counter(
            "tts_late_steps_total",
            "Engine steps whose audio came after their deadline (first: past the TTFA "
            "objective; later: after the audio already sent ran out), by step.",
            ("step",),
            registry=self.registry,
        )
        self.info = Gauge(
            "tts_engine_info",
            "The engine this process serves (always 1).",
            ("engine",),
            registry=self.registry,
        )
        self.info.labels(engine=self.engine).set(1)

    def observe_synthesis(self, endpoint: str, seconds: float, audio_seconds: float) -> None:
        """Record one finished (or stopped) synthesis stream."""
        self.synthesis.labels(endpoint=endpoint).observe(seconds)
        self.audio_seconds.inc(audio_seconds)

    def observe_step(self, *, first: bool, waited: float, late: bool) -> None:
        """Record one scheduled engine step."""
        step = "first" if first else "later"
        self.step_wait.labels(step=step).observe(waited)
        if late:
            self.late_steps.labels(step=step).inc()

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)

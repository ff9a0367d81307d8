"""What the endpoints share: :class:`ServiceState` (settings, engine, metrics, admissions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vibevoice_platform.tts.audio import CHANNELS, SAMPLE_WIDTH
from vibevoice_platform.tts.engines.base import Engine
from vibevoice_platform.tts.metrics import TTSMetrics
from vibevoice_platform.tts.settings import Settings

FORMATS = ("pcm", "wav")


@dataclass(frozen=True)
class Refusal:
    """Why a new synthesis cannot start now."""

    status: int
    """The HTTP status: 503 (draining, loading, failed to load) or 429 (over capacity)."""
    reason: str
    """The ``reason`` label of ``tts_rejected_total``."""
    message: str
    """The one-line error for the client."""


@dataclass
class ServiceState:
    """What the endpoints share: settings, engine, metrics, readiness and admissions."""

    settings: Settings
    engine: Engine
    metrics: TTSMetrics
    ready: bool = False
    draining: bool = False
    load_error: str | None = None
    inflight: int = 0
    config_payload: dict[str, Any] = field(default_factory=dict)
    on_fatal: Callable[[str], None] | None = None
    """Called (from the loading thread) with the reason when the engine fails to load."""

    def refusal(self) -> Refusal | None:
        """Why a new synthesis cannot start now, or ``None`` when it can (no side effects)."""
        if self.draining:
            return Refusal(
                503, "draining", "the service is shutting down; retry on another instance"
            )
        if not self.ready:
            if self.load_error is not None:
                return Refusal(
                    503, "engine_failed", f"the engine failed to load: {self.load_error}"
                )
            return Refusal(503, "not_ready", "the engine is still loading; retry shortly")
        if self.inflight >= self.settings.max_concurrency:
            limit = self.settings.max_concurrency
            return Refusal(429, "capacity", f"over capacity: {limit} syntheses already in progress")
        return None

    def admit(self) -> Refusal | None:
        """Take a synthesis slot (``None``), or count and return the refusal.

        The one admission check of both endpoints. After ``None`` the caller owns a slot and
        must call :meth:`release` exactly once.
        """
        refusal = self.refusal()
        if refusal is not None:
            self.metrics.rejected.labels(reason=refusal.reason).inc()
            return refusal
        self.inflight += 1
        self.metrics.inflight.inc()
        return None

    def release(self) -> None:
        self.inflight -= 1
        self.metrics.inflight.dec()

    def mark_ready(self) -> None:
        engine = self.engine
        self.config_payload = {
            "engine": engine.name,
            "voices": list(engine.voices),
            "default_voice": engine.default_voice,
            "sample_rate": engine.sample_rate,
            "channels": CHANNELS,
            "sample_width": SAMPLE_WIDTH,
            "formats": list(FORMATS),
            "max_text_chars": self.settings.max_text_chars,
            "max_concurrency": self.settings.max_concurrency,
            "parameters": dict(engine.parameters),
            "experimental": engine.experimental,
        }
        self.ready = True

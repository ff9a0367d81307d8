"""What the endpoints share: :class:`ServiceState` (settings, engine, metrics, admissions)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vibevoice_platform.tts.audio import CHANNELS, SAMPLE_WIDTH
from vibevoice_platform.tts.engines.base import NO_OPTIONS, Engine, SynthesisOptions
from vibevoice_platform.tts.metrics import TTSMetrics
from vibevoice_platform.tts.scheduler import Scheduler
from vibevoice_platform.tts.settings import Settings
from vibevoice_platform.tts.synthesis import Synthesis

FORMATS = ("pcm", "wav")


@dataclass(frozen=True)
class Refusal:
    """Why a new synthesis cannot start now."""

    status: int
    """The HTTP status: 503 (draining, loading, failed to load) or 429 (over capacity: the
    stream limit, or the scheduler's model says it could not be served in time)."""
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
    scheduler: Scheduler | None = None
    """Runs the engine's steps by deadline and decides admission; None: every step at once."""
    _open: set[Synthesis] = field(default_factory=set, init=False, repr=False)
    """The admitted streams' syntheses, from their creation until they are closed."""

    @property
    def generating(self) -> int:
        """Admitted streams whose engine may still have work: :attr:`inflight` less those
        whose audio is all made and that are only being closed (a closed-loop client's next
        request often arrives in that moment)."""
        finished = sum(1 for synthesis in self._open if not synthesis.generating)
        return max(0, self.inflight - finished)

    def refusal(self, arrived: float | None = None) -> Refusal | None:
        """Why a new synthesis arriving at ``arrived`` (``time.perf_counter()``; default now)
        cannot start, or ``None`` when it can (no side effects)."""
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
        if self.scheduler is not None:
            now = time.perf_counter()
            decision = self.scheduler.admit(now if arrived is None else arrived, self.generating)
            if decision.reason is not None:
                return Refusal(429, decision.reason, decision.message)
        return None

    def admit(self, arrived: float | None = None) -> Refusal | None:
        """Take a synthesis slot (``None``), or count and return the refusal.

        The one admission check of both endpoints. After ``None`` the caller owns a slot and
        must call :meth:`release` exactly once.
        """
        refusal = self.refusal(arrived)
        if refusal is not None:
            self.metrics.rejected.labels(reason=refusal.reason).inc()
            return refusal
        self.inflight += 1
        self.metrics.inflight.inc()
        return None

    def synthesis(
        self, text: str, voice: str, options: SynthesisOptions = NO_OPTIONS, *, arrived: float
    ) -> Synthesis:
        """The synthesis of an admitted stream, its steps run by the scheduler (if any)."""
        cpu = self.metrics.engine_cpu_seconds
        synthesis = Synthesis(
            self.engine,
            text,
            voice,
            options,
            scheduler=self.scheduler,
            arrived=arrived,
            on_closed=self._open.discard,
            on_engine_cpu=None if cpu is None else cpu.inc,
        )
        self._open.add(synthesis)
        return synthesis

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

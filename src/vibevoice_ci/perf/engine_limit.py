"""The engine's limit, measured in the same run as the realtime capacity.

The tts service counts the CPU time of its engine steps (``tts_engine_cpu_seconds_total``,
thread CPU time around each engine ``next()``) and the audio it streamed
(``tts_audio_seconds_total``). Two scrapes of its ``/metrics``, before and after the capacity
steps, give the engine's real-time factor over them (CPU seconds per audio second); the
cores the service may use divided by it is how many realtime streams the engine alone could
make, and the capacity over that is how much of it the service delivers.

:func:`engine_limit` is pure (two Prometheus texts in, the figures or why there are none out);
:func:`scrape` is the edge (one GET on 127.0.0.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

ENGINE_CPU_METRIC = "tts_engine_cpu_seconds_total"
AUDIO_METRIC = "tts_audio_seconds_total"


@dataclass(frozen=True)
class EngineLimit:
    """The engine's work over the steps: its CPU seconds and the audio seconds it made."""

    cpu_seconds: float
    audio_seconds: float

    @property
    def rtf(self) -> float:
        """The engine's real-time factor: CPU seconds per second of audio (4 significant
        digits)."""
        return _significant(self.cpu_seconds / self.audio_seconds)

    def limit_streams(self, cores: int) -> float:
        """Realtime streams the engine alone could make on ``cores``: cores / rtf."""
        return _significant(max(cores, 1) / self.rtf)

    def capacity_ratio(self, capacity_streams: int, cores: int) -> float:
        """How much of the engine's limit the service delivers: capacity / limit."""
        return round(capacity_streams / self.limit_streams(cores), 3)


@dataclass(frozen=True)
class Unmeasured:
    """Why there is no engine limit (one line)."""

    reason: str


def engine_limit(before: str | None, after: str | None) -> EngineLimit | Unmeasured:
    """The engine's work between two scrapes of the service's ``/metrics`` (pure). None for
    a scrape that failed. Nothing is guessed: a missing counter (an older service), a counter
    that went down (the service restarted), no audio or no CPU time is :class:`Unmeasured`."""
    if before is None or after is None:
        return Unmeasured(f"GET /metrics {'before' if before is None else 'after'} failed")
    try:
        start, end = _counters(before), _counters(after)
    except ValueError as exc:
        return Unmeasured(f"/metrics is not Prometheus text: {exc}")
    for name in (ENGINE_CPU_METRIC, AUDIO_METRIC):
        if name not in start or name not in end:
            return Unmeasured(
                f"the service has no {name} (an older image, or an engine that computes in "
                "threads of its own)"
            )
    cpu = end[ENGINE_CPU_METRIC] - start[ENGINE_CPU_METRIC]
    audio = end[AUDIO_METRIC] - start[AUDIO_METRIC]
    if not (math.isfinite(cpu) and math.isfinite(audio)) or cpu < 0 or audio < 0:
        return Unmeasured("a counter went down between the scrapes (the service restarted?)")
    if audio == 0 or cpu == 0:
        return Unmeasured(f"no {'audio' if audio == 0 else 'engine CPU time'} between the scrapes")
    return EngineLimit(cpu_seconds=cpu, audio_seconds=audio)


def scrape(port: int, timeout: float = 10.0) -> str | None:
    """The text of ``GET http://127.0.0.1:port/metrics``; None when it does not answer 200."""
    try:
        # trust_env=False: never through a proxy, the traffic stays on 127.0.0.1.
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout, trust_env=False)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


def _counters(text: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in (ENGINE_CPU_METRIC, AUDIO_METRIC):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def _significant(value: float) -> float:
    return float(f"{value:.4g}")

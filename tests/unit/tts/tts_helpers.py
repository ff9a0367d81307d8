"""Helpers for the tts unit tests (imported as a plain module: pytest puts this folder first
on sys.path)."""

from __future__ import annotations

import numpy as np

from vibevoice_platform.tts.engines import Engine


class StubEngine(Engine):
    """A loaded engine with one voice (``only``) at 22,050 Hz; subclasses say what
    :meth:`synthesize` does."""

    name = "stub"

    @property
    def sample_rate(self) -> int:
        return 22050

    @property
    def voices(self) -> tuple[str, ...]:
        return ("only",)

    @property
    def default_voice(self) -> str:
        return "only"

    @property
    def loaded(self) -> bool:
        return True

    def load(self) -> None:
        pass


def rms(pcm: bytes) -> float:
    """Root mean square of little-endian int16 PCM (0 for silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0

"""Helpers for the tts unit tests (imported as a plain module: pytest puts this folder first
on sys.path)."""

from __future__ import annotations

import numpy as np


def rms(pcm: bytes) -> float:
    """Root mean square of little-endian int16 PCM (0 for silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0

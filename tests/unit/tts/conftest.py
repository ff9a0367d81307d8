"""Shared fixtures: real engines, loaded once per test session."""

from __future__ import annotations

import pytest

from vibevoice_platform.tts.engines import Engine, load_engine
from vibevoice_platform.tts.settings import Settings


@pytest.fixture(scope="session")
def espeak_engine() -> Engine:
    return load_engine("espeak", Settings(engine="espeak"))


@pytest.fixture(scope="session")
def piper_engine() -> Engine:
    return load_engine("piper", Settings())

"""Shared fixtures for integration tests that talk to real local processes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from vibevoice_ci.smoke.local_service import LocalService, running_tts_service


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """An HTTP client that never goes through a proxy (traffic stays on 127.0.0.1)."""
    with httpx.Client(timeout=120.0, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def tts_espeak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """The tts service with the fast espeak engine and default settings, once per module.

    For tests of other services (the agent) that need a real tts service to talk to.
    """
    log_path = tmp_path_factory.mktemp("tts-espeak") / "service.log"
    with running_tts_service("espeak", log_path=log_path) as service:
        yield service


@pytest.fixture(scope="module")
def tts_piper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """The tts service with the default Piper engine and default settings, once per module."""
    log_path = tmp_path_factory.mktemp("tts-piper") / "service.log"
    with running_tts_service("piper", log_path=log_path) as service:
        yield service

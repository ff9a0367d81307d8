"""The engine's limit from two scrapes of the tts service's /metrics (pure), on the text the
real service (Piper and espeak, in process) writes."""

from __future__ import annotations

import socket
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from vibevoice_ci.perf.engine_limit import (
    ENGINE_CPU_METRIC,
    EngineLimit,
    Unmeasured,
    engine_limit,
    scrape,
)
from vibevoice_platform.tts.app import create_app
from vibevoice_platform.tts.engines import load_engine
from vibevoice_platform.tts.settings import Settings

TEXT = "Hello there, welcome to the realtime voice agent."


def _scrapes(engine: str) -> tuple[str, str, float]:
    """The real service's /metrics before and after two syntheses, and the audio seconds
    they streamed."""
    settings = Settings(engine=engine)
    app = create_app(settings, load_engine(engine, settings))
    with TestClient(app) as client:
        before = client.get("/metrics").text
        audio = 0.0
        for _ in range(2):
            response = client.post("/v1/tts", json={"text": TEXT, "format": "pcm"})
            assert response.status_code == 200
            audio += len(response.content) / 2 / int(response.headers["x-sample-rate"])
        return before, client.get("/metrics").text, audio


@pytest.fixture(scope="module")
def piper() -> tuple[str, str, float]:
    return _scrapes("piper")


def test_the_engines_work_between_two_scrapes_of_the_real_service(
    piper: tuple[str, str, float],
) -> None:
    before, after, audio = piper
    figures = engine_limit(before, after)
    assert isinstance(figures, EngineLimit)
    assert figures.audio_seconds == pytest.approx(audio, rel=1e-6)
    # Piper on one thread makes audio many times faster than real time, but not for free.
    assert 0.001 < figures.rtf < 1.0
    assert figures.limit_streams(2) == pytest.approx(2 / figures.rtf, rel=1e-3)


def test_what_cannot_be_measured_is_said_never_guessed(piper: tuple[str, str, float]) -> None:
    before, after, _ = piper
    # espeak synthesizes in a producer thread: its service has no engine counter to read.
    espeak_before, espeak_after, _ = _scrapes("espeak")
    no_counter = Unmeasured(
        f"the service has no {ENGINE_CPU_METRIC} (an older image, or an engine that computes "
        "in threads of its own)"
    )
    assert engine_limit(espeak_before, espeak_after) == no_counter
    assert engine_limit(espeak_before, after) == no_counter
    assert engine_limit(after, before) == Unmeasured(
        "a counter went down between the scrapes (the service restarted?)"
    )
    assert engine_limit(after, after) == Unmeasured("no audio between the scrapes")
    assert engine_limit(None, after) == Unmeasured("GET /metrics before failed")
    assert engine_limit(before, None) == Unmeasured("GET /metrics after failed")
    garbled = engine_limit(before, "tts_engine_cpu_seconds_total{ 1")
    assert isinstance(garbled, Unmeasured)
    assert garbled.reason.startswith("/metrics is not Prometheus text: ")


def test_audio_without_engine_time_is_not_a_limit() -> None:
    before = "tts_engine_cpu_seconds_total 1.5\ntts_audio_seconds_total 10.0\n"
    after = "tts_engine_cpu_seconds_total 1.5\ntts_audio_seconds_total 20.0\n"
    assert engine_limit(before, after) == Unmeasured("no engine CPU time between the scrapes")


def test_the_figures_of_the_issue() -> None:
    # Piper at an RTF of 0.055 on 2 cores: about 36 streams; 12 of them is a third.
    figures = EngineLimit(cpu_seconds=5.5, audio_seconds=100.0)
    assert figures.rtf == 0.055
    assert figures.limit_streams(2) == 36.36
    assert figures.capacity_ratio(12, 2) == 0.33
    assert figures.capacity_ratio(0, 2) == 0.0


@settings(max_examples=150, deadline=None)
@given(
    st.floats(0.001, 1000.0),
    st.floats(0.001, 1000.0),
    st.integers(1, 64),
    st.integers(0, 200),
)
def test_the_limit_is_the_cores_over_the_rtf_and_the_ratio_the_capacity_over_it(
    cpu: float, audio: float, cores: int, streams: int
) -> None:
    figures = EngineLimit(cpu_seconds=cpu, audio_seconds=audio)
    assert figures.rtf == pytest.approx(cpu / audio, rel=1e-3)
    assert figures.limit_streams(cores) == pytest.approx(cores * audio / cpu, rel=2e-3)
    ratio = figures.capacity_ratio(streams, cores)
    # rounded to 3 places (half to even): at most half a thousandth off, and float noise
    assert ratio == pytest.approx(streams / figures.limit_streams(cores), abs=5e-4 + 1e-9)


def test_a_port_nothing_answers_on_is_no_scrape() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert scrape(port, timeout=2.0) is None

"""``tts_engine_cpu_seconds_total``: the engine's thread CPU time, scheduled or not."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from tts_helpers import StubEngine

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from vibevoice_platform.tts.app import create_app, service_state
from vibevoice_platform.tts.engines.base import NO_OPTIONS, SynthesisOptions
from vibevoice_platform.tts.engines.espeak import EspeakEngine
from vibevoice_platform.tts.engines.piper import PiperEngine
from vibevoice_platform.tts.engines.vibevoice import VibeVoiceEngine
from vibevoice_platform.tts.settings import Settings

CHUNKS = 3
CHUNK = b"\x10\x00" * 2205  # 0.1 s at 22,050 Hz
STEP_SECONDS = 0.04


class Busy(StubEngine):
    """Computes for ``STEP_SECONDS`` of its thread's CPU time before each chunk."""

    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        for _ in range(CHUNKS):
            began = time.thread_time()
            while time.thread_time() - began < STEP_SECONDS:
                pass
            yield CHUNK


class Sleepy(StubEngine):
    """Waits ``STEP_SECONDS`` before each chunk without computing."""

    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        for _ in range(CHUNKS):
            time.sleep(STEP_SECONDS)
            yield CHUNK


class OwnThreads(Busy):
    """An engine that (like espeak and VibeVoice) computes in threads of its own."""

    computes_in_step = False


def _engine_cpu(engine: StubEngine, scheduler: str) -> tuple[float, float]:
    app = create_app(Settings(engine="espeak", scheduler=scheduler, inference_slots=1), engine)
    with TestClient(app) as client:
        assert (service_state(app).scheduler is None) == (scheduler == "off")
        assert client.post("/v1/tts", json={"text": "Hi."}).status_code == 200
        with client.websocket_connect("/stream?text=Hi") as ws:
            while ws.receive()["type"] != "websocket.close":
                pass
        registry = service_state(app).metrics.registry
        cpu = registry.get_sample_value("tts_engine_cpu_seconds_total")
        audio = registry.get_sample_value("tts_audio_seconds_total")
    assert cpu is not None
    assert audio is not None
    return cpu, audio


@pytest.mark.parametrize("scheduler", ["deadline", "off"])
def test_the_counter_holds_the_engines_compute_on_both_paths(scheduler: str) -> None:
    cpu, audio = _engine_cpu(Busy(), scheduler)
    # Two streams of three steps, each at least STEP_SECONDS of this thread's CPU.
    assert cpu >= 2 * CHUNKS * STEP_SECONDS
    assert cpu < 2 * CHUNKS * STEP_SECONDS + 1.0
    assert audio == pytest.approx(2 * CHUNKS * 0.1)


@pytest.mark.parametrize("scheduler", ["deadline", "off"])
def test_time_the_engine_waits_is_not_counted(scheduler: str) -> None:
    cpu, _ = _engine_cpu(Sleepy(), scheduler)
    assert 0 < cpu < CHUNKS * STEP_SECONDS  # six steps slept 0.24 s in all


@pytest.mark.parametrize(
    ("engine", "threads"), [(OwnThreads(), 1), (Busy(), 2)], ids=["own-threads", "intra-op"]
)
def test_no_counter_where_the_steps_thread_is_not_the_engines_compute(
    engine: StubEngine, threads: int
) -> None:
    app = create_app(Settings(engine="espeak", threads=threads), engine)
    with TestClient(app) as client:
        assert client.post("/v1/tts", json={"text": "Hi."}).status_code == 200
        text = client.get("/metrics").text
    assert "tts_audio_seconds_total" in text
    assert "tts_engine_cpu_seconds" not in text


def test_the_real_engines_say_where_they_compute() -> None:
    assert PiperEngine.computes_in_step
    assert not EspeakEngine.computes_in_step
    assert not VibeVoiceEngine.computes_in_step

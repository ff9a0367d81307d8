"""The scheduler's asynchronous edge: slots, order, cancellation, and the real engines."""

from __future__ import annotations

import threading

import anyio
import pytest
from starlette.testclient import TestClient
from tts_helpers import StubEngine

from vibevoice_platform.tts.app import create_app, service_state
from vibevoice_platform.tts.deadlines import StreamClock
from vibevoice_platform.tts.engines import Engine
from vibevoice_platform.tts.scheduler import Scheduler
from vibevoice_platform.tts.settings import Settings, SettingsError
from vibevoice_platform.tts.synthesis import Synthesis


def test_steps_run_one_per_slot_and_the_soonest_due_goes_first() -> None:
    order: list[str] = []
    gate = threading.Event()
    seen: list[tuple[bool, bool]] = []
    scheduler = Scheduler(
        1, 0.25, on_step=lambda *, first, waited, late: seen.append((first, late))
    )

    def blocked() -> str:
        gate.wait(10)
        order.append("running")
        return "running"

    def step(name: str) -> str:
        order.append(name)
        return name

    buffered = StreamClock(arrived=0.0, objective=0.25)
    buffered.sent(0.0, 1e9)  # audio for ages: due far in the future
    newcomer = scheduler.stream_clock(arrived=scheduler.clock())

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(scheduler.run, StreamClock(scheduler.clock(), 0.25), blocked)
            await anyio.sleep(0.05)
            group.start_soon(scheduler.run, buffered, lambda: step("buffered"))
            await anyio.sleep(0.01)
            group.start_soon(scheduler.run, newcomer, lambda: step("newcomer"))
            await anyio.sleep(0.01)
            assert (scheduler.busy, scheduler.waiting) == (1, 2)
            gate.set()
        assert (scheduler.busy, scheduler.waiting) == (0, 0)

    anyio.run(main)
    assert order == ["running", "newcomer", "buffered"]
    assert [first for first, _ in seen] == [True, True, False]


def test_a_cancelled_waiting_step_leaves_the_queue_and_its_slot_passes_on() -> None:
    scheduler = Scheduler(1, 0.25)
    gate = threading.Event()

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(scheduler.run, scheduler.stream_clock(0.0), lambda: gate.wait(10))
            await anyio.sleep(0.05)
            with anyio.move_on_after(0.05):
                await scheduler.run(scheduler.stream_clock(0.0), lambda: None)
            assert scheduler.waiting == 0
            gate.set()
        assert scheduler.busy == 0
        assert await scheduler.run(scheduler.stream_clock(0.0), lambda: "free") == "free"

    anyio.run(main)


@pytest.mark.parametrize("engine_name", ["espeak", "piper"])
def test_a_scheduled_synthesis_makes_the_same_audio_and_teaches_the_cost_model(
    engine_name: str, request: pytest.FixtureRequest
) -> None:
    engine: Engine = request.getfixturevalue(f"{engine_name}_engine")
    text = "Hello there, welcome. This is the second sentence of two."
    scheduler = Scheduler(1, 0.25)

    async def collect(synthesis: Synthesis) -> bytes:
        parts = []
        while (chunk := await synthesis.next_chunk()) is not None:
            parts.append(chunk)
        await synthesis.close()
        return b"".join(parts)

    async def main() -> tuple[bytes, bytes, Synthesis]:
        plain = await collect(Synthesis(engine, text, engine.default_voice))
        scheduled = Synthesis(engine, text, engine.default_voice, scheduler=scheduler)
        return plain, await collect(scheduled), scheduled

    plain, scheduled, synthesis = anyio.run(main)
    assert len(plain) > 0
    # Piper draws its phoneme durations with noise (noise_w): two runs of one text differ in
    # length by a few percent, rarely more; a lost or repeated segment would be 40% or more.
    assert len(scheduled) == pytest.approx(len(plain), rel=0.15)
    assert synthesis.clock.started
    assert synthesis.clock.audio_seconds == pytest.approx(len(scheduled) / 2 / engine.sample_rate)
    assert scheduler.model.first_seconds is not None
    assert scheduler.model.rates  # every step with audio is learned from
    assert all(seconds >= 0 and audio > 0 for seconds, audio in scheduler.model.rates)
    assert scheduler.busy == 0


class _Tone(StubEngine):
    def synthesize(self, text, voice=None, options=None):  # type: ignore[no-untyped-def]
        yield b"\x10\x00" * 2205


def _app(**settings: object) -> TestClient:
    return TestClient(create_app(Settings(engine="espeak", **settings), _Tone()))  # type: ignore[arg-type]


def test_the_service_schedules_by_deadline_by_default_with_a_slot_per_core() -> None:
    with _app(inference_slots=3, ttfa_objective_ms=120) as client:
        scheduler = service_state(client.app).scheduler  # type: ignore[arg-type]
        assert scheduler is not None
        assert (scheduler.rule.slots, scheduler.rule.objective) == (3, 0.12)
        assert client.post("/v1/tts", json={"text": "Hi."}).status_code == 200
        metrics = client.get("/metrics").text
        assert 'tts_step_wait_seconds_count{step="first"} 1.0' in metrics
    assert Settings().slots >= 1
    with _app(scheduler="off") as client:
        assert service_state(client.app).scheduler is None  # type: ignore[arg-type]


def test_an_engine_that_holds_a_lock_across_steps_runs_unscheduled() -> None:
    class Locked(_Tone):
        schedulable = False

    app = create_app(Settings(engine="espeak"), Locked())
    assert service_state(app).scheduler is None


def test_admission_by_the_model_answers_429_with_its_reason() -> None:
    with _app(max_concurrency=8, inference_slots=2) as client:
        state = service_state(client.app)  # type: ignore[arg-type]
        assert state.scheduler is not None
        _learn(state.scheduler, real_time_factor=1.0)  # one stream fills a core
        state.inflight = 2
        try:
            refused = client.post("/v1/tts", json={"text": "Hi."})
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "1"
            assert "over capacity" in refused.json()["error"]
            with client.websocket_connect("/stream?text=Hi") as ws:
                assert ws.receive_json()["event"] == "backend_busy"
        finally:
            state.inflight = 0
        assert client.post("/v1/tts", json={"text": "Hi."}).status_code == 200  # idle: taken
        registry = state.metrics.registry
        assert registry.get_sample_value("tts_rejected_total", {"reason": "load"}) == 2


def _learn(scheduler: Scheduler, real_time_factor: float) -> None:
    """Past the model's warm-up, every step at ``real_time_factor``."""
    for _ in range(32):
        scheduler.observe(first=False, seconds=real_time_factor, audio_seconds=1.0)


@pytest.mark.parametrize("scheduler", ["deadline", "off"])
def test_at_the_default_stream_limit_a_second_stream_is_taken_as_without_a_scheduler(
    scheduler: str,
) -> None:
    # The closed loop of the smoke (2 streams, the default VIBEVOICE_TTS_MAX_CONCURRENCY) on
    # a busy machine: even a slow engine's second stream has a slot of its own.
    assert Settings().max_concurrency == 2
    with _app(inference_slots=2, scheduler=scheduler) as client:
        state = service_state(client.app)  # type: ignore[arg-type]
        if state.scheduler is not None:
            _learn(state.scheduler, real_time_factor=1.5)
        state.inflight = 1
        try:
            assert client.post("/v1/tts", json={"text": "Hi."}).status_code == 200
            state.inflight = 2
            refused = client.post("/v1/tts", json={"text": "Hi."})  # the stream limit
            assert refused.status_code == 429
        finally:
            state.inflight = 0
        registry = state.metrics.registry
        assert registry.get_sample_value("tts_rejected_total", {"reason": "capacity"}) == 1
        for reason in ("load", "deadline"):
            assert not registry.get_sample_value("tts_rejected_total", {"reason": reason})


def test_a_stream_whose_audio_is_all_made_no_longer_counts_for_admission() -> None:
    with _app(inference_slots=2, max_concurrency=8) as client:
        state = service_state(client.app)  # type: ignore[arg-type]
        scheduler = state.scheduler
        assert scheduler is not None
        _learn(scheduler, real_time_factor=0.7)  # 3 streams x 0.7 > 2 slots x 0.9
        state.inflight = 2  # two admitted streams; one of them has made all its audio

        async def drain() -> Synthesis:
            synthesis = state.synthesis("Hi.", "stub", arrived=scheduler.clock())
            while await synthesis.next_chunk() is not None:
                pass
            return synthesis

        try:
            synthesis = anyio.run(drain)
            assert not synthesis.generating
            assert state.generating == 1
            # The newcomer is the second stream that needs compute: taken, not refused.
            assert client.post("/v1/tts", json={"text": "Hi."}).status_code == 200
            anyio.run(synthesis.close)
            assert state.generating == 2  # closed, not yet released: counted (conservative)
            assert client.post("/v1/tts", json={"text": "Hi."}).status_code == 429
        finally:
            state.inflight = 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VIBEVOICE_TTS_SCHEDULER": "fifo"}, "must be one of deadline, off"),
        ({"VIBEVOICE_TTS_INFERENCE_SLOTS": "0"}, "must be between 1 and 1024"),
        ({"VIBEVOICE_TTS_TTFA_OBJECTIVE_MS": "0.5"}, "must be a finite number >= 1"),
        ({"VIBEVOICE_TTS_ADMISSION_UTILIZATION": "1.5"}, "greater than 0 and at most 1"),
        ({"VIBEVOICE_TTS_ADMISSION_UTILIZATION": "0"}, "greater than 0 and at most 1"),
    ],
)
def test_scheduler_settings_are_checked(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_scheduler_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "VIBEVOICE_TTS_SCHEDULER": "OFF",
            "VIBEVOICE_TTS_INFERENCE_SLOTS": "4",
            "VIBEVOICE_TTS_TTFA_OBJECTIVE_MS": "300",
            "VIBEVOICE_TTS_ADMISSION_UTILIZATION": "0.75",
            "VIBEVOICE_TTS_THREADS": "2",
        }
    )
    assert (settings.scheduler, settings.slots) == ("off", 4)
    assert (settings.ttfa_objective_ms, settings.admission_utilization) == (300.0, 0.75)
    assert Settings.from_env({}).scheduler == "deadline"
    assert Settings(threads=256).slots == 1  # never fewer than one

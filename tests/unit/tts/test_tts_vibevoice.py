"""The experimental VibeVoice engine, driven through stand-ins with the upstream interface.

No torch and no weights here, so the stand-ins below mimic what the engine calls in
github.com/microsoft/VibeVoice: ``VibeVoiceStreamingProcessor.from_pretrained`` and
``process_input_with_cached_prompt``, ``VibeVoiceStreamingForConditionalGenerationInference``
(``from_pretrained``, ``eval``, ``model.noise_scheduler``, ``set_ddpm_inference_steps``,
``generate(..., cfg_scale=, audio_streamer=, stop_check_fn=)``), ``AudioStreamer`` (``put``,
``end``, ``get_stream``) and ``torch.load``. This exercises the engine's own code (loading,
the generation thread, chunk conversion, cfg and steps, closing early), not the model.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from vibevoice_platform.tts.app import create_app
from vibevoice_platform.tts.engines.base import SynthesisOptions
from vibevoice_platform.tts.engines.vibevoice import (
    CFG_SCALE,
    INFERENCE_STEPS,
    SAMPLE_RATE,
    Upstream,
    VibeVoiceEngine,
)
from vibevoice_platform.tts.settings import Settings

CHUNK_SAMPLES = 2400  # 100 ms at 24 kHz


class FakeTensor:
    """The few torch.Tensor methods the engine and the streamer call, over a numpy array."""

    def __init__(self, array: Any) -> None:
        self.array = np.asarray(array)

    def detach(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self

    def to(self, target: Any) -> FakeTensor:
        if isinstance(target, str):  # a device
            return self
        return FakeTensor(self.array.astype(target))

    def numpy(self) -> Any:
        return self.array

    def item(self) -> Any:
        return self.array.item()

    def __getitem__(self, index: int) -> FakeTensor:
        return FakeTensor(self.array[index])

    def __iter__(self) -> Iterator[FakeTensor]:
        return (FakeTensor(row) for row in self.array)


class FakeTorch:
    float32 = np.float32
    bfloat16 = np.float16  # any other dtype will do
    loads: ClassVar[list[tuple[Path, str]]] = []

    @classmethod
    def load(cls, path: Path, *, map_location: str, weights_only: bool) -> dict[str, Any]:
        assert weights_only is False  # the presets are pickled model outputs
        cls.loads.append((Path(path), map_location))
        return {"preset": Path(path).stem, "cache": [1, 2, 3]}


class FakeProcessor:
    tokenizer = object()

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @classmethod
    def from_pretrained(cls, path: str) -> FakeProcessor:
        assert Path(path).is_dir()
        return cls()

    def process_input_with_cached_prompt(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"input_ids": FakeTensor([[1, 2, 3]]), "speech_input_mask": None}


class FakeScheduler:
    def __init__(self) -> None:
        self.config: dict[str, Any] = {"beta_schedule": "linear"}

    def from_config(self, config: dict[str, Any], **overrides: Any) -> FakeScheduler:
        scheduler = FakeScheduler()
        scheduler.config = {**config, **overrides}
        return scheduler


class FakeInner:
    def __init__(self) -> None:
        self.noise_scheduler = FakeScheduler()


class FakeModel:
    """Generates ``chunks`` audio chunks (or forever with ``chunks=None``) into the streamer."""

    chunks: int | None = 3
    fail_after: int | None = None
    instances: ClassVar[list[FakeModel]] = []

    def __init__(self) -> None:
        self.model = FakeInner()
        self.steps: int | None = None
        self.generate_calls: list[dict[str, Any]] = []
        self.steps_at_generate: list[int | None] = []
        self.stopped = False

    @classmethod
    def from_pretrained(cls, path: str, **kwargs: Any) -> FakeModel:
        assert kwargs["attn_implementation"] == "sdpa"
        model = cls()
        cls.instances.append(model)
        return model

    def eval(self) -> FakeModel:
        return self

    def to(self, device: str) -> FakeModel:  # pragma: no cover - mps only
        return self

    def set_ddpm_inference_steps(self, num_steps: int | None = None) -> None:
        self.steps = num_steps

    def generate(self, **kwargs: Any) -> None:
        self.generate_calls.append(kwargs)
        self.steps_at_generate.append(self.steps)
        streamer = kwargs["audio_streamer"]
        stop = kwargs["stop_check_fn"]
        produced = 0
        while self.chunks is None or produced < self.chunks:
            if stop():
                self.stopped = True
                break
            if self.fail_after is not None and produced >= self.fail_after:
                raise ValueError("diffusion head exploded")
            level = 0.1 * (produced + 1)
            batch = FakeTensor(np.full((1, CHUNK_SAMPLES), level, dtype=np.float32))
            streamer.put(batch, FakeTensor(np.array([0])))
            produced += 1
            if self.chunks is None:
                time.sleep(0.001)
        streamer.end()


class FakeAudioStreamer:
    """``vibevoice.modular.streamer.AudioStreamer``: one queue per sample, ended by a signal."""

    def __init__(self, batch_size: int, stop_signal: Any = None, timeout: Any = None) -> None:
        self.stop_signal = stop_signal
        self.timeout = timeout
        self.queues: list[queue.Queue[Any]] = [queue.Queue() for _ in range(batch_size)]
        self.finished = [False] * batch_size

    def put(self, audio_chunks: FakeTensor, sample_indices: FakeTensor) -> None:
        for i, sample in enumerate(sample_indices):
            index = sample.item()
            if not self.finished[index]:
                self.queues[index].put(audio_chunks[i].detach().cpu())

    def end(self) -> None:
        for index, done in enumerate(self.finished):
            if not done:
                self.queues[index].put(self.stop_signal)
                self.finished[index] = True

    def get_stream(self, index: int) -> Iterator[FakeTensor]:
        while True:
            value = self.queues[index].get(timeout=self.timeout)
            if value is self.stop_signal:
                return
            yield value


UPSTREAM = Upstream(
    torch=FakeTorch,
    processor_class=FakeProcessor,
    model_class=FakeModel,
    streamer_class=FakeAudioStreamer,
)


@pytest.fixture
def engine(tmp_path: Path) -> VibeVoiceEngine:
    voices = tmp_path / "voices"
    voices.mkdir()
    for name in ("en-Carter_man", "en-Emma_woman"):
        (voices / f"{name}.pt").write_bytes(b"stand-in preset")
    FakeModel.chunks = 3
    FakeModel.fail_after = None
    FakeModel.instances.clear()
    FakeTorch.loads.clear()
    engine = VibeVoiceEngine(
        Settings(engine="vibevoice", vibevoice_model_path=tmp_path), upstream=UPSTREAM
    )
    engine.load()
    return engine


def _model() -> FakeModel:
    assert len(FakeModel.instances) == 1
    return FakeModel.instances[0]


def _generate_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "vibevoice-generate"]


def test_the_engine_is_experimental_and_takes_cfg_and_steps() -> None:
    assert VibeVoiceEngine.experimental is True
    assert dict(VibeVoiceEngine.parameters) == {"cfg": CFG_SCALE, "steps": INFERENCE_STEPS}


def test_load_follows_the_upstream_demo(engine: VibeVoiceEngine, tmp_path: Path) -> None:
    model = _model()
    assert engine.loaded
    assert engine.sample_rate == SAMPLE_RATE == 24000
    assert engine.voices == ("en-Carter_man", "en-Emma_woman")
    assert engine.default_voice == "en-Carter_man"
    assert model.steps == INFERENCE_STEPS
    assert model.model.noise_scheduler.config["algorithm_type"] == "sde-dpmsolver++"
    assert model.model.noise_scheduler.config["beta_schedule"] == "squaredcos_cap_v2"
    assert FakeTorch.loads == [(tmp_path / "voices" / "en-Carter_man.pt", "cpu")]


def test_synthesize_streams_the_model_chunks_as_pcm(engine: VibeVoiceEngine) -> None:
    chunks = list(engine.synthesize("  It\u2019s here.  ", "en-Emma_woman"))
    assert len(chunks) == 3
    for number, chunk in enumerate(chunks, start=1):
        samples = np.frombuffer(chunk, dtype="<i2")
        assert samples.size == CHUNK_SAMPLES
        assert set(samples.tolist()) == {int(np.float32(0.1 * number) * 32767.0)}
    model = _model()
    (call,) = model.generate_calls
    assert call["cfg_scale"] == CFG_SCALE
    assert model.steps_at_generate == [INFERENCE_STEPS]
    assert call["all_prefilled_outputs"] == {"preset": "en-Emma_woman", "cache": [1, 2, 3]}
    assert call["max_new_tokens"] is None
    processor: Any = engine._processor
    assert processor.calls[-1]["text"] == "It's here."
    assert processor.calls[-1]["cached_prompt"]["preset"] == "en-Emma_woman"
    assert _generate_threads() == []


def test_cfg_and_steps_reach_the_model(engine: VibeVoiceEngine) -> None:
    options = SynthesisOptions(cfg_scale=2.5, inference_steps=12)
    assert b"".join(engine.synthesize("Hello.", None, options))
    assert b"".join(engine.synthesize("Hello again."))
    model = _model()
    assert [call["cfg_scale"] for call in model.generate_calls] == [2.5, CFG_SCALE]
    assert model.steps_at_generate == [12, INFERENCE_STEPS]


def test_samples_outside_the_unit_range_are_clipped(engine: VibeVoiceEngine) -> None:
    FakeModel.chunks = 12  # levels 0.1 .. 1.2
    audio = np.frombuffer(b"".join(engine.synthesize("Loud.")), dtype="<i2")
    assert audio.max() == 32767


def test_closing_early_stops_generation_and_frees_the_engine(engine: VibeVoiceEngine) -> None:
    FakeModel.chunks = None  # an endless generation
    stream = engine.synthesize("Talk forever.")
    assert next(stream)
    assert next(stream)
    stream.close()  # type: ignore[attr-defined]
    model = _model()
    assert model.stopped
    assert _generate_threads() == []
    FakeModel.chunks = 1
    assert len(list(engine.synthesize("Next one."))) == 1  # the lock was released


def test_a_generation_error_is_raised_after_the_audio_so_far(engine: VibeVoiceEngine) -> None:
    FakeModel.fail_after = 2
    stream = engine.synthesize("Fail soon.")
    assert next(stream)
    assert next(stream)
    with pytest.raises(RuntimeError, match="vibevoice generation failed: diffusion head exploded"):
        next(stream)
    assert _generate_threads() == []


def test_the_service_passes_cfg_and_steps_and_says_the_engine_is_experimental(
    engine: VibeVoiceEngine,
) -> None:
    app = create_app(Settings(engine="vibevoice", log_requests=False), engine)
    with TestClient(app) as client:
        config = client.get("/config").json()
        assert config["engine"] == "vibevoice"
        assert config["experimental"] is True
        assert config["parameters"] == {"cfg": CFG_SCALE, "steps": INFERENCE_STEPS}
        assert config["sample_rate"] == 24000
        frames: list[Any] = []
        with client.websocket_connect("/stream?text=Hello%20there.&cfg=2&steps=8") as ws:
            while True:
                try:
                    message = ws.receive()
                except WebSocketDisconnect:  # pragma: no cover - the server closes with a frame
                    break
                if message["type"] == "websocket.close":
                    break
                frames.append(message.get("bytes") or json.loads(message["text"]))
    started = frames[0]
    assert started["parameters"] == {"cfg": 2.0, "steps": 8}
    assert started["ignored_parameters"] == []
    assert sum(isinstance(frame, bytes) for frame in frames) == 3
    model = _model()
    assert model.generate_calls[-1]["cfg_scale"] == 2.0
    assert model.steps_at_generate[-1] == 8

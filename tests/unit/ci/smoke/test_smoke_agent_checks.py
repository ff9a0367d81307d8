"""The agent's smoke checks (pure evaluators) and how the smoke session runs every service's."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.config import AgentSpeechCheckConfig, PipelineConfig, SpeechCheckConfig
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.smoke import session as smoke
from vibevoice_ci.smoke.agent_checks import (
    AgentChecks,
    ReplySpeechCheck,
    completed_reply,
    evaluate_refusal,
    evaluate_reply_speech,
    evaluate_turn,
    evaluate_turn_metrics,
)
from vibevoice_ci.smoke.checks import ServiceUnreachableError, SpeechCheck
from vibevoice_ci.smoke.speech import SentenceRecall
from vibevoice_platform.agent.frames import audio_frame, event_frame

RATE = 22050
HEADERS = {"x-sample-rate": str(RATE)}
END = {"type": "end_of_turn", "text": "You said: hello.", "responder": "local"}


def speech(seconds: float) -> bytes:
    count = int(RATE * seconds)
    return struct.pack(f"<{count}h", *(int(5000 * math.sin(i / 7)) for i in range(count)))


def test_a_turn_with_text_and_audio_passes() -> None:
    body = audio_frame(speech(1.0)) + audio_frame(speech(1.0)) + event_frame(END)
    outcome = evaluate_turn(200, HEADERS, body)
    assert outcome.status is Status.PASS
    assert "local responder" in outcome.detail
    assert "2.00 s" in outcome.detail


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (502, b'{"kind":"tts_unavailable"}', "HTTP 502"),
        (200, audio_frame(speech(1.0))[:-3], "malformed"),
        (200, audio_frame(speech(1.0)), "did not end cleanly"),
        (
            200,
            audio_frame(speech(1.0)) + event_frame({"type": "error", "kind": "tts_failed"}),
            "did not end cleanly",
        ),
        (200, audio_frame(speech(1.0)) + event_frame({**END, "text": " "}), "no reply text"),
        (200, audio_frame(bytes(2 * RATE)) + event_frame(END), "silent"),
        (200, audio_frame(speech(0.1)) + event_frame(END), "expected"),
    ],
)
def test_a_bad_turn_fails_with_its_reason(status: int, body: bytes, reason: str) -> None:
    outcome = evaluate_turn(status, HEADERS, body)
    assert outcome.status is Status.FAIL
    assert reason in outcome.detail


def metrics(ok: float) -> str:
    return (
        "# TYPE agent_turns_total counter\n"
        f'agent_turns_total{{responder="local",endpoint="/v1/reply",outcome="ok"}} {ok}\n'
        'agent_turns_total{responder="local",endpoint="/v1/reply",outcome="error"} 5.0\n'
    )


def test_the_turn_must_be_counted() -> None:
    assert evaluate_turn_metrics(metrics(1), metrics(2)).status is Status.PASS
    assert evaluate_turn_metrics(metrics(1), metrics(1)).status is Status.FAIL
    assert evaluate_turn_metrics(None, metrics(2)).status is Status.FAIL
    assert evaluate_turn_metrics(metrics(1), "not { prometheus").status is Status.FAIL
    assert evaluate_turn_metrics(metrics(1), metrics(float("nan"))).status is Status.FAIL


def test_a_request_without_the_token_must_be_refused() -> None:
    assert evaluate_refusal(401).status is Status.PASS
    assert evaluate_refusal(200).status is Status.FAIL


def test_the_smoke_session_runs_each_services_checks(
    monkeypatch: pytest.MonkeyPatch, make_config: Callable[..., PipelineConfig]
) -> None:
    speech_config = make_config().speech
    calls: list[tuple[str, str | None, str | None]] = []
    heard = SpeechCheck(
        "POST /v1/tts", "piper", 0.75, (), Outcome.of("speech POST /v1/tts", True, "ok"), 0.1
    )
    replied = ReplySpeechCheck(
        "piper", 0.6, "hi", 1.0, (), Outcome.of("agent speech", True, "ok"), 0.1
    )

    def tts_checks(url: str, *, wait_seconds: float) -> list[Outcome]:
        calls.append((url, None, None))
        return [Outcome.of("synthesis", True, "ok")]

    def tts_speech(url: str, speech: SpeechCheckConfig) -> list[SpeechCheck]:
        assert speech is speech_config
        return [heard]

    def agent_checks(
        url: str,
        speech: SpeechCheckConfig,
        *,
        engine: str,
        token: str | None = None,
        wait_seconds: float,
    ) -> AgentChecks:
        assert speech is speech_config
        calls.append((url, token, engine))
        if url == "http://down":
            raise ServiceUnreachableError("agent down")
        return AgentChecks([Outcome.of("agent turn", True, "ok"), replied.outcome], replied)

    monkeypatch.setattr(smoke, "run_checks", tts_checks)
    monkeypatch.setattr(smoke, "run_speech_checks", tts_speech)
    monkeypatch.setattr(smoke, "run_agent_checks", agent_checks)
    tts = smoke.service_checks("tts", "http://t", "tok", speech_config, "piper")
    assert [o.name for o in tts.outcomes] == ["synthesis", "speech POST /v1/tts"]
    assert tts.speech == [heard]
    agent = smoke.service_checks("agent", "http://a", "tok", speech_config, "piper")
    assert [o.name for o in agent.outcomes] == ["agent turn", "agent speech"]
    assert agent.speech == [replied]
    refused = smoke.service_checks("agent", "http://down", "tok", speech_config, "espeak")
    assert [(o.name, o.status) for o in refused.outcomes] == [("agent reachable", Status.FAIL)]
    assert refused.speech == []
    assert calls == [
        ("http://t", None, None),
        ("http://a", "tok", "piper"),
        ("http://down", "tok", "espeak"),
    ]
    unknown = smoke.service_checks("asr", "http://x", "tok", speech_config, "piper")
    assert [o.status for o in unknown.outcomes] == [Status.UNKNOWN]


def test_the_smoke_agent_never_uses_a_real_api_key() -> None:
    env = smoke.agent_environment("a-token-for-this-run-only")
    assert env["ANTHROPIC_API_KEY"] == ""
    assert env["VIBEVOICE_AGENT_TOKENS"] == "a-token-for-this-run-only"
    assert env["VIBEVOICE_AGENT_TOKENS_ENV"] == "VIBEVOICE_AGENT_TOKENS"


# --- the agent's speech check (pure) ----------------------------------------------------------

SPEECH = SpeechCheckConfig(
    sentences=("Please call me back.",),
    min_recall={"piper": 0.75},
    unscored={"espeak": "scores like noise"},
    agent=AgentSpeechCheckConfig(turn="Please call me back.", min_recall={"piper": 0.6}),
)


def heard(*recalls: float) -> list[SentenceRecall]:
    return [SentenceRecall(f"Sentence {n}.", "sentence", r) for n, r in enumerate(recalls)]


def test_a_reply_whose_every_sentence_is_heard_passes() -> None:
    outcome = evaluate_reply_speech("piper", heard(1.0, 0.6, 0.9), "sentence", SPEECH)

    assert outcome.status is Status.PASS
    assert outcome.name == "agent speech"
    assert "piper, reply recall >= 0.60 per sentence" in outcome.detail
    assert "heard 'sentence'" in outcome.detail


@pytest.mark.parametrize("recalls", [(1.0, 0.59, 1.0), (0.0,), (1.0, 1.0, math.nan)])
def test_one_sentence_below_the_agents_threshold_fails(recalls: tuple[float, ...]) -> None:
    outcome = evaluate_reply_speech("piper", heard(*recalls), "sentence", SPEECH)

    assert outcome.status is Status.FAIL
    assert f"1 of {len(recalls)} sentences below 0.60" in outcome.detail


def test_the_agent_has_its_own_threshold_not_the_tts_one() -> None:
    """0.7 is below tts's 0.75 and above the agent's 0.6."""
    assert evaluate_reply_speech("piper", heard(0.7), "", SPEECH).status is Status.PASS


def test_a_reply_without_sentences_fails() -> None:
    outcome = evaluate_reply_speech("piper", [], "", SPEECH)

    assert outcome.status is Status.FAIL
    assert "no sentence" in outcome.detail


def test_an_unscored_or_unmeasured_engine_is_unknown_never_a_pass() -> None:
    unscored = evaluate_reply_speech("espeak", heard(1.0), "", SPEECH)
    unmeasured = evaluate_reply_speech("vibevoice", heard(1.0), "", SPEECH)

    assert unscored.status is unmeasured.status is Status.UNKNOWN
    assert "scores like noise" in unscored.detail
    assert "smoke.agent.min_recall" in unmeasured.detail


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6), st.floats(0.01, 1.0))
def test_the_verdict_is_the_lowest_sentence_against_the_threshold(
    recalls: list[float], threshold: float
) -> None:
    config = SpeechCheckConfig(
        sentences=("Hi.",),
        min_recall={},
        agent=AgentSpeechCheckConfig(turn="Hi.", min_recall={"piper": threshold}),
    )

    outcome = evaluate_reply_speech("piper", heard(*recalls), "", config)

    assert outcome.passed == (min(recalls) >= threshold)


def test_the_speech_check_json() -> None:
    check = ReplySpeechCheck(
        "piper",
        0.6,
        "you said hi",
        1.23456,
        (SentenceRecall("You said: hi.", "you said hi", 1.0),),
        Outcome.of("agent speech", True, "ok"),
        0.5,
    )

    assert check.to_json() == {
        "endpoint": "agent POST /v1/reply",
        "check": "agent speech",
        "status": "pass",
        "engine": "piper",
        "min_recall": 0.6,
        "seconds": 0.5,
        "transcript": "you said hi",
        "audio_seconds": 1.235,
        "sentences": [{"text": "You said: hi.", "heard": "you said hi", "recall": 1.0}],
    }


def test_only_a_turn_that_ended_cleanly_has_a_reply_to_hear() -> None:
    audio = speech(1.0)
    reply = completed_reply(200, HEADERS, audio_frame(audio) + event_frame(END))

    assert reply is not None
    assert reply[0].audio == audio
    assert reply[1] == RATE
    assert completed_reply(502, HEADERS, b"{}") is None
    assert completed_reply(200, HEADERS, audio_frame(audio)[:-1]) is None
    assert completed_reply(200, HEADERS, audio_frame(audio)) is None
    error = event_frame({"type": "error", "kind": "tts_failed"})
    assert completed_reply(200, HEADERS, audio_frame(audio) + error) is None
    assert completed_reply(200, {}, event_frame(END)) == (reply[0].__class__(b"", [END]), 0)

"""The agent's smoke checks (pure evaluators) and how the smoke session runs every service's."""

from __future__ import annotations

import math
import struct

import pytest

from vibevoice_ci import smoke
from vibevoice_ci.agent_checks import (
    evaluate_refusal,
    evaluate_turn,
    evaluate_turn_metrics,
)
from vibevoice_ci.report import Status
from vibevoice_ci.smoke_checks import ServiceUnreachableError
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


def test_the_smoke_session_runs_each_services_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str | None]] = []

    def tts_checks(url: str) -> list[smoke.Outcome]:
        calls.append((url, None))
        return [smoke.Outcome.of("synthesis", True, "ok")]

    def agent_checks(url: str, *, token: str | None = None) -> list[smoke.Outcome]:
        calls.append((url, token))
        raise ServiceUnreachableError("agent down")

    monkeypatch.setattr(smoke, "run_checks", tts_checks)
    monkeypatch.setattr(smoke, "run_agent_checks", agent_checks)
    assert smoke.service_checks("tts", "http://t", "tok")[0].status is Status.PASS
    refused = smoke.service_checks("agent", "http://a", "tok")
    assert [(o.name, o.status) for o in refused] == [("agent reachable", Status.FAIL)]
    assert calls == [("http://t", None), ("http://a", "tok")]
    unknown = smoke.service_checks("asr", "http://x", "tok")
    assert [o.status for o in unknown] == [Status.UNKNOWN]


def test_the_smoke_agent_never_uses_a_real_api_key() -> None:
    env = smoke.agent_environment("a-token-for-this-run-only")
    assert env["ANTHROPIC_API_KEY"] == ""
    assert env["VIBEVOICE_AGENT_TOKENS"] == "a-token-for-this-run-only"
    assert env["VIBEVOICE_AGENT_TOKENS_ENV"] == "VIBEVOICE_AGENT_TOKENS"

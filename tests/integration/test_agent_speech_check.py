"""The agent's speech check through the real services on 127.0.0.1.

The real agent (local responder) speaks through the real Piper tts service: its reply passes
every agent check, ``agent speech`` included. Then a tampering proxy between the agent and
that tts plants a fault in what tts sends back (audio cut short, silence, byte-swapped
samples, another text spoken): the agent still answers a clean turn with audio of plausible
length, so ``agent turn`` passes, and only ``agent speech`` catches it. With espeak behind
the agent the check is unknown, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from agent_helpers import running_agent
from anthropic_replay import bound_port, serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.smoke.agent_checks import SPEECH_CHECK, run_agent_checks
from vibevoice_ci.smoke.local_service import LocalService, running_agent_service
from vibevoice_platform.agent.settings import Settings

# One worker for the whole module: the module's Piper service, proxy and agent serve every test.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("agent-speech-check")]

SPEECH = load_config().speech


@dataclass
class TamperingTTS:
    """Forwards ``POST /v1/tts`` and ``/ready`` to a real tts, planting ``fault`` in the
    answer: ``none``, ``truncate`` (each sentence's audio cut to its first half),
    ``silence``, ``byteswap``, or ``other-text`` (tts is asked for another sentence)."""

    upstream: str
    fault: str = "none"
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/tts", self.tts, methods=["POST"]),
                Route("/ready", self.ready, methods=["GET"]),
            ]
        )

    async def ready(self, request: Request) -> Response:
        async with httpx.AsyncClient(base_url=self.upstream, trust_env=False) as client:
            answer = await client.get("/ready")
        return JSONResponse(answer.json(), status_code=answer.status_code)

    async def tts(self, request: Request) -> Response:
        payload = await request.json()
        if self.fault == "other-text":
            payload["text"] = SPEECH.sentences[-1]
        async with httpx.AsyncClient(
            base_url=self.upstream, trust_env=False, timeout=60.0
        ) as client:
            answer = await client.post("/v1/tts", json=payload)
        pcm = answer.content
        if self.fault == "truncate":
            pcm = pcm[: len(pcm) // 4 * 2]
        elif self.fault == "silence":
            pcm = bytes(len(pcm))
        elif self.fault == "byteswap":
            pcm = np.frombuffer(pcm, dtype="<i2").byteswap().tobytes()
        headers = {"X-Sample-Rate": answer.headers["x-sample-rate"]}
        return Response(pcm, answer.status_code, headers, answer.headers["content-type"])


@pytest.fixture(scope="module")
def tampering(tts_piper: LocalService) -> Iterator[TamperingTTS]:
    proxy = TamperingTTS(tts_piper.url)
    with serve_in_thread(proxy.app()) as server:
        proxy.port = bound_port(server)
        yield proxy


@pytest.fixture(scope="module")
def agent_behind_tampering(tampering: TamperingTTS) -> Iterator[str]:
    with running_agent(Settings(tts_url=tampering.url)) as url:
        yield url


def test_the_agents_reply_through_piper_passes_every_check(tts_piper: LocalService) -> None:
    token = "agent-speech-token-0123456789"  # noqa: S105 - a test token
    env = {
        "VIBEVOICE_AGENT_TOKENS_ENV": "AGENT_SPEECH_TOKENS",
        "AGENT_SPEECH_TOKENS": token,
        "ANTHROPIC_API_KEY": "",
    }
    with running_agent_service(tts_piper.url, env=env) as agent:
        checks = run_agent_checks(agent.url, SPEECH, engine="piper", token=token)

    assert [(o.name, o.status) for o in checks.outcomes] == [
        ("agent health", Status.PASS),
        ("agent ready", Status.PASS),
        ("agent auth", Status.PASS),
        ("agent turn", Status.PASS),
        (SPEECH_CHECK, Status.PASS),
        ("agent metrics", Status.PASS),
    ], [o.line() for o in checks.outcomes]
    heard = checks.speech
    assert heard is not None
    assert heard.engine == "piper"
    assert heard.min_recall == SPEECH.agent_min_recall["piper"]
    assert heard.sentences[0].text.startswith("You said:")
    assert SPEECH.agent_turn.rstrip(".") in heard.sentences[0].text
    assert all(s.recall >= SPEECH.agent_min_recall["piper"] for s in heard.sentences)
    assert heard.audio_seconds > 3.0


def test_the_tampering_proxy_passes_healthy_audio_through(
    tampering: TamperingTTS, agent_behind_tampering: str
) -> None:
    tampering.fault = "none"

    checks = run_agent_checks(agent_behind_tampering, SPEECH, engine="piper")

    assert all(o.status is Status.PASS for o in checks.outcomes), [
        o.line() for o in checks.outcomes
    ]


@pytest.mark.parametrize("fault", ["truncate", "silence", "byteswap", "other-text"])
def test_a_fault_behind_the_agent_fails_only_the_speech_check(
    tampering: TamperingTTS, agent_behind_tampering: str, fault: str
) -> None:
    tampering.fault = fault
    try:
        checks = run_agent_checks(agent_behind_tampering, SPEECH, engine="piper")
    finally:
        tampering.fault = "none"

    statuses = {o.name: o.status for o in checks.outcomes}
    failed = sorted(name for name, status in statuses.items() if status is not Status.PASS)
    if fault == "silence":
        # the older turn check catches silence by its loudness too
        assert failed == ["agent speech", "agent turn"], [o.line() for o in checks.outcomes]
    else:
        assert failed == [SPEECH_CHECK], [o.line() for o in checks.outcomes]
    assert checks.speech is not None
    assert "below" in checks.speech.outcome.detail


def test_with_espeak_behind_the_agent_the_speech_check_is_unknown(
    tts_espeak: LocalService,
) -> None:
    with running_agent_service(tts_espeak.url, env={"ANTHROPIC_API_KEY": ""}) as agent:
        checks = run_agent_checks(agent.url, SPEECH, engine="espeak")

    statuses = {o.name: o.status for o in checks.outcomes}
    assert statuses.pop(SPEECH_CHECK) is Status.UNKNOWN
    assert set(statuses.values()) == {Status.PASS}
    assert checks.speech is not None
    assert SPEECH.unscored["espeak"] in checks.speech.outcome.detail
    assert checks.speech.sentences  # still transcribed and reported

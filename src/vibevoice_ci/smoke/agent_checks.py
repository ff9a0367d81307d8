"""The smoke checks against a running agent service: pure evaluators plus one HTTP driver.

One full turn end to end through the local responder: ``POST /v1/reply`` must answer 200 with
reply text and non-silent audio of plausible length, the audio must say the reply text
(``agent speech``: the offline recogniser of ``speech.py``, each sentence of the text the
agent streamed scored against one transcript of the whole reply), and
``agent_turns_total`` must count the turn. With a token, a request without it must be refused
with 401 first. Check names start with ``agent``, next to the tts checks in the same report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from vibevoice_ci.core.config import SpeechCheckConfig
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.core.reports import report_json
from vibevoice_ci.smoke.checks import (
    RecallRule,
    evaluate_audio,
    judge_recalls,
    wait_until_reachable,
)
from vibevoice_ci.smoke.reports import ReplySpeechCheckResult
from vibevoice_ci.smoke.speech import (
    Recogniser,
    RecogniserUnavailableError,
    SentenceRecall,
    sentence_recalls,
)
from vibevoice_platform.agent.frames import FrameError, Reply, decode_reply
from vibevoice_platform.agent.sentences import split_all

TURNS_METRIC = "agent_turns_total"
REPLY_PATH = "/v1/reply"
REPLY_ENDPOINT = f"POST {REPLY_PATH}"
SPEECH_CHECK = "agent speech"


@dataclass(frozen=True)
class AgentChecks:
    """Every agent check's verdict, and what the recogniser heard of the reply."""

    outcomes: list[Outcome]
    speech: ReplySpeechCheck | None


@dataclass(frozen=True)
class ReplySpeechCheck:
    """The agent's speech check: its verdict and, as data, what the recogniser heard."""

    engine: str
    min_recall: float | None
    transcript: str
    audio_seconds: float
    sentences: tuple[SentenceRecall, ...]
    outcome: Outcome
    seconds: float

    def report(self) -> ReplySpeechCheckResult:
        return ReplySpeechCheckResult(
            endpoint=f"agent {REPLY_ENDPOINT}",
            check=self.outcome.name,
            status=self.outcome.status,
            engine=self.engine,
            min_recall=self.min_recall,
            seconds=round(self.seconds, 2),
            transcript=self.transcript,
            audio_seconds=round(self.audio_seconds, 3),
            sentences=[sentence.report() for sentence in self.sentences],
        )

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = report_json(self.report())
        return document


def evaluate_turn(status: int, headers: dict[str, str], body: bytes) -> Outcome:
    """A 200 frame stream ending in ``end_of_turn`` with reply text and speech-like audio."""
    name = "agent turn"
    if status != 200:
        return Outcome.of(name, False, f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
    try:
        reply = decode_reply(body)
    except FrameError as exc:
        return Outcome.of(name, False, f"malformed reply stream: {exc}")
    final = reply.final or {}
    if final.get("type") != "end_of_turn":
        return Outcome.of(name, False, f"the turn did not end cleanly: {final or 'no event'}")
    text = str(final.get("text", "")).strip()
    if not text:
        return Outcome.of(name, False, "the end-of-turn event carries no reply text")
    try:
        rate = int(headers.get("x-sample-rate", "0"))
    except ValueError:
        rate = 0
    audio = evaluate_audio(reply.audio, rate, "audio/L16")
    responder = final.get("responder", "?")
    detail = f"{responder} responder, {len(text)} characters of text; {audio.detail}"
    return Outcome.of(name, audio.passed, detail)


def evaluate_reply_speech(
    engine: str, sentences: Sequence[SentenceRecall], transcript: str, config: SpeechCheckConfig
) -> Outcome:
    """Pass when every sentence of the reply reaches the engine's measured threshold for the
    agent (pure). As for tts: an unscored engine, or one without a threshold, is unknown
    (never a pass); a reply without a sentence to hear fails."""
    heard = "; ".join(f"{sentence.recall:.2f} {sentence.text!r}" for sentence in sentences)
    heard += f"; heard {transcript!r}"
    return judge_recalls(
        SPEECH_CHECK,
        engine,
        [sentence.recall for sentence in sentences],
        RecallRule(
            config.agent_min_recall, config.unscored, "tool.vibevoice-ci.smoke.agent.min_recall"
        ),
        listed=heard,
        noted=heard,
        subject="reply recall",
        nothing="the reply has no sentence to hear",
    )


def check_reply_speech(
    text: str,
    pcm: bytes,
    rate: int,
    engine: str,
    recogniser: Recogniser,
    config: SpeechCheckConfig,
) -> ReplySpeechCheck:
    """Transcribe the reply's audio once and score each sentence of ``text`` (the reply the
    agent streamed, cut into sentences as the agent cuts it) against that transcript."""
    started = time.perf_counter()
    seconds = (len(pcm) // 2) / rate if rate > 0 else 0.0
    transcript = recogniser.transcribe(pcm, rate) if rate > 0 and pcm else ""
    sentences = tuple(sentence_recalls(split_all(text), transcript))
    outcome = evaluate_reply_speech(engine, sentences, transcript, config)
    took = time.perf_counter() - started
    outcome = Outcome(outcome.name, outcome.status, f"{outcome.detail} ({took:.1f} s)")
    return ReplySpeechCheck(
        engine,
        config.agent_min_recall.get(engine),
        transcript,
        seconds,
        sentences,
        outcome,
        took,
    )


def _no_speech_check(status: Status, detail: str, engine: str) -> ReplySpeechCheck:
    return ReplySpeechCheck(engine, None, "", 0.0, (), Outcome(SPEECH_CHECK, status, detail), 0.0)


def turn_count(metrics_text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == TURNS_METRIC and sample.labels.get("outcome") == "ok":
                total += sample.value
    return total


def evaluate_turn_metrics(before: str | None, after: str | None) -> Outcome:
    """``agent_turns_total{outcome="ok"}`` went up by at least one across the smoke turn."""
    name = "agent metrics"
    if before is None or after is None:
        return Outcome.of(name, False, "GET /metrics did not answer 200 before and after")
    try:
        count_before, count_after = turn_count(before), turn_count(after)
    except ValueError as exc:
        return Outcome.of(name, False, f"not Prometheus text format: {exc}")
    ok = math.isfinite(count_after) and count_after >= count_before + 1
    return Outcome.of(name, ok, f"{TURNS_METRIC} ok {count_before:g} -> {count_after:g}")


def evaluate_refusal(status: int) -> Outcome:
    return Outcome.of(
        "agent auth", status == 401, f"a turn without the token got HTTP {status} (expected 401)"
    )


def run_agent_checks(
    base_url: str,
    speech: SpeechCheckConfig,
    *,
    engine: str,
    token: str | None = None,
    wait_seconds: float = 60.0,
) -> AgentChecks:
    """Every agent smoke check against ``base_url``; raises ServiceUnreachableError if down.

    The smoke turn is ``speech.agent_turn``; its reply is checked twice: as a turn (text,
    audio of plausible length) and as speech (the audio says the reply text, held to
    ``speech.agent_min_recall[engine]``, ``engine`` being the tts engine behind the agent).
    """
    base = base_url.rstrip("/")
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    results: list[Outcome] = []
    with httpx.Client(base_url=base, timeout=60.0, trust_env=False) as client:
        wait_until_reachable(client, f"{base}/health", wait_seconds)
        for name, path in (("agent health", "/health"), ("agent ready", "/ready")):
            results.append(_status(client, name, path))
        if token:
            results.append(_refused(client, speech.agent_turn))
        before = _text(client, "/metrics", auth)
        turn, reply = _turn(client, speech.agent_turn, auth)
        results.append(turn)
        heard = _reply_speech(reply, engine, speech)
        results.append(heard.outcome)
        after = _text(client, "/metrics", auth)
        results.append(evaluate_turn_metrics(before, after))
    return AgentChecks(results, heard)


def _reply_speech(
    reply: tuple[Reply, int] | None, engine: str, config: SpeechCheckConfig
) -> ReplySpeechCheck:
    if reply is None:
        return _no_speech_check(
            Status.FAIL, "no complete reply to hear (see the agent turn check)", engine
        )
    decoded, rate = reply
    try:
        recogniser = Recogniser()
    except RecogniserUnavailableError as exc:
        return _no_speech_check(Status.UNKNOWN, str(exc), engine)
    text = str((decoded.final or {}).get("text", ""))
    return check_reply_speech(text, decoded.audio, rate, engine, recogniser, config)


def _status(client: httpx.Client, name: str, path: str) -> Outcome:
    started = time.perf_counter()
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        return Outcome.of(name, False, f"{type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - started) * 1000
    ok = response.status_code == 200
    return Outcome.of(name, ok, f"HTTP {response.status_code} in {ms:.0f} ms")


def _refused(client: httpx.Client, text: str) -> Outcome:
    try:
        response = client.post(REPLY_PATH, json={"text": text})
    except httpx.HTTPError as exc:
        return Outcome.of("agent auth", False, f"{type(exc).__name__}: {exc}")
    return evaluate_refusal(response.status_code)


def _text(client: httpx.Client, path: str, headers: dict[str, str]) -> str | None:
    try:
        response = client.get(path, headers=headers)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


def _turn(
    client: httpx.Client, text: str, headers: dict[str, str]
) -> tuple[Outcome, tuple[Reply, int] | None]:
    """The turn check, streamed and timed (when the first bytes came, how long the whole
    took), and the decoded reply with its sample rate when it ended cleanly."""
    started = time.perf_counter()
    first: float | None = None
    body = bytearray()
    try:
        with client.stream("POST", REPLY_PATH, json={"text": text}, headers=headers) as response:
            for chunk in response.iter_bytes():
                if first is None and chunk:
                    first = time.perf_counter() - started
                body += chunk
    except httpx.HTTPError as exc:
        return Outcome.of("agent turn", False, f"{type(exc).__name__}: {exc}"), None
    total = time.perf_counter() - started
    status, response_headers = response.status_code, dict(response.headers)
    outcome = evaluate_turn(status, response_headers, bytes(body))
    timing = f"first bytes after {(first or total) * 1000:.0f} ms, whole turn {total * 1000:.0f} ms"
    return (
        Outcome(outcome.name, outcome.status, f"{outcome.detail}; {timing}"),
        completed_reply(status, response_headers, bytes(body)),
    )


def completed_reply(status: int, headers: dict[str, str], body: bytes) -> tuple[Reply, int] | None:
    """The reply and its sample rate, when the turn answered 200 and ended with an
    ``end_of_turn`` event (pure); else None: there is no whole reply to hear."""
    if status != 200:
        return None
    try:
        reply = decode_reply(body)
    except FrameError:
        return None
    if (reply.final or {}).get("type") != "end_of_turn":
        return None
    try:
        rate = int(headers.get("x-sample-rate", "0"))
    except ValueError:
        rate = 0
    return reply, rate

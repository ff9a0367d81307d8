"""The smoke checks against a running agent service: pure evaluators plus one HTTP driver.

One full turn end to end through the local responder: ``POST /v1/reply`` must answer 200 with
reply text and non-silent audio of plausible length, and ``agent_turns_total`` must count it.
With a token, a request without it must be refused with 401 first. Check names start with
``agent``, next to the tts checks in the same report.
"""

from __future__ import annotations

import math
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from vibevoice_ci.report import Outcome
from vibevoice_ci.smoke_checks import evaluate_audio, wait_until_reachable
from vibevoice_platform.agent.frames import FrameError, decode_reply

AGENT_SMOKE_TEXT = "Hello agent, this is the smoke test."
TURNS_METRIC = "agent_turns_total"
REPLY_PATH = "/v1/reply"


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
    base_url: str, *, token: str | None = None, wait_seconds: float = 60.0
) -> list[Outcome]:
    """Every agent smoke check against ``base_url``; raises ServiceUnreachableError if down."""
    base = base_url.rstrip("/")
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    results: list[Outcome] = []
    with httpx.Client(base_url=base, timeout=60.0, trust_env=False) as client:
        wait_until_reachable(client, f"{base}/health", wait_seconds)
        for name, path in (("agent health", "/health"), ("agent ready", "/ready")):
            results.append(_status(client, name, path))
        if token:
            results.append(_refused(client))
        before = _text(client, "/metrics", auth)
        results.append(_turn(client, auth))
        after = _text(client, "/metrics", auth)
        results.append(evaluate_turn_metrics(before, after))
    return results


def _status(client: httpx.Client, name: str, path: str) -> Outcome:
    started = time.perf_counter()
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        return Outcome.of(name, False, f"{type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - started) * 1000
    ok = response.status_code == 200
    return Outcome.of(name, ok, f"HTTP {response.status_code} in {ms:.0f} ms")


def _refused(client: httpx.Client) -> Outcome:
    try:
        response = client.post(REPLY_PATH, json={"text": AGENT_SMOKE_TEXT})
    except httpx.HTTPError as exc:
        return Outcome.of("agent auth", False, f"{type(exc).__name__}: {exc}")
    return evaluate_refusal(response.status_code)


def _text(client: httpx.Client, path: str, headers: dict[str, str]) -> str | None:
    try:
        response = client.get(path, headers=headers)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


def _turn(client: httpx.Client, headers: dict[str, str]) -> Outcome:
    """One turn, streamed: its outcome says when the first bytes came and the whole took."""
    started = time.perf_counter()
    first: float | None = None
    body = bytearray()
    try:
        with client.stream(
            "POST", REPLY_PATH, json={"text": AGENT_SMOKE_TEXT}, headers=headers
        ) as response:
            for chunk in response.iter_bytes():
                if first is None and chunk:
                    first = time.perf_counter() - started
                body += chunk
    except httpx.HTTPError as exc:
        return Outcome.of("agent turn", False, f"{type(exc).__name__}: {exc}")
    total = time.perf_counter() - started
    outcome = evaluate_turn(response.status_code, dict(response.headers), bytes(body))
    timing = f"first bytes after {(first or total) * 1000:.0f} ms, whole turn {total * 1000:.0f} ms"
    return Outcome(outcome.name, outcome.status, f"{outcome.detail}; {timing}")

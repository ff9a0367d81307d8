"""The smoke checks against a running tts service, as pure evaluators plus one HTTP driver.

Each evaluator takes what the service answered and returns an ``Outcome``; ``run_checks``
is the only part that talks to the network (127.0.0.1 or a published container port).
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from vibevoice_ci.report import Outcome

SMOKE_TEXT = "Smoke test. The voice agent is ready."
REQUESTS_METRIC = "tts_requests_total"
SYNTHESIS_PATH = "/v1/tts"
# A short sentence lasts about 0.3 s to 10 s at any sane speaking rate.
MIN_AUDIO_SECONDS = 0.3
MAX_AUDIO_SECONDS = 15.0
# Full-scale int16 is 32767; speech sits far above this RMS, digital silence at 0.
MIN_RMS = 100.0
# How long the metrics check waits for the synthesis to be counted.
METRICS_SETTLE_SECONDS = 5.0


class ServiceUnreachableError(Exception):
    """The service did not answer at all within the bounded wait."""


def rms_int16(pcm: bytes) -> float:
    """Root mean square of little-endian int16 samples (a trailing odd byte is ignored)."""
    count = len(pcm) // 2
    if count == 0:
        return 0.0
    samples = struct.unpack(f"<{count}h", pcm[: count * 2])
    return math.sqrt(sum(sample * sample for sample in samples) / count)


def evaluate_status(name: str, status: int, elapsed_ms: float, expected: int = 200) -> Outcome:
    ok = status == expected
    return Outcome.of(
        name,
        ok,
        f"HTTP {status} in {elapsed_ms:.0f} ms" + ("" if ok else f" (expected {expected})"),
    )


def evaluate_audio(pcm: bytes, sample_rate: int, content_type: str) -> Outcome:
    """Non-silent int16 mono audio of plausible length for ``SMOKE_TEXT``."""
    name = "synthesis"
    if not content_type.startswith("audio/"):
        return Outcome.of(name, False, f"content type {content_type!r} is not audio")
    if sample_rate <= 0:
        return Outcome.of(name, False, f"sample rate {sample_rate} is not positive")
    if len(pcm) % 2:
        return Outcome.of(name, False, f"{len(pcm)} bytes is not whole int16 samples")
    seconds = len(pcm) / 2 / sample_rate
    rms = rms_int16(pcm)
    detail = f"{seconds:.2f} s of audio at {sample_rate} Hz, RMS {rms:.0f}"
    if not MIN_AUDIO_SECONDS <= seconds <= MAX_AUDIO_SECONDS:
        return Outcome.of(
            name, False, detail + (f" (expected {MIN_AUDIO_SECONDS}-{MAX_AUDIO_SECONDS} s)")
        )
    if rms < MIN_RMS:
        return Outcome.of(name, False, detail + f" (silent: RMS below {MIN_RMS:.0f})")
    return Outcome.of(name, True, detail)


def synthesis_request_count(metrics_text: str) -> float:
    """Sum of ``tts_requests_total`` samples for the synthesis endpoint with a 2xx status."""
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name != REQUESTS_METRIC:
                continue
            endpoint = sample.labels.get("endpoint", "")
            if endpoint.endswith(SYNTHESIS_PATH) and sample.labels.get("status", "").startswith(
                "2"
            ):
                total += sample.value
    return total


def evaluate_metrics(before: str | None, after: str | None) -> Outcome:
    """``after`` parses as Prometheus text and counts at least one more synthesis than
    ``before``. A scrape that failed (``None``) on either side fails the check: without both
    counts nothing shows the synthesis was counted."""
    name = "metrics"
    if before is None or after is None:
        when = "before" if before is None else "after"
        return Outcome.of(name, False, f"GET /metrics {when} the synthesis did not answer 200")
    try:
        count_after = synthesis_request_count(after)
        count_before = synthesis_request_count(before)
    except ValueError as exc:
        return Outcome.of(name, False, f"not Prometheus text format: {exc}")
    # Written so that NaN (any comparison is False) fails rather than passes.
    if not (
        math.isfinite(count_before)
        and math.isfinite(count_after)
        and count_after >= count_before + 1
    ):
        return Outcome.of(
            name,
            False,
            (
                f"{REQUESTS_METRIC} for {SYNTHESIS_PATH} went {count_before:g} -> {count_after:g}; "
                "the smoke synthesis was not counted"
            ),
        )
    return Outcome.of(
        name,
        True,
        (f"parsed; {REQUESTS_METRIC} for {SYNTHESIS_PATH} {count_before:g} -> {count_after:g}"),
    )


def wait_until_reachable(client: httpx.Client, url: str, timeout: float) -> None:
    """Poll ``url`` until it answers with any HTTP status, or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while True:
        try:
            client.get(url, timeout=2.0)
            return
        except httpx.HTTPError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise ServiceUnreachableError(f"{url} unreachable after {timeout:g} s ({last_error})")
        time.sleep(0.25)


def run_checks(base_url: str, *, wait_seconds: float = 60.0) -> list[Outcome]:
    """Run every smoke check against ``base_url``; raises ServiceUnreachableError if it is down."""
    base = base_url.rstrip("/")
    results: list[Outcome] = []
    with httpx.Client(base_url=base, timeout=60.0) as client:
        wait_until_reachable(client, f"{base}/health", wait_seconds)
        results.append(_timed("health", lambda: client.get("/health")))
        results.append(_timed("ready", lambda: client.get("/ready")))
        before = _get_text(client, "/metrics")
        results.append(_synthesis(client))
        results.append(_metrics_after(client, before))
    return results


def _metrics_after(client: httpx.Client, before: str | None) -> Outcome:
    """The metrics check, scraping again for up to ``METRICS_SETTLE_SECONDS``: the service
    counts a request when its handler returns, which can be a moment after the client has the
    last audio byte (seen through kubectl port-forward and with espeak)."""
    deadline = time.monotonic() + METRICS_SETTLE_SECONDS
    while True:
        outcome = evaluate_metrics(before, _get_text(client, "/metrics"))
        if outcome.passed or before is None or time.monotonic() >= deadline:
            return outcome
        time.sleep(0.2)


def _timed(name: str, call: Callable[[], httpx.Response]) -> Outcome:
    started = time.perf_counter()
    try:
        response = call()
    except httpx.HTTPError as exc:
        return Outcome.of(name, False, f"{type(exc).__name__}: {exc}")
    return evaluate_status(name, response.status_code, (time.perf_counter() - started) * 1000)


def _get_text(client: httpx.Client, path: str) -> str | None:
    try:
        response = client.get(path)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


def _synthesis(client: httpx.Client) -> Outcome:
    try:
        response = client.post(SYNTHESIS_PATH, json={"text": SMOKE_TEXT, "format": "pcm"})
    except httpx.HTTPError as exc:
        return Outcome.of("synthesis", False, f"{type(exc).__name__}: {exc}")
    if response.status_code != 200:
        return Outcome.of("synthesis", False, f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        sample_rate = int(response.headers.get("x-sample-rate", "0"))
    except ValueError:
        sample_rate = 0
    return evaluate_audio(response.content, sample_rate, response.headers.get("content-type", ""))

"""The smoke checks against a running tts service, as pure evaluators plus the drivers.

Each evaluator takes what the service answered and returns an ``Outcome``; ``run_checks``
and ``run_speech_checks`` are the only parts that talk to the network (127.0.0.1 or a
published container port).
"""

from __future__ import annotations

import json
import math
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect

from vibevoice_ci.core.config import SpeechCheckConfig
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.core.reports import report_json
from vibevoice_ci.smoke.reports import SpeechCheckResult
from vibevoice_ci.smoke.speech import Recogniser, RecogniserUnavailableError, SpeechScore

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


# --- the speech check: does the audio say the text? -------------------------------------------

STREAM_PATH = "/stream"
SPEECH_ENDPOINTS = (f"POST {SYNTHESIS_PATH}", f"WS {STREAM_PATH}")
CLOSE_NORMAL = 1000


class AudioFetchError(Exception):
    """An endpoint did not deliver a complete stream of audio for a sentence."""


@dataclass(frozen=True)
class SpokenAudio:
    """The audio an endpoint returned for one sentence, and the engine it says spoke it."""

    engine: str
    sample_rate: int
    pcm: bytes


@dataclass(frozen=True)
class SpeechCheck:
    """One endpoint's speech check: its verdict and, as data, what the recogniser heard."""

    endpoint: str
    engine: str
    min_recall: float | None
    scores: tuple[SpeechScore, ...]
    outcome: Outcome
    seconds: float

    def report(self) -> SpeechCheckResult:
        return SpeechCheckResult(
            endpoint=self.endpoint,
            check=self.outcome.name,
            status=self.outcome.status,
            engine=self.engine,
            min_recall=self.min_recall,
            seconds=round(self.seconds, 2),
            sentences=[score.report() for score in self.scores],
        )

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = report_json(self.report())
        return document


def speech_check_name(endpoint: str) -> str:
    """``speech POST /v1/tts``: the check's name in the report."""
    return f"speech {endpoint}"


def evaluate_speech(
    endpoint: str, engine: str, scores: Sequence[SpeechScore], config: SpeechCheckConfig
) -> Outcome:
    """Pass when every sentence's recall reaches the engine's measured threshold (pure).

    An engine configured as unscored, or with no measured threshold, is unknown (never a
    pass); no score at all (no sentence was checked) fails.
    """
    heard = "; ".join(f"{score.recall:.2f} {score.transcript!r}" for score in scores)
    return judge_recalls(
        speech_check_name(endpoint),
        engine,
        [score.recall for score in scores],
        RecallRule(config.min_recall, config.unscored, "tool.vibevoice-ci.smoke.min_recall"),
        listed=heard,
        noted=f"heard {heard}",
        subject="recall",
        nothing="no sentence was checked",
    )


@dataclass(frozen=True)
class RecallRule:
    """Per engine, the lowest recall each sentence must reach (``thresholds``, from the
    config table ``table``) or why it is not scored (``unscored``)."""

    thresholds: Mapping[str, float]
    unscored: Mapping[str, str]
    table: str


def judge_recalls(
    name: str,
    engine: str,
    recalls: Sequence[float],
    rule: RecallRule,
    *,
    listed: str,
    noted: str,
    subject: str,
    nothing: str,
) -> Outcome:
    """The one speech verdict of the tts and the agent checks (pure): no sentence fails
    (``nothing``); an unscored engine, or one without a threshold, is unknown (``noted`` says
    what was heard); else every recall must reach the threshold (``listed`` in the detail)."""
    if not recalls:
        return Outcome.of(name, False, nothing)
    if engine in rule.unscored:
        return Outcome(
            name, Status.UNKNOWN, f"{engine}: not scored ({rule.unscored[engine]}); {noted}"
        )
    threshold = rule.thresholds.get(engine)
    if threshold is None:
        return Outcome(
            name,
            Status.UNKNOWN,
            f"{engine}: no measured recall threshold in [{rule.table}]; {noted}",
        )
    # Written so that NaN (any comparison is False) fails rather than passes.
    low = sum(1 for recall in recalls if not recall >= threshold)
    detail = f"{engine}, {subject} >= {threshold:.2f} per sentence: {listed}"
    if low:
        return Outcome.of(
            name, False, f"{detail} ({low} of {len(recalls)} sentences below {threshold:.2f})"
        )
    return Outcome.of(name, True, detail)


def check_speech(
    endpoint: str,
    fetch: Callable[[str], SpokenAudio],
    recogniser: Recogniser,
    config: SpeechCheckConfig,
) -> SpeechCheck:
    """Fetch each sentence's audio with ``fetch``, transcribe it and judge the recall."""
    started = time.perf_counter()
    scores: list[SpeechScore] = []
    engines: set[str] = set()
    for sentence in config.sentences:
        try:
            audio = fetch(sentence)
        except AudioFetchError as exc:
            outcome = Outcome.of(speech_check_name(endpoint), False, f"{sentence!r}: {exc}")
            return SpeechCheck(
                endpoint, "/".join(sorted(engines)), None, tuple(scores), outcome, _since(started)
            )
        engines.add(audio.engine)
        scores.append(recogniser.score(sentence, audio.pcm, audio.sample_rate))
    engine = "/".join(sorted(engines))
    outcome = evaluate_speech(endpoint, engine, scores, config)
    seconds = _since(started)
    outcome = Outcome(outcome.name, outcome.status, f"{outcome.detail} ({seconds:.1f} s)")
    return SpeechCheck(
        endpoint, engine, config.min_recall.get(engine), tuple(scores), outcome, seconds
    )


def run_speech_checks(
    base_url: str, config: SpeechCheckConfig, *, timeout: float = 60.0
) -> list[SpeechCheck]:
    """The speech check on each endpoint (``POST /v1/tts`` and ``WS /stream``).

    A recogniser that cannot load makes every endpoint's check unknown, saying why.
    """
    try:
        recogniser = Recogniser()
    except RecogniserUnavailableError as exc:
        return [
            SpeechCheck(
                endpoint,
                "",
                None,
                (),
                Outcome(speech_check_name(endpoint), Status.UNKNOWN, str(exc)),
                0.0,
            )
            for endpoint in SPEECH_ENDPOINTS
        ]
    base = base_url.rstrip("/")
    with httpx.Client(base_url=base, timeout=timeout, trust_env=False) as client:
        fetchers: dict[str, Callable[[str], SpokenAudio]] = {
            SPEECH_ENDPOINTS[0]: lambda text: fetch_http_audio(client, text),
            SPEECH_ENDPOINTS[1]: lambda text: fetch_ws_audio(base, text, timeout=timeout),
        }
        return [
            check_speech(endpoint, fetch, recogniser, config)
            for endpoint, fetch in fetchers.items()
        ]


def fetch_http_audio(client: httpx.Client, text: str) -> SpokenAudio:
    """``POST /v1/tts`` for ``text`` as PCM; the whole body, or AudioFetchError."""
    try:
        response = client.post(SYNTHESIS_PATH, json={"text": text, "format": "pcm"})
    except httpx.HTTPError as exc:
        raise AudioFetchError(f"{type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise AudioFetchError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        sample_rate = int(response.headers.get("x-sample-rate", ""))
    except ValueError:
        raise AudioFetchError("no X-Sample-Rate header") from None
    return SpokenAudio(response.headers.get("x-engine", ""), sample_rate, response.content)


def fetch_ws_audio(base_url: str, text: str, *, timeout: float = 60.0) -> SpokenAudio:
    """``WS /stream?text=`` for ``text``: the binary frames between the ``started`` log frame
    and a close with code 1000 after a ``finished`` frame; else AudioFetchError."""
    url = "ws" + base_url.removeprefix("http") + f"{STREAM_PATH}?text={quote(text, safe='')}"
    chunks: list[bytes] = []
    started: dict[str, object] = {}
    finished = False
    try:
        with connect(
            url, open_timeout=timeout, close_timeout=5, max_size=2**24, proxy=None
        ) as socket:
            deadline = time.monotonic() + timeout
            while True:
                message = socket.recv(timeout=max(0.0, deadline - time.monotonic()))
                if isinstance(message, bytes):
                    chunks.append(message)
                    continue
                frame = json.loads(message)
                if frame.get("type") == "error":
                    raise AudioFetchError(f"error frame: {frame.get('error')}")
                if frame.get("event") == "started":
                    started = frame
                elif frame.get("event") == "finished":
                    finished = True
    except TimeoutError:
        raise AudioFetchError(f"no complete stream within {timeout:g} s") from None
    except ConnectionClosed as exc:
        # The server closes after the last frame: 1000 is the clean end of a stream.
        if exc.rcvd is None or exc.rcvd.code != CLOSE_NORMAL:
            raise AudioFetchError(f"the stream closed: {exc}") from None
    except WebSocketException as exc:
        raise AudioFetchError(f"{type(exc).__name__}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise AudioFetchError(f"{type(exc).__name__}: {exc}") from None
    if not finished:
        raise AudioFetchError("the stream closed without a 'finished' frame")
    rate = started.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool):
        raise AudioFetchError(f"the 'started' frame gave no sample rate ({started!r})")
    return SpokenAudio(str(started.get("engine", "")), rate, b"".join(chunks))


def _since(started: float) -> float:
    return time.perf_counter() - started

"""``vibevoice_ci.smoke.checks``: the pure evaluators behind the smoke session."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from vibevoice_ci.core.config import AgentSpeechCheckConfig, SpeechCheckConfig
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.smoke.checks import (
    MAX_AUDIO_SECONDS,
    MIN_AUDIO_SECONDS,
    MIN_RMS,
    AudioFetchError,
    SpokenAudio,
    check_speech,
    evaluate_audio,
    evaluate_metrics,
    evaluate_speech,
    evaluate_status,
    rms_int16,
    synthesis_request_count,
)
from vibevoice_ci.smoke.speech import SpeechScore, word_recall

RATE = 22050
int16s = st.integers(-32768, 32767)


def reference_rms(pcm: bytes) -> float:
    """RMS computed independently: decode each pair by hand, sum exactly with fsum."""
    samples = [
        int.from_bytes(pcm[i : i + 2], "little", signed=True) for i in range(0, len(pcm) - 1, 2)
    ]
    if not samples:
        return 0.0
    return math.sqrt(math.fsum(s * s for s in samples) / len(samples))


def pack(samples: list[int]) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def sine(
    seconds: float, *, rate: int = RATE, amplitude: float = 8000.0, hz: float = 440.0
) -> bytes:
    count = round(seconds * rate)
    return pack([round(amplitude * math.sin(2 * math.pi * hz * n / rate)) for n in range(count)])


# --- rms_int16 --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(int16s, max_size=400))
def test_rms_matches_reference(samples: list[int]) -> None:
    pcm = pack(samples)

    assert rms_int16(pcm) == pytest.approx(reference_rms(pcm), rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=401))
def test_rms_of_arbitrary_bytes_matches_reference(pcm: bytes) -> None:
    assert rms_int16(pcm) == pytest.approx(reference_rms(pcm), rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=200), st.integers(1, 32))
def test_rms_scales_linearly_with_amplitude(samples: list[int], factor: int) -> None:
    scaled = pack([s * factor for s in samples])

    assert rms_int16(scaled) == pytest.approx(factor * rms_int16(pack(samples)), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(int16s, max_size=200), st.integers(0, 255))
def test_rms_ignores_a_trailing_odd_byte(samples: list[int], extra: int) -> None:
    pcm = pack(samples)

    assert rms_int16(pcm + bytes([extra])) == rms_int16(pcm)


@settings(max_examples=100, deadline=None)
@given(st.lists(int16s, min_size=1, max_size=200))
def test_rms_is_bounded_by_the_peak(samples: list[int]) -> None:
    assert 0.0 <= rms_int16(pack(samples)) <= max(abs(s) for s in samples) + 1e-9


@pytest.mark.parametrize("length", [0, 1, 2, 2000, 44100])
def test_rms_of_silence_is_zero(length: int) -> None:
    assert rms_int16(bytes(length)) == 0.0


def test_rms_known_values() -> None:
    assert rms_int16(pack([3, -4, 3, -4])) == pytest.approx(math.sqrt(12.5))
    assert rms_int16(pack([-32768])) == 32768.0  # signed: 0x8000 is the most negative sample
    assert rms_int16(b"\x00\x80") == 32768.0  # little-endian
    assert rms_int16(pack([1000] * 10)) == 1000.0


def test_rms_of_a_sine_is_amplitude_over_root_two() -> None:
    assert rms_int16(sine(1.0, amplitude=10000)) == pytest.approx(10000 / math.sqrt(2), rel=1e-3)


# --- evaluate_audio ---------------------------------------------------------------------------


def test_one_second_sine_passes() -> None:
    result = evaluate_audio(sine(1.0), RATE, "audio/L16; rate=22050; channels=1")

    assert result.passed, result.detail
    assert result.name == "synthesis"
    assert "1.00 s" in result.detail
    assert "22050 Hz" in result.detail
    assert result.line().startswith("PASS synthesis: ")


@pytest.mark.parametrize("content_type", ["audio/pcm", "audio/wav", "audio/L16;rate=22050"])
def test_any_audio_content_type_passes(content_type: str) -> None:
    assert evaluate_audio(sine(1.0), RATE, content_type).passed


def test_silence_fails() -> None:
    result = evaluate_audio(bytes(RATE * 2), RATE, "audio/pcm")

    assert not result.passed
    assert "silent" in result.detail
    assert result.line().startswith("FAIL synthesis: ")


def test_quiet_noise_just_below_threshold_fails_and_at_threshold_passes() -> None:
    below = pack([int(MIN_RMS) - 1, -(int(MIN_RMS) - 1)] * RATE)
    at = pack([int(MIN_RMS), -int(MIN_RMS)] * RATE)

    assert not evaluate_audio(below, RATE, "audio/pcm").passed
    assert evaluate_audio(at, RATE, "audio/pcm").passed


@pytest.mark.parametrize("seconds", [0.0, 0.01, 0.1, 0.29])
def test_too_short_fails(seconds: float) -> None:
    result = evaluate_audio(sine(seconds), RATE, "audio/pcm")

    assert not result.passed
    assert f"expected {MIN_AUDIO_SECONDS}-{MAX_AUDIO_SECONDS} s" in result.detail


@pytest.mark.parametrize("seconds", [15.1, 20.0, 60.0])
def test_too_long_fails(seconds: float) -> None:
    result = evaluate_audio(sine(seconds), RATE, "audio/pcm")

    assert not result.passed
    assert f"expected {MIN_AUDIO_SECONDS}-{MAX_AUDIO_SECONDS} s" in result.detail


@pytest.mark.parametrize("seconds", [MIN_AUDIO_SECONDS, MAX_AUDIO_SECONDS])
def test_length_bounds_are_inclusive(seconds: float) -> None:
    assert evaluate_audio(sine(seconds), RATE, "audio/pcm").passed


def test_length_depends_on_the_sample_rate() -> None:
    one_second_at_22k = sine(1.0)

    # The same bytes at 16 kHz last longer, at 200 kHz far shorter than the minimum.
    assert evaluate_audio(one_second_at_22k, 16000, "audio/pcm").passed
    assert not evaluate_audio(one_second_at_22k, 200_000, "audio/pcm").passed


def test_odd_byte_count_fails() -> None:
    result = evaluate_audio(sine(1.0) + b"\x01", RATE, "audio/pcm")

    assert not result.passed
    assert "not whole int16 samples" in result.detail


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "", "application/octet-stream", "Audio"]
)
def test_non_audio_content_type_fails(content_type: str) -> None:
    result = evaluate_audio(sine(1.0), RATE, content_type)

    assert not result.passed
    assert "is not audio" in result.detail


@pytest.mark.parametrize("rate", [0, -1, -22050])
def test_non_positive_sample_rate_fails(rate: int) -> None:
    result = evaluate_audio(sine(1.0), rate, "audio/pcm")

    assert not result.passed
    assert "sample rate" in result.detail


@settings(max_examples=100, deadline=None)
@given(
    st.binary(max_size=2000),
    st.integers(-10, 100_000),
    st.sampled_from(["audio/pcm", "text/html", ""]),
)
def test_evaluate_audio_never_raises(pcm: bytes, rate: int, content_type: str) -> None:
    result = evaluate_audio(pcm, rate, content_type)

    assert isinstance(result, Outcome)
    assert result.name == "synthesis"
    if result.passed:
        assert content_type.startswith("audio/")
        assert rate > 0
        assert len(pcm) % 2 == 0
        assert MIN_AUDIO_SECONDS <= len(pcm) / 2 / rate <= MAX_AUDIO_SECONDS
        assert rms_int16(pcm) >= MIN_RMS


# --- evaluate_status --------------------------------------------------------------------------


def test_status_200_passes() -> None:
    result = evaluate_status("health", 200, 12.4)

    assert result == Outcome("health", Status.PASS, "HTTP 200 in 12 ms")


@pytest.mark.parametrize("status", [201, 204, 404, 500, 503])
def test_other_statuses_fail_naming_the_expected_one(status: int) -> None:
    result = evaluate_status("ready", status, 3.0)

    assert not result.passed
    assert result.detail == f"HTTP {status} in 3 ms (expected 200)"


def test_custom_expected_status() -> None:
    assert evaluate_status("x", 204, 1.0, expected=204).passed
    assert not evaluate_status("x", 200, 1.0, expected=204).passed


# --- synthesis_request_count / evaluate_metrics with real exposition text ---------------------


class FakeService:
    """A registry shaped like the tts service's: ``tts_requests_total{endpoint,status}``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tts_requests", "Requests handled", ("endpoint", "status"), registry=self.registry
        )
        self.latency = Histogram(
            "tts_synthesis_seconds", "Synthesis time", ("endpoint",), registry=self.registry
        )
        # Traffic the smoke check must not count: probes, failures, the streaming endpoint.
        self.requests.labels(endpoint="/health", status="200").inc(5)
        self.requests.labels(endpoint="/ready", status="200").inc(3)
        self.requests.labels(endpoint="/v1/tts", status="422").inc(2)
        self.requests.labels(endpoint="/stream", status="101").inc()
        self.latency.labels(endpoint="/v1/tts").observe(0.2)

    def scrape(self) -> str:
        return generate_latest(self.registry).decode("utf-8")

    def synthesise(self, status: str = "200") -> None:
        self.requests.labels(endpoint="/v1/tts", status=status).inc()


def test_count_ignores_other_endpoints_and_failed_requests() -> None:
    service = FakeService()

    assert synthesis_request_count(service.scrape()) == 0.0
    service.synthesise()
    service.synthesise()
    service.synthesise("201")
    service.synthesise("500")
    assert synthesis_request_count(service.scrape()) == 3.0


def test_count_of_empty_text_is_zero() -> None:
    assert synthesis_request_count("") == 0.0


def test_metrics_pass_when_the_synthesis_was_counted() -> None:
    service = FakeService()
    service.synthesise()
    before = service.scrape()
    service.synthesise()
    after = service.scrape()

    result = evaluate_metrics(before, after)

    assert result.passed, result.detail
    assert result.name == "metrics"
    assert "1 -> 2" in result.detail


@pytest.mark.parametrize("missing", ["before", "after"])
def test_metrics_fail_when_a_scrape_failed(missing: str) -> None:
    # A failed "before" scrape used to count as 0, so any counted request passed: without
    # both counts nothing shows that the smoke synthesis itself was counted.
    service = FakeService()
    service.synthesise()
    scraped = service.scrape()

    result = (
        evaluate_metrics(None, scraped) if missing == "before" else evaluate_metrics(scraped, None)
    )

    assert result.status is Status.FAIL
    assert f"GET /metrics {missing} the synthesis did not answer 200" in result.detail


def test_metrics_fail_without_an_increment() -> None:
    service = FakeService()
    service.synthesise()
    before = service.scrape()
    service.requests.labels(endpoint="/health", status="200").inc()  # only a probe happened

    result = evaluate_metrics(before, service.scrape())

    assert not result.passed
    assert "1 -> 1" in result.detail
    assert "not counted" in result.detail


def test_metrics_fail_when_only_a_failed_synthesis_was_counted() -> None:
    service = FakeService()
    before = service.scrape()
    service.synthesise("500")

    assert not evaluate_metrics(before, service.scrape()).passed


def test_metrics_fail_when_the_counter_is_absent() -> None:
    registry = CollectorRegistry()
    Counter("other_requests", "x", registry=registry).inc()

    text = generate_latest(registry).decode()
    assert not evaluate_metrics(text, text).passed


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage text",
        "<html><body>502 Bad Gateway</body></html>",
        "{{{",
        'tts_requests_total{endpoint="/v1/tts",status="200"} lots',
        "\x00\x01",
    ],
)
def test_metrics_garbage_fails_without_raising(garbage: str) -> None:
    service = FakeService()
    service.synthesise()

    assert not evaluate_metrics(service.scrape(), garbage).passed
    result = evaluate_metrics(garbage, service.scrape())
    assert not result.passed
    assert "not Prometheus text format" in result.detail


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_evaluate_metrics_never_raises(text: str) -> None:
    assert isinstance(evaluate_metrics(None, text), Outcome)
    assert evaluate_metrics(text, text).status is Status.FAIL  # nothing was counted in between


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("0", "NaN"),
        ("NaN", "NaN"),
        ("NaN", "3"),
    ],
)
def test_metrics_fail_when_the_counter_is_nan(before: str, after: str) -> None:
    def text(value: str) -> str:
        return f'tts_requests_total{{endpoint="/v1/tts",status="200"}} {value}\n'

    result = evaluate_metrics(text(before), text(after))

    assert not result.passed


# --- the speech check: evaluate_speech and check_speech ----------------------------------------

SPEECH = SpeechCheckConfig(
    sentences=("Please call me back.", "Meet me at 7."),
    min_recall={"piper": 0.75},
    unscored={"espeak": "formant speech scores like noise"},
    agent=AgentSpeechCheckConfig(turn="Please call me back.", min_recall={"piper": 0.5}),
)


def _score(recall: float, transcript: str = "heard") -> SpeechScore:
    return SpeechScore("text", transcript, recall, 2.0)


def test_speech_passes_when_every_sentence_reaches_the_threshold() -> None:
    outcome = evaluate_speech(
        "POST /v1/tts", "piper", [_score(1.0, "please call me back"), _score(0.75)], SPEECH
    )

    assert outcome.status is Status.PASS
    assert outcome.name == "speech POST /v1/tts"
    assert "piper, recall >= 0.75 per sentence" in outcome.detail
    assert "1.00 'please call me back'" in outcome.detail


@pytest.mark.parametrize("low", [0.74, 0.0, math.nan])
def test_speech_fails_when_any_sentence_falls_short(low: float) -> None:
    outcome = evaluate_speech("WS /stream", "piper", [_score(1.0), _score(low)], SPEECH)

    assert outcome.status is Status.FAIL
    assert "1 of 2 sentences below 0.75" in outcome.detail


def test_speech_of_an_unscored_engine_is_unknown_with_the_reason_and_what_was_heard() -> None:
    outcome = evaluate_speech("WS /stream", "espeak", [_score(0.2, "whether it's")], SPEECH)

    assert outcome.status is Status.UNKNOWN
    assert "formant speech scores like noise" in outcome.detail
    assert '0.20 "whether it\'s"' in outcome.detail


def test_speech_of_an_engine_without_a_threshold_is_unknown_never_a_pass() -> None:
    outcome = evaluate_speech("WS /stream", "vibevoice", [_score(1.0)], SPEECH)

    assert outcome.status is Status.UNKNOWN
    assert "no measured recall threshold" in outcome.detail


def test_speech_with_nothing_scored_fails() -> None:
    assert evaluate_speech("WS /stream", "piper", [], SPEECH).status is Status.FAIL


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5))
def test_speech_passes_exactly_when_the_lowest_recall_reaches_the_threshold(
    recalls: list[float],
) -> None:
    outcome = evaluate_speech("POST /v1/tts", "piper", [_score(r) for r in recalls], SPEECH)

    assert outcome.passed == (min(recalls) >= 0.75)


CHECK = "speech WS /stream"
THRESHOLD_TABLE = "[tool.vibevoice-ci.smoke.min_recall]"


@pytest.mark.parametrize(
    ("engine", "recalls", "expected"),
    [
        ("piper", [], Outcome(CHECK, Status.FAIL, "no sentence was checked")),
        (
            "espeak",
            [0.2, 0.9],
            Outcome(
                CHECK,
                Status.UNKNOWN,
                "espeak: not scored (formant speech scores like noise); "
                "heard 0.20 'heard'; 0.90 'heard'",
            ),
        ),
        (
            "vibevoice",
            [1.0],
            Outcome(
                CHECK,
                Status.UNKNOWN,
                f"vibevoice: no measured recall threshold in {THRESHOLD_TABLE}; heard 1.00 'heard'",
            ),
        ),
        (
            "piper",
            [1.0, 0.5, 0.74],
            Outcome(
                CHECK,
                Status.FAIL,
                "piper, recall >= 0.75 per sentence: 1.00 'heard'; 0.50 'heard'; 0.74 'heard' "
                "(2 of 3 sentences below 0.75)",
            ),
        ),
        (
            "piper",
            [0.75, 1.0],
            Outcome(
                CHECK,
                Status.PASS,
                "piper, recall >= 0.75 per sentence: 0.75 'heard'; 1.00 'heard'",
            ),
        ),
    ],
)
def test_each_speech_verdict_is_named_for_its_endpoint_and_says_why(
    engine: str, recalls: list[float], expected: Outcome
) -> None:
    assert evaluate_speech("WS /stream", engine, [_score(r) for r in recalls], SPEECH) == expected


class _Recogniser:
    """Hears the text it is asked about when the audio is b"good", else nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, int]] = []

    def score(self, text: str, pcm: bytes, rate: int) -> SpeechScore:
        self.calls.append((text, pcm, rate))
        heard = text if pcm == b"good" else ""
        return SpeechScore(text, heard, word_recall(text, heard) if heard else 0.0, 1.0)


def test_check_speech_scores_every_sentence_with_the_rate_the_endpoint_gave() -> None:
    recogniser = _Recogniser()

    check = check_speech(
        "WS /stream",
        lambda text: SpokenAudio("piper", 22050, b"good"),
        recogniser,  # type: ignore[arg-type]
        SPEECH,
    )

    assert check.outcome.status is Status.PASS
    assert [call[0] for call in recogniser.calls] == list(SPEECH.sentences)
    assert {call[2] for call in recogniser.calls} == {22050}
    document = check.to_json()
    assert document["endpoint"] == "WS /stream"
    assert document["check"] == "speech WS /stream"
    assert document["status"] == "pass"
    assert document["engine"] == "piper"
    assert document["min_recall"] == 0.75
    assert [s["transcript"] for s in document["sentences"]] == [  # type: ignore[union-attr]
        "Please call me back.",
        "Meet me at 7.",
    ]


def test_check_speech_fails_on_audio_that_says_nothing() -> None:
    check = check_speech(
        "POST /v1/tts",
        lambda text: SpokenAudio("piper", 22050, b"noise"),
        _Recogniser(),  # type: ignore[arg-type]
        SPEECH,
    )

    assert check.outcome.status is Status.FAIL
    assert [score.recall for score in check.scores] == [0.0, 0.0]


def test_check_speech_fails_when_an_endpoint_gives_no_audio_and_keeps_what_it_heard() -> None:
    def fetch(text: str) -> SpokenAudio:
        if text.startswith("Meet"):
            raise AudioFetchError("the stream closed: 1011")
        return SpokenAudio("piper", 22050, b"good")

    check = check_speech("WS /stream", fetch, _Recogniser(), SPEECH)  # type: ignore[arg-type]

    assert check.outcome.status is Status.FAIL
    assert "'Meet me at 7.': the stream closed: 1011" in check.outcome.detail
    assert len(check.scores) == 1

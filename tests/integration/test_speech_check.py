"""The speech check on real audio: Piper's passes, and every planted fault fails it.

Piper synthesizes each configured sentence once per module, in this process; the real
recogniser (PocketSphinx) transcribes it and the smoke session's evaluator judges it with the
threshold from pyproject.toml. Each fault is planted in one sentence's audio at a time, and
must fail the check on its own: a single bad sentence is enough to fail the endpoint.
The same check then runs through the real service, on both endpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pytest

from vibevoice_ci.core.config import SpeechCheckConfig, load_config
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.smoke.checks import (
    SPEECH_ENDPOINTS,
    AudioFetchError,
    evaluate_speech,
    fetch_http_audio,
    fetch_ws_audio,
    run_speech_checks,
)
from vibevoice_ci.smoke.local_service import LocalService
from vibevoice_ci.smoke.speech import Recogniser, SpeechScore
from vibevoice_platform.tts.engines import load_engine
from vibevoice_platform.tts.settings import Settings

# One worker for the whole module: the module's recogniser and Piper audio serve every test.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("speech-check")]

SPEECH = load_config().speech
SENTENCES = SPEECH.sentences
RATE = 22050
Audio = tuple[bytes, int]


@pytest.fixture(scope="module")
def recogniser() -> Recogniser:
    return Recogniser()


@pytest.fixture(scope="module")
def piper_audio() -> dict[str, Audio]:
    """Each configured sentence as Piper says it (22,050 Hz int16 PCM), synthesized once."""
    engine = load_engine("piper", Settings(engine="piper"))
    assert engine.sample_rate == RATE
    return {text: (b"".join(engine.synthesize(text)), engine.sample_rate) for text in SENTENCES}


def _samples(pcm: bytes) -> np.ndarray:  # type: ignore[type-arg]
    return np.frombuffer(pcm, dtype="<i2")


def wrong_rate(text: str, audio: dict[str, Audio]) -> Audio:
    """The stream's 22,050 Hz played as 16,000 Hz (slow and low)."""
    return audio[text][0], 16_000


def byte_swapped(text: str, audio: dict[str, Audio]) -> Audio:
    pcm, rate = audio[text]
    return _samples(pcm).byteswap().tobytes(), rate


def noise(text: str, audio: dict[str, Audio]) -> Audio:
    """White noise as long and as loud as the speech."""
    pcm, rate = audio[text]
    speech = _samples(pcm).astype(np.float64)
    rms = float(np.sqrt(np.mean(speech**2)))
    generated = np.random.default_rng(12).normal(0.0, rms, speech.size)
    return np.clip(generated, -32768, 32767).astype("<i2").tobytes(), rate


def silence(text: str, audio: dict[str, Audio]) -> Audio:
    pcm, rate = audio[text]
    return bytes(len(pcm)), rate


def truncated(text: str, audio: dict[str, Audio]) -> Audio:
    """The stream cut off halfway (on a sample boundary)."""
    pcm, rate = audio[text]
    return pcm[: len(pcm) // 4 * 2], rate


def another_sentence(text: str, audio: dict[str, Audio]) -> Audio:
    """The audio of the next configured sentence, not of the one asked for."""
    other = SENTENCES[(SENTENCES.index(text) + 1) % len(SENTENCES)]
    return audio[other]


FAULTS: list[Callable[[str, dict[str, Audio]], Audio]] = [
    wrong_rate,
    byte_swapped,
    noise,
    silence,
    truncated,
    another_sentence,
]


def _verdict(
    recogniser: Recogniser, heard: dict[str, Audio], config: SpeechCheckConfig = SPEECH
) -> tuple[Status, list[SpeechScore]]:
    scores = [recogniser.score(text, *heard[text]) for text in SENTENCES]
    return evaluate_speech("POST /v1/tts", "piper", scores, config).status, scores


def test_the_configuration_has_sentences_and_a_piper_threshold() -> None:
    assert len(SENTENCES) >= 2
    assert len(set(SENTENCES)) == len(SENTENCES)
    assert 0.5 < SPEECH.min_recall["piper"] < 1.0


def test_piper_audio_passes(recogniser: Recogniser, piper_audio: dict[str, Audio]) -> None:
    status, scores = _verdict(recogniser, piper_audio)

    assert status is Status.PASS, [score.to_json() for score in scores]


def test_a_transcript_depends_only_on_its_own_audio(piper_audio: dict[str, Audio]) -> None:
    """Digital silence leaves the decoder's cepstral mean NaN, noise leaves it skewed: what
    was decoded before must never change what is heard next."""
    text = SENTENCES[0]
    fresh = Recogniser().transcribe(*piper_audio[text])
    used = Recogniser()

    after = []
    for fault in (silence, noise, byte_swapped):
        used.transcribe(*fault(text, piper_audio))
        after.append(used.transcribe(*piper_audio[text]))

    assert after == [fresh] * 3


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.__name__ for fault in FAULTS])
@pytest.mark.parametrize("faulty", SENTENCES)
def test_a_planted_fault_in_one_sentence_fails_the_check(
    recogniser: Recogniser,
    piper_audio: dict[str, Audio],
    fault: Callable[[str, dict[str, Audio]], Audio],
    faulty: str,
) -> None:
    heard = {**piper_audio, faulty: fault(faulty, piper_audio)}

    status, scores = _verdict(recogniser, heard)

    assert status is Status.FAIL, [score.to_json() for score in scores]
    low = [score.text for score in scores if score.recall < SPEECH.min_recall["piper"]]
    assert low == [faulty], [score.to_json() for score in scores]


# --- through the real service -------------------------------------------------------------------


@pytest.fixture
def http(tts_piper: LocalService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tts_piper.url, timeout=60.0, trust_env=False) as client:
        yield client


def test_both_endpoints_of_the_piper_service_pass(tts_piper: LocalService) -> None:
    checks = run_speech_checks(tts_piper.url, SPEECH)

    assert [check.endpoint for check in checks] == list(SPEECH_ENDPOINTS)
    for check in checks:
        assert check.outcome.status is Status.PASS, check.outcome.detail
        assert check.engine == "piper"
        assert [score.text for score in check.scores] == list(SENTENCES)
        assert all(score.audio_seconds > 1.0 for score in check.scores)
        assert "recall >= " in check.outcome.detail


def test_the_espeak_service_is_unknown_with_the_reason_never_a_pass(
    tts_espeak: LocalService,
) -> None:
    checks = run_speech_checks(tts_espeak.url, SPEECH)

    for check in checks:
        assert check.outcome.status is Status.UNKNOWN, check.outcome.detail
        assert check.engine == "espeak"
        assert SPEECH.unscored["espeak"] in check.outcome.detail
        assert len(check.scores) == len(SENTENCES)  # still measured and reported


def test_the_stream_gives_the_same_audio_format_as_the_post(
    tts_piper: LocalService, http: httpx.Client
) -> None:
    posted = fetch_http_audio(http, "Hello there.")
    streamed = fetch_ws_audio(tts_piper.url, "Hello there.")

    assert (posted.engine, posted.sample_rate) == (streamed.engine, streamed.sample_rate)
    assert posted.sample_rate == RATE
    assert abs(len(posted.pcm) - len(streamed.pcm)) < RATE  # Piper's durations vary a little


def test_a_refused_request_is_a_fetch_error_on_both_endpoints(
    tts_piper: LocalService, http: httpx.Client
) -> None:
    with pytest.raises(AudioFetchError, match="HTTP 422"):
        fetch_http_audio(http, "   ")
    with pytest.raises(AudioFetchError, match="error frame"):
        fetch_ws_audio(tts_piper.url, "   ")


def test_an_unreachable_stream_is_a_fetch_error() -> None:
    with pytest.raises(AudioFetchError):
        fetch_ws_audio("http://127.0.0.1:9", "Hello.", timeout=5)

"""The agent's speech check on synthesized audio: a healthy reply passes, each fault fails.

The reply is the local responder's reply to the smoke turn of pyproject.toml, synthesized by
Piper in this process the way the agent speaks it (each sentence on its own, the audio
joined), transcribed by the real recogniser and judged with the agent's threshold. Each fault
is planted in that audio and must fail the check. The same check through the real services
is in tests/integration/test_agent_speech_check.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.smoke.agent_checks import ReplySpeechCheck, check_reply_speech
from vibevoice_ci.smoke.speech import Recogniser
from vibevoice_platform.agent.history import Message
from vibevoice_platform.agent.responders import LocalResponder
from vibevoice_platform.agent.sentences import split_all
from vibevoice_platform.tts.engines import Engine, load_engine
from vibevoice_platform.tts.settings import Settings

SPEECH = load_config().speech
OTHER_TURN = "There are 3 books on the table next to the window."
Audio = tuple[bytes, int]


def reply_to(turn: str) -> str:
    return LocalResponder().reply([Message("user", turn)])


def spoken(engine: Engine, text: str) -> Audio:
    """``text`` as the agent speaks it: one synthesis per sentence, the audio joined."""
    pcm = b"".join(b"".join(engine.synthesize(sentence)) for sentence in split_all(text))
    return pcm, engine.sample_rate


@pytest.fixture(scope="module")
def recogniser() -> Recogniser:
    return Recogniser()


@pytest.fixture(scope="module")
def piper() -> Engine:
    return load_engine("piper", Settings(engine="piper"))


@pytest.fixture(scope="module")
def reply(piper: Engine) -> tuple[str, Audio]:
    text = reply_to(SPEECH.agent_turn)
    return text, spoken(piper, text)


def _samples(pcm: bytes) -> np.ndarray:  # type: ignore[type-arg]
    return np.frombuffer(pcm, dtype="<i2")


def cut_to_half(audio: Audio, piper: Engine) -> Audio:
    return audio[0][: len(audio[0]) // 4 * 2], audio[1]


def cut_to_two_thirds(audio: Audio, piper: Engine) -> Audio:
    return audio[0][: len(audio[0]) // 6 * 4], audio[1]


def silence(audio: Audio, piper: Engine) -> Audio:
    return bytes(len(audio[0])), audio[1]


def noise(audio: Audio, piper: Engine) -> Audio:
    """White noise as long and as loud as the speech."""
    speech = _samples(audio[0]).astype(np.float64)
    rms = float(np.sqrt(np.mean(speech**2)))
    generated = np.random.default_rng(12).normal(0.0, rms, speech.size)
    return np.clip(generated, -32768, 32767).astype("<i2").tobytes(), audio[1]


def byte_swapped(audio: Audio, piper: Engine) -> Audio:
    return _samples(audio[0]).byteswap().tobytes(), audio[1]


def wrong_rate(audio: Audio, piper: Engine) -> Audio:
    """The stream's 22,050 Hz played as 16,000 Hz (slow and low)."""
    return audio[0], 16_000


def another_turns_reply(audio: Audio, piper: Engine) -> Audio:
    """The local responder's reply to another turn: only the echo differs."""
    return spoken(piper, reply_to(OTHER_TURN))


def another_text(audio: Audio, piper: Engine) -> Audio:
    return spoken(piper, SPEECH.sentences[-1])


FAULTS: list[Callable[[Audio, Engine], Audio]] = [
    cut_to_half,
    cut_to_two_thirds,
    silence,
    noise,
    byte_swapped,
    wrong_rate,
    another_turns_reply,
    another_text,
]


def _check(text: str, audio: Audio, recogniser: Recogniser) -> ReplySpeechCheck:
    return check_reply_speech(text, audio[0], audio[1], "piper", recogniser, SPEECH)


def test_the_agent_has_its_own_measured_threshold() -> None:
    assert 0.3 < SPEECH.agent_min_recall["piper"] < 1.0
    assert "piper" not in SPEECH.unscored


def test_the_reply_has_several_sentences_and_echoes_the_turn() -> None:
    text = reply_to(SPEECH.agent_turn)

    assert len(split_all(text)) >= 3
    assert SPEECH.agent_turn.rstrip(".") in text


def test_a_healthy_reply_passes(reply: tuple[str, Audio], recogniser: Recogniser) -> None:
    text, audio = reply

    check = _check(text, audio, recogniser)

    assert check.outcome.status is Status.PASS, check.to_json()
    assert [sentence.text for sentence in check.sentences] == split_all(text)
    assert check.min_recall == SPEECH.agent_min_recall["piper"]
    assert check.audio_seconds == pytest.approx(len(audio[0]) / 2 / audio[1])


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.__name__ for fault in FAULTS])
def test_a_planted_fault_fails_the_check(
    reply: tuple[str, Audio],
    piper: Engine,
    recogniser: Recogniser,
    fault: Callable[[Audio, Engine], Audio],
) -> None:
    text, audio = reply

    check = _check(text, fault(audio, piper), recogniser)

    assert check.outcome.status is Status.FAIL, check.to_json()
    assert "below" in check.outcome.detail


def test_a_reply_cut_short_fails_on_its_last_sentences_not_its_first(
    reply: tuple[str, Audio], piper: Engine, recogniser: Recogniser
) -> None:
    text, audio = reply

    check = _check(text, cut_to_half(audio, piper), recogniser)

    threshold = SPEECH.agent_min_recall["piper"]
    assert check.sentences[0].recall >= threshold, check.to_json()
    assert check.sentences[-1].recall < threshold, check.to_json()


def test_no_audio_at_all_fails(reply: tuple[str, Audio], recogniser: Recogniser) -> None:
    check = _check(reply[0], (b"", 22050), recogniser)

    assert check.outcome.status is Status.FAIL
    assert check.transcript == ""

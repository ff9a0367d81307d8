"""``vibevoice_ci.smoke.speech``: text normalisation, word recall and resampling (pure).

The recogniser itself, and the check on real audio with planted faults, are tested in
tests/integration/test_speech_check.py.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.smoke.speech import (
    RECOGNISER_RATE,
    SentenceRecall,
    SpeechScore,
    aligned_words,
    common_words,
    normalise,
    number_words,
    ordinal_words,
    pcm16_samples,
    resample_pcm16,
    sentence_recalls,
    word_recall,
)

VOCABULARY = set(
    re.findall(
        r"\w+",
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
        "eighty ninety hundred thousand million billion",
    )
)
words = st.lists(st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]))


# --- numbers as words --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (42, "forty two"),
        (100, "one hundred"),
        (105, "one hundred five"),
        (999, "nine hundred ninety nine"),
        (1000, "one thousand"),
        (1250, "one thousand two hundred fifty"),
        (20_000, "twenty thousand"),
        (1_000_001, "one million one"),
        (3_000_000_000, "three billion"),
        (
            999_999_999_999,
            "nine hundred ninety nine billion nine hundred ninety nine million "
            "nine hundred ninety nine thousand nine hundred ninety nine",
        ),
    ],
)
def test_number_words(value: int, spoken: str) -> None:
    assert " ".join(number_words(value)) == spoken


@pytest.mark.parametrize("value", [-1, 10**12])
def test_number_words_out_of_range(value: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        number_words(value)


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (12, "twelfth"),
        (20, "twentieth"),
        (21, "twenty first"),
        (40, "fortieth"),
        (100, "one hundredth"),
    ],
)
def test_ordinal_words(value: int, spoken: str) -> None:
    assert " ".join(ordinal_words(value)) == spoken


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12 - 1), st.integers(0, 10**12 - 1))
def test_distinct_numbers_are_spelled_differently(a: int, b: int) -> None:
    spelled_a = number_words(a)

    assert set(spelled_a) <= VOCABULARY
    assert (spelled_a == number_words(b)) == (a == b)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**12 - 1))
def test_a_written_number_normalises_to_its_words(value: int) -> None:
    assert normalise(str(value)) == number_words(value)
    assert normalise(f"{value:,}") == number_words(value)


# --- normalise ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello world"),
        ("At 9:30, it's 21st!", "at nine thirty it's twenty first"),
        ("We will meet at 7 in the morning.", "we will meet at seven in the morning"),
        (
            "It costs 3.50 or 1,250",
            "it costs three point five zero or one thousand two hundred fifty",
        ),
        ("twenty-one", "twenty one"),
        ("Don\u2019t STOP", "don't stop"),
        ("50% R&D", "fifty percent r and d"),
        ("Café", "cafe"),
        ("mp3", "mp three"),
        ("", ""),
        ("...", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert " ".join(normalise(text)) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_normalise_gives_lowercase_ascii_words_and_is_idempotent(text: str) -> None:
    normalised = normalise(text)

    assert all(re.fullmatch(r"[a-z]+(?:'[a-z]+)*", word) for word in normalised)
    assert normalise(" ".join(normalised)) == normalised


# --- word recall -------------------------------------------------------------------------------


def test_recall_counts_reference_words_heard_in_order() -> None:
    reference = "The quick brown fox jumps over the lazy dog near the river bank."
    heard = "the quick brown fox jumped over the lazy dog near the river bank"

    assert word_recall(reference, heard) == pytest.approx(12 / 13)
    assert word_recall(reference, "") == 0.0
    assert word_recall(reference, reference.upper()) == 1.0


def test_recall_spells_numbers_on_both_sides() -> None:
    assert word_recall("Meet at 7.", "meet at seven") == 1.0
    assert word_recall("Meet at seven.", "meet at 7") == 1.0


def test_words_out_of_order_count_once_for_the_longest_run_in_order() -> None:
    assert word_recall("one two three four", "four three two one") == 0.25


def test_a_reference_without_words_is_an_error() -> None:
    with pytest.raises(ValueError, match="no words"):
        word_recall("?!", "anything")


@settings(max_examples=300, deadline=None)
@given(words.filter(bool), words, words)
def test_recall_bounds_and_monotonicity(
    reference: list[str], heard: list[str], extra: list[str]
) -> None:
    text = " ".join(reference)
    recall = word_recall(text, " ".join(heard))

    assert 0.0 <= recall <= 1.0
    assert word_recall(text, text) == 1.0
    # Words added to what was heard never lower the recall.
    assert word_recall(text, " ".join([*extra, *heard, *extra])) >= recall


@settings(max_examples=300, deadline=None)
@given(words, words)
def test_common_words_is_a_symmetric_common_subsequence_length(a: list[str], b: list[str]) -> None:
    length = common_words(a, b)

    assert length == common_words(b, a)
    assert length <= min(len(a), len(b))
    assert common_words(a, a) == len(a)


# --- aligning words, and each sentence's recall -----------------------------------------------

sentences = st.lists(words.filter(bool).map(lambda ws: " ".join(ws).capitalize() + "."), max_size=5)


@settings(max_examples=300, deadline=None)
@given(words, words)
def test_the_alignment_is_a_longest_common_subsequence(a: list[str], b: list[str]) -> None:
    matches = aligned_words(a, b)
    matched = [(i, j) for i, j in enumerate(matches) if j is not None]

    assert len(matches) == len(a)
    assert len(matched) == common_words(a, b)
    assert all(a[i] == b[j] for i, j in matched)
    heard = [j for _, j in matched]
    assert heard == sorted(set(heard))  # in order, each hypothesis word used once


@settings(max_examples=300, deadline=None)
@given(words, words)
def test_the_alignment_credits_the_earliest_reference_words(a: list[str], b: list[str]) -> None:
    """Where an unmatched reference word could take the hypothesis word of the next matched
    one (the same word, heard after the previous match), the earlier word gets it."""
    matches = aligned_words(a, b)
    matched = [i for i, j in enumerate(matches) if j is not None]

    for i, j in enumerate(matches):
        later = [k for k in matched if k > i]
        if j is not None or not later:
            continue
        earlier = [matches[k] for k in matched if k < i]
        heard_at = matches[later[0]]
        assert heard_at is not None
        floor = earlier[-1] if earlier and earlier[-1] is not None else -1
        assert not (a[i] == a[later[0]] and floor < heard_at), (a, b, matches)


def test_a_cut_stream_leaves_the_last_words_unmatched_not_the_first() -> None:
    said = ["this", "is", "it", "this", "is"]

    assert aligned_words(said, ["this", "is"]) == [0, 1, None, None, None]
    assert aligned_words(said, ["is", "this", "is"]) == [None, 0, None, 1, 2]


@settings(max_examples=300, deadline=None)
@given(sentences, words)
def test_sentence_recalls_are_bounded_and_add_up_to_the_whole_recall(
    text: list[str], heard: list[str]
) -> None:
    transcript = " ".join(heard)
    recalls = sentence_recalls(text, transcript)

    assert [recall.text for recall in recalls] == text
    assert all(0.0 <= recall.recall <= 1.0 for recall in recalls)
    assert all(recall.heard in transcript for recall in recalls)
    if text:
        counts = [len(normalise(sentence)) for sentence in text]
        weighted = sum(r.recall * n for r, n in zip(recalls, counts, strict=True)) / sum(counts)
        assert weighted == pytest.approx(word_recall(" ".join(text), transcript))


@settings(max_examples=300, deadline=None)
@given(sentences, st.integers(0, 5))
def test_a_transcript_of_the_first_sentences_recalls_them_fully_and_not_the_rest(
    text: list[str], said: int
) -> None:
    said = min(said, len(text))
    transcript = " ".join(text[:said])

    recalls = sentence_recalls(text, transcript)

    assert [recall.recall for recall in recalls] == [1.0] * said + [0.0] * (len(text) - said)
    assert [recall.heard for recall in recalls[:said]] == [
        " ".join(normalise(sentence)) for sentence in text[:said]
    ]


def test_each_sentence_is_credited_with_what_was_heard_of_it() -> None:
    text = ["You said: meet me at 7.", "This is the local responder.", "..."]
    heard = "you said meet me at seven this is the vocal responder"

    recalls = sentence_recalls(text, heard)

    assert recalls == [
        SentenceRecall("You said: meet me at 7.", "you said meet me at seven", 1.0),
        SentenceRecall("This is the local responder.", "this is the vocal responder", 0.8),
    ]
    assert recalls[1].to_json() == {
        "text": "This is the local responder.",
        "heard": "this is the vocal responder",
        "recall": 0.8,
    }


def test_score_json() -> None:
    score = SpeechScore("Hi there.", "hi there", 1.0, 1.23456)

    assert score.to_json() == {
        "text": "Hi there.",
        "transcript": "hi there",
        "recall": 1.0,
        "audio_seconds": 1.235,
    }


# --- resampling --------------------------------------------------------------------------------


def _tone(hz: float, rate: int, seconds: float = 1.0) -> bytes:
    instants = np.arange(round(rate * seconds)) / rate
    return np.rint(8000 * np.sin(2 * math.pi * hz * instants)).astype("<i2").tobytes()


@pytest.mark.parametrize("rate", [22050, 24000, 44100, 8000])
def test_resampling_keeps_duration_and_pitch(rate: int) -> None:
    pcm = _tone(440.0, rate)

    out = pcm16_samples(resample_pcm16(pcm, rate))

    assert out.size == pytest.approx(RECOGNISER_RATE, abs=1)
    spectrum = np.abs(np.fft.rfft(out))
    peak_hz = np.argmax(spectrum) * RECOGNISER_RATE / out.size
    assert peak_hz == pytest.approx(440.0, abs=2.0)
    assert np.sqrt(np.mean(out**2)) == pytest.approx(8000 / math.sqrt(2), rel=0.02)


def test_resampling_at_the_same_rate_is_the_identity() -> None:
    pcm = _tone(300.0, RECOGNISER_RATE, 0.1)

    assert resample_pcm16(pcm, RECOGNISER_RATE) == pcm
    assert resample_pcm16(b"", 22050) == b""
    assert resample_pcm16(pcm + b"\x01", RECOGNISER_RATE) == pcm  # an odd byte is dropped


def test_resampling_clips_instead_of_wrapping() -> None:
    pcm = np.array([32767, 32767, -32768, -32768] * 100, dtype="<i2").tobytes()

    out = pcm16_samples(resample_pcm16(pcm, 22050))

    assert out.max() <= 32767
    assert out.min() >= -32768


@pytest.mark.parametrize(("rate", "target"), [(0, 16000), (22050, 0), (-1, 16000)])
def test_resampling_needs_positive_rates(rate: int, target: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        resample_pcm16(b"\x00\x00", rate, target)

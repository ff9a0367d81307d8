"""Does the audio say the text? Scoring (pure) and an offline recogniser (the one edge).

The smoke session's speech check synthesizes fixed sentences, transcribes the audio with
PocketSphinx (its US English models ship in the PyPI wheel, so it runs offline) and scores
the transcript's **word recall**: the share of the reference's words that the transcript
says, in order (the longest common subsequence of the two word lists, over the reference's
length). Both sides are normalised first: case, punctuation, and numbers as words.

Everything here except :class:`Recogniser` is pure and needs neither the recogniser nor
audio files; ``pocketsphinx`` is imported only when a recogniser is built.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vibevoice_ci.core.reports import report_json
from vibevoice_ci.smoke import reports

RECOGNISER_RATE = 16_000
"""The sample rate PocketSphinx's US English acoustic model was trained on."""

_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
# A number as written in text: 7, 1,250, 3.14, 21st; commas must group in threes.
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?(?![\w])", re.IGNORECASE
)
# Digits the pattern above leaves (inside a word such as "mp3", after a second point).
_DIGITS = re.compile(r"\d+")
# A word: ASCII letters, with inner apostrophes ("don't", "o'clock").
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
_SYMBOLS = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at "}
_LARGEST = 10**12


def number_words(value: int) -> list[str]:
    """``value`` (0 to 10**12 - 1) spelled as US English words, e.g. 1250 ->
    ``one thousand two hundred fifty``; no "and", no hyphens."""
    if not 0 <= value < _LARGEST:
        raise ValueError(f"{value} is outside 0 to {_LARGEST - 1}")
    if value < 20:
        return [_ONES[value]]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    for scale, name in _SCALES:
        if value >= scale:
            high, rest = divmod(value, scale)
            return [*number_words(high), name, *(number_words(rest) if rest else [])]
    raise AssertionError("unreachable")  # pragma: no cover


def ordinal_words(value: int) -> list[str]:
    """``value`` as an ordinal: 1 -> ``first``, 21 -> ``twenty first``, 40 -> ``fortieth``."""
    words = number_words(value)
    last = words[-1]
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return [*words[:-1], last]


def _spell_number(match: re.Match[str]) -> str:
    whole, fraction, suffix = match.group(1), match.group(2), match.group(3)
    value = int(whole.replace(",", ""))
    if value >= _LARGEST:
        return _spell_digits(whole.replace(",", ""))
    if suffix and not fraction:
        return " ".join(ordinal_words(value))
    words = number_words(value)
    if fraction:
        words += ["point", *(_ONES[int(digit)] for digit in fraction)]
    return " ".join(words)


def normalise(text: str) -> list[str]:
    """The words of ``text`` for scoring: lower case, numbers spelled out, punctuation gone.

    ``"At 9:30, it's 21st!"`` -> ``['at', 'nine', 'thirty', "it's", 'twenty', 'first']``.
    Hyphens and other punctuation separate words; an apostrophe inside a word stays; ``%``,
    ``&``, ``+`` and ``@`` are read out; accents are dropped and other letters than a-z
    separate words (the recogniser writes US English in ASCII). Years are read as plain
    numbers (1999 -> "one thousand nine hundred ninety nine"), so a reference sentence
    should not contain one.
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    lowered = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    for symbol, words in _SYMBOLS.items():
        lowered = lowered.replace(symbol, words)
    spelled = _NUMBER.sub(lambda match: f" {_spell_number(match)} ", lowered)
    spelled = _DIGITS.sub(lambda match: f" {_spell_digits(match.group())} ", spelled)
    return _WORD.findall(spelled)


def _spell_digits(digits: str) -> str:
    value = int(digits)
    if value >= _LARGEST:
        return " ".join(_ONES[int(digit)] for digit in digits)
    return " ".join(number_words(value))


def common_words(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """The length of the longest common subsequence of two word lists."""
    previous = [0] * (len(hypothesis) + 1)
    for word in reference:
        current = [0]
        for index, other in enumerate(hypothesis):
            if word == other:
                current.append(previous[index] + 1)
            else:
                current.append(max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]


def word_recall(reference: str, transcript: str) -> float:
    """The share of ``reference``'s words that ``transcript`` says, in order (0.0 to 1.0).

    Both are normalised (:func:`normalise`). Extra words in the transcript cost nothing;
    words out of order count once for the longest run in order. A reference without any
    word is a ValueError: there is nothing to recall.
    """
    expected = normalise(reference)
    if not expected:
        raise ValueError(f"reference {reference!r} has no words")
    return common_words(expected, normalise(transcript)) / len(expected)


def aligned_words(reference: Sequence[str], hypothesis: Sequence[str]) -> list[int | None]:
    """For each reference word, the index of the hypothesis word it is matched to in one
    longest common subsequence of the two, or None where it is not heard.

    Of the many longest common subsequences, this is the earliest: each reference word is
    matched to the first hypothesis word that still allows a longest one, so a word heard
    once is credited to the first place it could belong to, never to a later one (a cut
    stream leaves the last words unmatched, not the first). The matched indices increase,
    and there are :func:`common_words` of them.
    """
    rows, columns = len(reference), len(hypothesis)
    # after[i][j]: the longest common subsequence of reference[i:] and hypothesis[j:].
    after = [[0] * (columns + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(columns - 1, -1, -1):
            if reference[i] == hypothesis[j]:
                after[i][j] = after[i + 1][j + 1] + 1
            else:
                after[i][j] = max(after[i + 1][j], after[i][j + 1])
    matches: list[int | None] = [None] * rows
    i = j = 0
    while i < rows and j < columns:
        if reference[i] == hypothesis[j]:
            matches[i] = j
            i, j = i + 1, j + 1
        elif after[i][j + 1] >= after[i + 1][j]:
            j += 1  # skipping the hypothesis word keeps the earlier reference word in play
        else:
            i += 1
    return matches


@dataclass(frozen=True)
class SentenceRecall:
    """One sentence of a longer text: what of the transcript was aligned to it, and its recall."""

    text: str
    heard: str
    recall: float

    def report(self) -> reports.SentenceRecall:
        return reports.SentenceRecall(
            text=self.text, heard=self.heard, recall=round(self.recall, 4)
        )

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = report_json(self.report())
        return document


def sentence_recalls(sentences: Sequence[str], transcript: str) -> list[SentenceRecall]:
    """Each sentence's word recall, from one alignment of the whole text with the transcript.

    The sentences are scored together, as they were spoken (one after another in one
    stream): the transcript is aligned with all their words at once (:func:`aligned_words`),
    so a transcript word counts for one sentence only, in order. ``heard`` is the stretch of
    the transcript from the first to the last word matched to the sentence ("" for none).
    Sentences without any word (after :func:`normalise`) are left out: nothing is said for
    them. The recalls, weighted by the sentences' word counts, average to the whole text's
    :func:`word_recall`.
    """
    spoken = [(sentence, normalise(sentence)) for sentence in sentences]
    spoken = [(sentence, words) for sentence, words in spoken if words]
    heard = normalise(transcript)
    matches = aligned_words([word for _, words in spoken for word in words], heard)
    recalls: list[SentenceRecall] = []
    start = 0
    for sentence, words in spoken:
        own = [index for index in matches[start : start + len(words)] if index is not None]
        start += len(words)
        stretch = " ".join(heard[own[0] : own[-1] + 1]) if own else ""
        recalls.append(SentenceRecall(sentence, stretch, len(own) / len(words)))
    return recalls


def pcm16_samples(pcm: bytes) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Little-endian int16 PCM as float samples (a trailing odd byte is dropped)."""
    usable = len(pcm) - len(pcm) % 2
    return np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float64)


def resample_pcm16(pcm: bytes, rate: int, target: int = RECOGNISER_RATE) -> bytes:
    """Little-endian int16 mono PCM at ``rate`` as the same at ``target`` Hz.

    Linear interpolation (``numpy.interp``) at the new sample instants: plain, and enough for
    a recogniser whose features stop well below the new Nyquist frequency.
    """
    if rate <= 0 or target <= 0:
        raise ValueError(f"sample rates must be positive, got {rate} and {target}")
    samples = pcm16_samples(pcm)
    if rate == target or samples.size == 0:
        return bytes(samples.astype("<i2").tobytes())
    count = int(samples.size * target / rate)
    instants = np.arange(count) * (rate / target)
    resampled = np.interp(instants, np.arange(samples.size), samples)
    return bytes(np.clip(np.rint(resampled), -32768, 32767).astype("<i2").tobytes())


@dataclass(frozen=True)
class SpeechScore:
    """What the recogniser heard for one sentence, and how much of the sentence that was."""

    text: str
    transcript: str
    recall: float
    audio_seconds: float

    def report(self) -> reports.SentenceScore:
        return reports.SentenceScore(
            text=self.text,
            transcript=self.transcript,
            recall=round(self.recall, 4),
            audio_seconds=round(self.audio_seconds, 3),
        )

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = report_json(self.report())
        return document


class RecogniserUnavailableError(RuntimeError):
    """PocketSphinx is not installed or its models would not load."""


class Recogniser:
    """PocketSphinx with its bundled US English models and general language model.

    No grammar is built from the expected text: the recogniser must hear the words, not be
    steered towards them. Loading takes about a second; one instance serves a whole run.
    ``transcribe`` is serialised (a decoder holds one utterance at a time), and each call
    depends only on its own audio.
    """

    def __init__(self) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:
            raise RecogniserUnavailableError(
                f"pocketsphinx is not installed ({exc}); it is in the project's ci extra: "
                "uv sync --extra ci"
            ) from None
        try:
            self._decoder = pocketsphinx.Decoder(samprate=RECOGNISER_RATE, loglevel="FATAL")
        except (RuntimeError, ValueError) as exc:
            raise RecogniserUnavailableError(f"pocketsphinx could not load: {exc}") from None
        self._lock = threading.Lock()

    def transcribe(self, pcm: bytes, rate: int) -> str:
        """The words heard in little-endian int16 mono PCM at ``rate`` Hz ("" for none)."""
        audio = resample_pcm16(pcm, rate)
        with self._lock:
            # Each transcription starts from the configured cepstral mean: the decoder keeps
            # the last utterance's (NaN after digital silence). Batch normalisation recomputes
            # it anyway; resetting costs nothing and keeps every transcript its audio's alone.
            self._decoder.reinit_feat()
            self._decoder.start_utt()
            self._decoder.process_raw(audio, full_utt=True)
            self._decoder.end_utt()
            hypothesis = self._decoder.hyp()
        return "" if hypothesis is None else str(hypothesis.hypstr)

    def score(self, text: str, pcm: bytes, rate: int) -> SpeechScore:
        """Transcribe ``pcm`` and score it against ``text``."""
        transcript = self.transcribe(pcm, rate)
        seconds = (len(pcm) // 2) / rate if rate > 0 else 0.0
        return SpeechScore(text, transcript, word_recall(text, transcript), seconds)

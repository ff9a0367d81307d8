"""Splitting text into the segments an engine synthesizes one at a time.

Time to first audio is the time the engine needs for the *first* segment, so a long first
sentence is cut early: at its first clause boundary (comma, semicolon, colon, dash) within
:data:`FIRST_MAX_WORDS` words, or failing that after :data:`FIRST_FALLBACK_WORDS` words.
Later sentences stay whole for better prosody unless they exceed :data:`MAX_WORDS`, in which
case they are cut at their last clause boundary that fits (or at the word limit).

Segments are built from the whitespace-separated words of the input, joined by single spaces:
no word is ever dropped, changed or invented, which ``" ".join(segments).split() ==
text.split()`` expresses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FIRST_MAX_WORDS = 6
"""The first segment never has more words than this."""

FIRST_MIN_WORDS = 2
"""A clause split of the first sentence leaves at least this many words in front of it."""

FIRST_FALLBACK_WORDS = 4
"""Where a long first sentence with no usable clause boundary is cut."""

MAX_WORDS = 30
"""No segment has more words than this."""

# Written as escapes: curly quotes, guillemets, the ellipsis, CJK full stops and full-width
# punctuation, en and em dashes.
_CLOSERS = "\"')]}\u201d\u2019\u00bb"
_OPENERS = "\"'([{\u201c\u2018\u00ab"
_SENTENCE_MARKS = ".!?\u2026\u3002\uff01\uff1f"
_CLAUSE_MARKS = ",;:\uff0c\uff1b\uff1a"
_DASHES = "\\-\u2013\u2014"
_SENTENCE_END = re.compile(rf"[{re.escape(_SENTENCE_MARKS)}]+[{re.escape(_CLOSERS)}]*$")
_CLAUSE_END = re.compile(
    rf"(?:[{re.escape(_CLAUSE_MARKS)}]|[{_DASHES}]{{1,2}})[{re.escape(_CLOSERS)}]*$"
)
_WORD = re.compile(r"\S+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ABBREVIATIONS = frozenset(
    {"mr.", "mrs.", "ms.", "dr.", "prof.", "sr.", "jr.", "st.", "vs.", "e.g.", "i.e.", "mt."}
)


def split_sentences(text: str) -> list[list[str]]:
    """Split ``text`` into sentences, each a list of its words.

    A sentence ends after a word that ends in ``.``, ``!``, ``?`` or ``…`` (optionally followed
    by closing quotes or brackets), except for common abbreviations and single-letter initials,
    and at blank lines (paragraph breaks).
    """
    sentences: list[list[str]] = []
    current: list[str] = []
    previous_end = 0
    for match in _WORD.finditer(text):
        if current and _is_paragraph_break(text[previous_end : match.start()]):
            sentences.append(current)
            current = []
        word = match.group()
        current.append(word)
        previous_end = match.end()
        if _ends_sentence(word):
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def segment(
    text: str,
    *,
    first_max_words: int = FIRST_MAX_WORDS,
    first_min_words: int = FIRST_MIN_WORDS,
    first_fallback_words: int = FIRST_FALLBACK_WORDS,
    max_words: int = MAX_WORDS,
) -> list[str]:
    """Return the segments to synthesize, in order (an empty list for blank text)."""
    if not 1 <= first_min_words <= first_max_words:
        raise ValueError("need 1 <= first_min_words <= first_max_words")
    if not 1 <= first_fallback_words <= first_max_words:
        raise ValueError("need 1 <= first_fallback_words <= first_max_words")
    if max_words < first_max_words:
        raise ValueError("need max_words >= first_max_words")

    pieces: list[list[str]] = []
    for index, words in enumerate(split_sentences(text)):
        if index == 0 and len(words) > first_max_words:
            cut = _first_clause_cut(words, first_min_words, first_max_words)
            if cut is None:
                cut = first_fallback_words
            pieces.append(words[:cut])
            words = words[cut:]
        pieces.extend(_split_long(words, max_words))
    return [" ".join(words) for words in pieces]


def first_segment(text: str) -> str:
    """The first segment :func:`segment` would produce (``""`` for blank text)."""
    segments = segment(text)
    return segments[0] if segments else ""


def has_speakable_text(text: str) -> bool:
    """Whether ``text`` has at least one letter or digit (anything else says nothing)."""
    return any(character.isalnum() for character in text)


def clean_text(text: str) -> str:
    """``text`` with control characters (NUL, escape, C1 codes) turned into spaces and lone
    surrogates into U+FFFD, so that every engine can take it (Piper refuses NUL, and UTF-8
    cannot encode a lone surrogate)."""
    cleaned = _CONTROL.sub(" ", text)
    if _SURROGATE.search(cleaned):
        cleaned = _SURROGATE.sub("\ufffd", cleaned)
    return cleaned


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a UTF-16 surrogate on its own (not valid Unicode text)."""
    return _SURROGATE.search(text) is not None


def _first_clause_cut(words: Sequence[str], minimum: int, maximum: int) -> int | None:
    """Number of words before the earliest usable clause boundary, or ``None``."""
    for count in range(minimum, min(maximum, len(words) - 1) + 1):
        if _ends_clause(words[count - 1]):
            return count
    return None


def _split_long(words: list[str], max_words: int) -> list[list[str]]:
    """Cut ``words`` into runs of at most ``max_words``, preferring clause boundaries."""
    runs: list[list[str]] = []
    while len(words) > max_words:
        cut = max_words
        for count in range(max_words, 0, -1):
            if _ends_clause(words[count - 1]):
                cut = count
                break
        runs.append(words[:cut])
        words = words[cut:]
    if words:
        runs.append(words)
    return runs


def _ends_sentence(word: str) -> bool:
    if not _SENTENCE_END.search(word):
        return False
    bare = word.lstrip(_OPENERS).lower()
    if bare in _ABBREVIATIONS:
        return False
    # A single letter followed by a period is an initial ("J. R. R. Tolkien").
    return not (len(bare) == 2 and bare[0].isalpha() and bare[1] == ".")


def _ends_clause(word: str) -> bool:
    return bool(_CLAUSE_END.search(word)) and not _ends_sentence(word)


def _is_paragraph_break(gap: str) -> bool:
    normalised = gap.replace("\r\n", "\n").replace("\r", "\n")
    return normalised.count("\n") >= 2 or "\u2029" in gap
